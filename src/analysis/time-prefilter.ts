/**
 * Reads a document's top-level timestamp straight from its NDJSON bytes, so that a delta run
 * can pass over the unchanged majority of a corpus file without decoding or parsing those lines.
 *
 * Only a certain answer counts: the key must occur as a key (an unescaped quote inside a JSON
 * string is impossible, so `{` or `,` before it proves it is structural), with a plain string or
 * number value, and be the top-level one: either the last member of the line's object (its value
 * followed only by the closing brace that ends the line; JSON.parse keeps the last of duplicate
 * keys too), or the key's only occurrence in the line. Anything else returns null and the line
 * is parsed.
 */
import { parseTime } from './document.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Latest instant `parseTime` accepts (the end of year 9999). */
const MAX_TIME_MS = 253_402_300_799_999;

/** The digits `line[at, at + count)` as a number, or -1 when one is not a digit. */
function digits(line: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = line[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * The common case of `parseTime` straight from bytes: `YYYY-MM-DDTHH:MM:SS[.sss]Z` with every
 * field in range, in UTC. Anything else (another form, an impossible date) is undefined, for
 * `parseTime` to decide.
 */
export function utcTimestamp(line: Uint8Array, at: number, length: number): number | undefined {
  if (length !== 20 && length !== 24) return undefined;
  if (
    line[at + 4] !== 0x2d ||
    line[at + 7] !== 0x2d ||
    line[at + 10] !== 0x54 ||
    line[at + 13] !== 0x3a ||
    line[at + 16] !== 0x3a ||
    line[at + length - 1] !== 0x5a
  ) {
    return undefined;
  }
  const year = digits(line, at, 4);
  const month = digits(line, at + 5, 2);
  const day = digits(line, at + 8, 2);
  const hour = digits(line, at + 11, 2);
  const minute = digits(line, at + 14, 2);
  const second = digits(line, at + 17, 2);
  let ms = 0;
  if (length === 24) {
    if (line[at + 19] !== 0x2e) return undefined;
    ms = digits(line, at + 20, 3);
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (month === 2 && leap ? 1 : 0)) return undefined;
  const time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return time <= MAX_TIME_MS ? time : undefined;
}

/** Whether `byte` is JSON whitespace. */
export function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

export class TimePrefilter {
  private readonly key: Buffer;

  constructor(field: string) {
    this.key = Buffer.from(JSON.stringify(field));
  }

  static usable(field: string): boolean {
    return !field.includes('.');
  }

  /** The timestamp of the line `buf[start, end)`, or null when it cannot be read with certainty. */
  read(buf: Buffer, start: number, end: number): number | null {
    const key = this.key;
    // Searched from the end: writers commonly put the timestamp last.
    const at = end - key.length < start ? -1 : buf.lastIndexOf(key, end - key.length);
    if (at < start) return null;
    let before = at - 1;
    while (before >= start && isSpace(buf[before])) before--;
    if (before < start || (buf[before] !== 0x7b && buf[before] !== 0x2c)) return null;
    let pos = at + key.length;
    while (pos < end && isSpace(buf[pos])) pos++;
    if (pos >= end || buf[pos] !== 0x3a) return null;
    pos++;
    while (pos < end && isSpace(buf[pos])) pos++;
    let time: number | null;
    let after: number;
    if (pos < end && buf[pos] === QUOTE) {
      const close = buf.indexOf(QUOTE, pos + 1);
      if (close === -1 || close >= end || close - pos > 40) return null;
      for (let i = pos + 1; i < close; i++) if (buf[i] === BACKSLASH) return null;
      time =
        utcTimestamp(buf, pos + 1, close - pos - 1) ??
        parseTime(buf.toString('latin1', pos + 1, close));
      after = close + 1;
    } else {
      let stop = pos;
      while (stop < end && buf[stop]! >= 0x30 && buf[stop]! <= 0x39) stop++;
      if (stop === pos || stop - pos > 16) return null;
      time = parseTime(Number(buf.toString('latin1', pos, stop)));
      after = stop;
    }
    // The last member of the object that the line's final brace closes: the top-level value.
    while (after < end && isSpace(buf[after])) after++;
    if (after < end && buf[after] === 0x7d) {
      let rest = after + 1;
      while (rest < end && isSpace(buf[rest])) rest++;
      if (rest === end) return time;
    }
    // Otherwise only when the key occurs nowhere else in the line.
    return buf.indexOf(key, start) === at ? time : null;
  }
}
