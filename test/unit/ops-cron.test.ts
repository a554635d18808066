/**
 * The cron evaluator: what an expression means (as Vixie cron reads it) and when it fires next,
 * across time zones and daylight-saving changes.
 */
import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/config/checks.js';
import { CronExpressionError, nextRuns, parseCron } from '../../src/ops/cron-expression.js';
import { cronEscape, crontabLines, shellQuote } from '../../src/ops/crontab.js';
import { instantOf, offsetAt } from '../../src/ops/zoned-time.js';

function next(expr: string, from: string, count = 5, zone = 'UTC'): string[] {
  return nextRuns(parseCron(expr), zone, new Date(from), count).map((d) => d.toISOString());
}

describe('parseCron', () => {
  it('expands lists, ranges, steps and names', () => {
    const s = parseCron('*/15 1-3,22 1,15 JAN-mar mon-FRI');
    expect(s.minutes).toEqual([0, 15, 30, 45]);
    expect(s.hours).toEqual([1, 2, 3, 22]);
    expect([...s.daysOfMonth].sort((a, b) => a - b)).toEqual([1, 15]);
    expect([...s.months].sort()).toEqual([1, 2, 3]);
    expect([...s.daysOfWeek].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('0 0 * * 5-7').daysOfWeek).toEqual(new Set([5, 6, 0]));
    expect(parseCron('10-50/20 * * * *').minutes).toEqual([10, 30, 50]);
    expect(parseCron('5/20 * * * *').minutes).toEqual([5, 25, 45]);
  });

  it('records which day fields start with *', () => {
    expect(parseCron('0 0 * * 1')).toMatchObject({ dayOfMonthStar: true, dayOfWeekStar: false });
    expect(parseCron('0 0 */2 * 1')).toMatchObject({ dayOfMonthStar: true });
    expect(parseCron('0 0 1 * 1')).toMatchObject({ dayOfMonthStar: false, dayOfWeekStar: false });
  });

  it('refuses what the daemon would refuse, naming the field', () => {
    for (const [expr, message] of [
      ['0 2 * *', /5 fields/],
      ['60 * * * *', /minute field "60": 60 is out of range 0-59/],
      ['0 24 * * *', /hour field/],
      ['0 0 0 * *', /day-of-month field/],
      ['0 0 * 13 *', /month field/],
      ['0 0 * * 8', /day-of-week field/],
      ['*/0 * * * *', /step "0"/],
      ['0 0 * * FOO', /"FOO" is not a number or name/],
      ['0 5-1 * * *', /runs backwards/],
      ['@daily', /5 fields/],
    ] as const) {
      expect(() => parseCron(expr), expr).toThrow(CronExpressionError);
      expect(() => parseCron(expr), expr).toThrow(message);
    }
  });

  it('accepts every expression the configuration check accepts (samples)', () => {
    for (const expr of [
      '0 2 * * *',
      '30 3 * * SUN',
      '*/5 * * * *',
      '0 0 1,15 * *',
      '0 4 * * 0,7',
      '5/15 2 * JAN-DEC *',
    ]) {
      expect(cronProblem(expr)).toBeNull();
      expect(() => parseCron(expr)).not.toThrow();
    }
  });
});

describe('nextRuns in UTC', () => {
  it('the shipped nightly schedule', () => {
    expect(next('0 2 * * *', '2026-11-30T08:00:00Z')).toEqual([
      '2026-12-01T02:00:00.000Z',
      '2026-12-02T02:00:00.000Z',
      '2026-12-03T02:00:00.000Z',
      '2026-12-04T02:00:00.000Z',
      '2026-12-05T02:00:00.000Z',
    ]);
  });

  it('is strictly after the start, even when the start is a run time', () => {
    expect(next('0 2 * * *', '2026-11-30T02:00:00Z', 1)).toEqual(['2026-12-01T02:00:00.000Z']);
    expect(next('0 2 * * *', '2026-11-30T01:59:59.999Z', 1)).toEqual(['2026-11-30T02:00:00.000Z']);
    expect(next('* * * * *', '2026-11-30T02:00:30Z', 2)).toEqual([
      '2026-11-30T02:01:00.000Z',
      '2026-11-30T02:02:00.000Z',
    ]);
  });

  it('crosses month and year ends', () => {
    expect(next('45 23 31 * *', '2026-11-01T00:00:00Z', 3)).toEqual([
      '2026-12-31T23:45:00.000Z',
      '2027-01-31T23:45:00.000Z',
      '2027-03-31T23:45:00.000Z',
    ]);
  });

  it('either day field matches when both are restricted, both when one starts with *', () => {
    // 2026-12-01 is a Tuesday.
    expect(next('0 0 13 * 5', '2026-12-01T00:00:00Z', 3)).toEqual([
      '2026-12-04T00:00:00.000Z',
      '2026-12-11T00:00:00.000Z',
      '2026-12-13T00:00:00.000Z',
    ]);
    expect(next('0 0 */2 * 5', '2026-12-01T00:00:00Z', 2)).toEqual([
      '2026-12-11T00:00:00.000Z',
      '2026-12-25T00:00:00.000Z',
    ]);
  });

  it('finds a leap day, and nothing for a date that never exists', () => {
    expect(next('0 12 29 2 *', '2026-11-30T00:00:00Z', 2)).toEqual([
      '2028-02-29T12:00:00.000Z',
      '2032-02-29T12:00:00.000Z',
    ]);
    expect(next('0 0 30 2 *', '2026-11-30T00:00:00Z')).toEqual([]);
  });

  it('Sunday is 0, 7 and SUN', () => {
    const sundays = next('0 4 * * 0', '2026-11-30T00:00:00Z', 2);
    expect(next('0 4 * * 7', '2026-11-30T00:00:00Z', 2)).toEqual(sundays);
    expect(next('0 4 * * sun', '2026-11-30T00:00:00Z', 2)).toEqual(sundays);
    expect(sundays[0]).toBe('2026-12-06T04:00:00.000Z');
  });
});

describe('nextRuns in a zone with daylight saving', () => {
  it('reads the fields as wall-clock time', () => {
    expect(next('0 2 * * *', '2026-11-30T12:00:00Z', 1, 'Europe/Paris')).toEqual([
      '2026-12-01T01:00:00.000Z',
    ]);
    expect(next('0 2 * * *', '2026-07-01T12:00:00Z', 1, 'Europe/Paris')).toEqual([
      '2026-07-02T00:00:00.000Z',
    ]);
    expect(next('30 5 * * *', '2026-11-30T12:00:00Z', 1, 'Asia/Kolkata')).toEqual([
      '2026-12-01T00:00:00.000Z',
    ]);
  });

  it('a wall time skipped in spring fires when the clock jumps, once', () => {
    // Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00Z.
    expect(next('30 2 * * *', '2026-03-28T12:00:00Z', 3, 'Europe/Paris')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    expect(next('*/20 2 * * *', '2026-03-28T12:00:00Z', 2, 'Europe/Paris')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ]);
    // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z.
    expect(next('15 2 * * *', '2026-03-07T12:00:00Z', 1, 'America/New_York')).toEqual([
      '2026-03-08T07:00:00.000Z',
    ]);
  });

  it('a wall time repeated in autumn fires once, at its first occurrence', () => {
    // Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z, so 02:30 happens twice.
    expect(next('30 2 * * *', '2026-10-24T12:00:00Z', 2, 'Europe/Paris')).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('zone helpers agree with the offsets Intl knows', () => {
    expect(offsetAt(Date.parse('2026-01-15T00:00:00Z'), 'Europe/Paris')).toBe(3_600_000);
    expect(offsetAt(Date.parse('2026-07-15T00:00:00Z'), 'Europe/Paris')).toBe(7_200_000);
    expect(offsetAt(Date.parse('2026-07-15T00:00:00Z'), 'UTC')).toBe(0);
    expect(
      new Date(
        instantOf({ year: 2026, month: 7, day: 15, hour: 9, minute: 5 }, 'America/Los_Angeles'),
      ).toISOString(),
    ).toBe('2026-07-15T16:05:00.000Z');
  });
});

describe('crontab lines', () => {
  it('names flock, the absolute binary and the log, in the cron.d format', () => {
    const lines = crontabLines({
      cron: '0  2 * * *',
      timezone: 'UTC',
      user: 'stopword-refresh',
      bin: '/opt/stopword refresh/bin/stopword-refresh',
      args: ['--config', '/etc/stopword-refresh/batch_jobs.yaml'],
      lockFile: '/run/lock/stopword-refresh.lock',
      logFile: '/var/log/stopword-refresh/run-%Y.log',
      path: ['/usr/local/bin', '/usr/bin', '/bin'],
    });
    expect(lines).toEqual([
      'SHELL=/bin/sh',
      'PATH=/usr/local/bin:/usr/bin:/bin',
      'CRON_TZ=UTC',
      "0 2 * * * stopword-refresh flock -n -E 3 /run/lock/stopword-refresh.lock '/opt/stopword refresh/bin/stopword-refresh' run --config /etc/stopword-refresh/batch_jobs.yaml >>/var/log/stopword-refresh/run-\\%Y.log 2>&1",
    ]);
  });

  it('quotes for sh and escapes % for cron', () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('/plain/path-1.2')).toBe('/plain/path-1.2');
    expect(cronEscape('date +%F')).toBe('date +\\%F');
  });
});
