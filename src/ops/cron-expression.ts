/**
 * The next times a five-field cron expression (parsed by src/config/cron.ts, as the system cron
 * daemon reads it) fires in a time zone.
 */
import { CronExpressionError, type CronSchedule, parseCron } from '../config/cron.js';
import { instantOf, type WallTime, wallTimeOf } from './zoned-time.js';

export { CronExpressionError, type CronSchedule, parseCron };

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
