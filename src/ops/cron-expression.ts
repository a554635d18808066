/**
 * A five-field cron expression as the system cron daemon (Vixie cron, as Debian ships it) reads
 * it, and the next times it fires in a time zone. The configuration check (src/config/checks.ts)
 * decides what is accepted; this module decides what it means.
 */
import { instantOf, type WallTime, wallTimeOf } from './zoned-time.js';

export class CronExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronExpressionError';
  }
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS },
];

export interface CronSchedule {
  readonly expression: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0–6, Sunday 0 (a 7 in the expression is Sunday too). */
  readonly daysOfWeek: ReadonlySet<number>;
  /**
   * Whether each day field starts with `*`. As in Vixie cron, when both day fields are
   * restricted a day matches either of them; otherwise it must match both.
   */
  readonly dayOfMonthStar: boolean;
  readonly dayOfWeekStar: boolean;
}

export function parseCron(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length || expression.trim() === '') {
    throw new CronExpressionError(
      `a cron expression has 5 fields (minute hour day-of-month month day-of-week), got ${JSON.stringify(expression)}`,
    );
  }
  const sets = FIELDS.map((spec, i) => parseField(fields[i] ?? '', spec));
  const [minutes, hours, dom, months, dowRaw] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  const dow = new Set([...dowRaw].map((d) => d % 7));
  return {
    expression: expression.trim(),
    minutes: [...minutes].sort((a, b) => a - b),
    hours: [...hours].sort((a, b) => a - b),
    daysOfMonth: dom,
    months,
    daysOfWeek: dow,
    dayOfMonthStar: (fields[2] ?? '').startsWith('*'),
    dayOfWeekStar: (fields[4] ?? '').startsWith('*'),
  };
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const fail = (why: string) =>
      new CronExpressionError(`${spec.name} field ${JSON.stringify(text)}: ${why}`);
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined) throw fail('more than one "/"');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isSafeInteger(step) || step < 1 || !/^\d+$/.test(stepText ?? '1')) {
      throw fail(`step "${stepText}" is not a positive integer`);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const [a = '', b, more] = range.split('-');
      if (more !== undefined) throw fail(`"${range}" is not a value or a range`);
      from = value(a, spec, fail);
      // `5/15` reads as `5-max/15`, as in cronie; a lone value without a step is just itself.
      to = b === undefined ? (stepText === undefined ? from : spec.max) : value(b, spec, fail);
      if (to < from) throw fail(`range "${range}" runs backwards`);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

function value(text: string, spec: FieldSpec, fail: (why: string) => Error): number {
  let n: number;
  if (/^\d+$/.test(text)) n = Number(text);
  else {
    const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    if (index < 0) throw fail(`"${text}" is not a number or name`);
    n = spec.name === 'month' ? index + 1 : index;
  }
  if (n < spec.min || n > spec.max) throw fail(`${n} is out of range ${spec.min}-${spec.max}`);
  return n;
}

function dayMatches(schedule: CronSchedule, year: number, month: number, day: number): boolean {
  if (!schedule.months.has(month)) return false;
  const dom = schedule.daysOfMonth.has(day);
  const dow = schedule.daysOfWeek.has(new Date(Date.UTC(year, month - 1, day)).getUTCDay());
  return schedule.dayOfMonthStar || schedule.dayOfWeekStar ? dom && dow : dom || dow;
}

/** Long enough for any date that exists: `0 0 29 2 1` recurs within 28 years. */
const SEARCH_DAYS = 366 * 29;
const DAY_MS = 86_400_000;

/**
 * The next `count` times the schedule fires strictly after `from`, read in `timeZone`. A wall
 * time skipped by a daylight-saving change fires when the clock jumps; a repeated one, once.
 */
export function nextRuns(
  schedule: CronSchedule,
  timeZone: string,
  from: Date,
  count: number,
): Date[] {
  const out: number[] = [];
  const after = Math.floor(from.getTime() / 60_000) * 60_000;
  // Start a day early: the wall date of `from` in the zone may be behind its UTC date.
  const start = wallTimeOf(after, timeZone);
  const firstDay = Date.UTC(start.year, start.month - 1, start.day) - DAY_MS;
  for (let d = 0; d < SEARCH_DAYS && out.length < count; d++) {
    const date = new Date(firstDay + d * DAY_MS);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(schedule, year, month, day)) continue;
    for (const hour of schedule.hours) {
      for (const minute of schedule.minutes) {
        const wall: WallTime = { year, month, day, hour, minute };
        const at = instantOf(wall, timeZone);
        const last = out.at(-1);
        if (at > after && (last === undefined || at > last)) out.push(at);
        if (out.length >= count) return out.map((ms) => new Date(ms));
      }
    }
  }
  return out.map((ms) => new Date(ms));
}
