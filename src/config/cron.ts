/**
 * The five-field cron syntax the system cron daemon (Vixie cron, as Debian ships it) accepts:
 * lists, ranges, steps, month and day names. One parser serves the configuration check and the
 * schedule (src/ops/cron-expression.ts computes the next run times from what it returns).
 * `@daily` and friends are refused: next run times are computed from the fields.
 */
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
      `must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got ${JSON.stringify(expression)}`,
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
