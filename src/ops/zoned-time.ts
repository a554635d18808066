/**
 * Wall-clock time in an IANA zone, with `Intl` only. The one subtle part is turning a wall time
 * back into an instant across daylight-saving changes: a wall time that happens twice (autumn)
 * means its first occurrence, and one that never happens (spring) means the moment the clock
 * jumps, which is when Vixie cron runs such a job.
 */

export interface WallTime {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall time of an instant, to the second. */
function wallSeconds(ms: number, timeZone: string): WallTime & { second: number } {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts['year'] ?? 1970,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

export function wallTimeOf(ms: number, timeZone: string): WallTime {
  const { year, month, day, hour, minute } = wallSeconds(ms, timeZone);
  return { year, month, day, hour, minute };
}

/** Milliseconds the zone is ahead of UTC at an instant. */
export function offsetAt(ms: number, timeZone: string): number {
  const w = wallSeconds(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** The instant a wall time stands for; see the module comment for the two edge cases. */
export function instantOf(wall: WallTime, timeZone: string): number {
  const wallMs = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const before = offsetAt(wallMs - DAY_MS, timeZone);
  const after = offsetAt(wallMs + DAY_MS, timeZone);
  const valid = [...new Set([before, after])]
    .map((offset) => wallMs - offset)
    .filter((t) => offsetAt(t, timeZone) === wallMs - t)
    .sort((a, b) => a - b);
  if (valid[0] !== undefined) return valid[0];
  // In the gap: find the jump between the last instant on the old offset and the first on the new.
  let lo = wallMs - after;
  let hi = wallMs - before;
  if (lo >= hi) return hi;
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / MINUTE_MS)) * MINUTE_MS;
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** `2026-03-29 03:00` in the zone, for people. */
export function formatWall(ms: number, timeZone: string): string {
  const w = wallTimeOf(ms, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}
