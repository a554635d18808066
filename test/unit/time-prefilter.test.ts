import { describe, expect, it } from 'vitest';
import { parseTime } from '../../src/analysis/document.js';
import { TimePrefilter, utcTimestamp } from '../../src/analysis/time-prefilter.js';
import { prng } from '../support/corpus.js';

const filter = new TimePrefilter('updatedAt');
const at = Date.parse('2026-11-01T00:00:00Z');

function read(line: string): number | null {
  const buf = Buffer.from(`xx${line}yy`);
  return filter.read(buf, 2, buf.length - 2);
}

describe('TimePrefilter', () => {
  it('reads a top-level ISO string or epoch milliseconds', () => {
    expect(read('{"_id":"a","updatedAt":"2026-11-01T00:00:00Z","text":"x"}')).toBe(at);
    expect(read('{"updatedAt" : "2026-11-01T00:00:00Z"}')).toBe(at);
    expect(read(`{"_id":"a", "updatedAt": ${at}}`)).toBe(at);
  });

  it('reads the last of duplicate keys, as JSON.parse does', () => {
    const line =
      '{"updatedAt":"2020-01-01T00:00:00Z","text":"x", "updatedAt" : "2026-11-01T00:00:00Z" }';
    expect(Date.parse((JSON.parse(line) as { updatedAt: string }).updatedAt)).toBe(at);
    expect(read(line)).toBe(at);
    expect(read(`${line}\r`)).toBe(at);
  });

  it('declines whenever it cannot be sure, leaving the line to the parser', () => {
    // The key inside a string value (its quotes are escaped) or in a nested object.
    expect(
      read(
        '{"text":"\\"updatedAt\\":\\"2020-01-01T00:00:00Z\\"","updatedAt":"2026-11-01T00:00:00Z"}',
      ),
    ).toBe(at);
    // A nested key before the top-level one, which closes the line: the top-level one is certain.
    expect(
      read('{"meta":{"updatedAt":"2020-01-01T00:00:00Z"},"updatedAt":"2026-11-01T00:00:00Z"}'),
    ).toBe(at);
    // The top-level key first and a nested one last: not certain which is which.
    expect(
      read('{"updatedAt":"2026-11-01T00:00:00Z","meta":{"updatedAt":"2020-01-01T00:00:00Z"}}'),
    ).toBeNull();
    expect(
      read('{"updatedAt":"2026-11-01T00:00:00Z","meta":{"updatedAt":"2020-01-01T00:00:00Z"} }'),
    ).toBeNull();
    expect(read('{"updatedAt":{"$date":"2026-11-01T00:00:00Z"}}')).toBeNull();
    expect(read('{"updatedAt":"2026-11-01T00:00:00"}')).toBeNull();
    expect(read('{"updatedAt":"2026\\u002d11-01T00:00:00Z"}')).toBeNull();
    expect(read('{"_id":"a"}')).toBeNull();
    expect(read('{"updatedAt":null}')).toBeNull();
  });

  it('reads UTC timestamps from their bytes exactly as the parser reads them', () => {
    const random = prng(7);
    const pick = (values: readonly string[]): string =>
      values[Math.floor(random() * values.length)]!;
    const two = (n: number): string => String(n).padStart(2, '0');
    const cases = [
      '2024-02-29T23:59:59.999Z',
      '2023-02-29T00:00:00Z',
      '2100-02-29T00:00:00Z',
      '2000-02-29T12:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '9999-12-31T23:59:59.999Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-01-00T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T23:60:00Z',
      '2026-01-01T23:59:60Z',
      '2026-01-01t00:00:00Z',
      '2026-01-01T00:00:00.5Z',
      '2026-01-01T00:00:00.12Z',
      '2026-01-01T00:00:00,123Z',
      '2026-01-01T00:00:00+01:00',
      '2026-01-01 00:00:00Z',
      '2026-01-01T0a:00:00Z',
    ];
    for (let i = 0; i < 3000; i++) {
      const year = pick(['1969', '1970', '2000', '2024', '2025', '2100', '9999']);
      const month = two(Math.floor(random() * 14));
      const day = two(Math.floor(random() * 33));
      const time = `${two(Math.floor(random() * 25))}:${two(Math.floor(random() * 61))}:${two(Math.floor(random() * 61))}`;
      const fraction = pick([
        '',
        '.000',
        '.999',
        `.${String(Math.floor(random() * 1000)).padStart(3, '0')}`,
      ]);
      cases.push(`${year}-${month}-${day}T${time}${fraction}${pick(['Z', 'z', '+00:00'])}`);
    }
    let accepted = 0;
    let fromBytes = 0;
    for (const value of cases) {
      const expected = parseTime(value);
      expect(read(`{"updatedAt":"${value}"}`), value).toBe(expected);
      if (expected !== null) accepted++;
      // The byte path answers for itself only when it agrees; otherwise it leaves it to parseTime.
      const direct = utcTimestamp(Buffer.from(value, 'latin1'), 0, value.length);
      if (direct !== undefined) {
        expect(direct, value).toBe(expected);
        fromBytes++;
      }
    }
    expect(fromBytes).toBeGreaterThan(300);
    // Both kinds are exercised: dates the parser accepts and dates it refuses.
    expect(accepted).toBeGreaterThan(500);
    expect(cases.length - accepted).toBeGreaterThan(500);
  });
});
