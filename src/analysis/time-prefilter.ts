/**
 * Reads a document's top-level timestamp straight from its NDJSON bytes, so that a delta run
 * can pass over the unchanged majority of a corpus file without decoding or parsing those lines.
 *
 * Only a certain answer counts: the key must occur once in the line, as a key (an unescaped
 * quote inside a JSON string is impossible, so `{` or `,` before it proves it is structural),
 * with a plain string or number value. Anything else returns null and the line is parsed.
 */
import { parseTime } from './document.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(byte: number | undefined): boolean {
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
    const line = buf.subarray(start, end);
    const at = line.indexOf(this.key);
    if (at === -1 || line.indexOf(this.key, at + 1) !== -1) return null;
    let before = at - 1;
    while (before >= 0 && isSpace(line[before])) before--;
    if (before < 0 || (line[before] !== 0x7b && line[before] !== 0x2c)) return null;
    let pos = at + this.key.length;
    while (isSpace(line[pos])) pos++;
    if (line[pos] !== 0x3a) return null;
    pos++;
    while (isSpace(line[pos])) pos++;
    if (line[pos] === QUOTE) {
      const close = line.indexOf(QUOTE, pos + 1);
      if (close === -1 || close - pos > 40) return null;
      for (let i = pos + 1; i < close; i++) if (line[i] === BACKSLASH) return null;
      return parseTime(line.toString('latin1', pos + 1, close));
    }
    let stop = pos;
    while (stop < line.length && line[stop]! >= 0x30 && line[stop]! <= 0x39) stop++;
    if (stop === pos || stop - pos > 16) return null;
    return parseTime(Number(line.toString('latin1', pos, stop)));
  }
}
