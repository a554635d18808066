/**
 * Splits a chunk of NDJSON bytes into parsed lines. Blank lines are skipped; CRLF is accepted.
 * UTF-8 is validated once for the whole chunk and line by line only when the chunk is invalid
 * (or, when lines may be skipped, line by line for the lines read).
 *
 * With `textKey`, a line's text member is decoded from its bytes straight into the text the
 * tokeniser scans (`prepareJsonText`), and only the rest of the line is parsed: the text is
 * nearly all of a line, and making a string of it, parsing it and lower-casing it cost about as
 * much as tokenising it. A line this cannot settle for certain is parsed whole, as without it.
 */
import { isUtf8 } from 'node:buffer';
import type { BadReason } from './document.js';
import { isSpace } from './time-prefilter.js';
import { preparedBytes, preparedEnd, preparedLinks, prepareJsonText } from './tokenizer.js';

/**
 * A parsed line, or why it was rejected. `prepared`: the line's text member was decoded into
 * the tokeniser's units (`addPreparedTermRanges`) and is an empty string in `parsed`.
 */
export type LineValue = { readonly parsed: unknown; readonly prepared?: PreparedText } | BadReason;

/** A text member decoded by `prepareJsonText`, valid until the next line is read. */
export interface PreparedText {
  /** Its prepared length, in code units. */
  readonly length: number;
  /** The text's size in UTF-8 bytes. */
  readonly bytes: number;
  /** Whether it holds a link marker. */
  readonly links: boolean;
  /** The text as a string, for what needs it whole (language detection, Turkish). */
  text(): string;
}

const NEWLINE = 0x0a;
const RETURN = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Calls `onLine` for each non-blank line and returns the number of lines in the chunk. `skip`,
 * when given, sees each line's raw bytes first and may pass over it unparsed. `textKey`, the
 * UTF-8 bytes of the text member's name, prepares that member's text directly (see above).
 */
export function scanChunk(
  chunk: Uint8Array,
  onLine: (line: number, value: LineValue) => void,
  skip?: (buf: Buffer, start: number, end: number) => boolean,
  textKey?: Buffer,
): number {
  const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  // When most lines may be skipped unread, only the lines read are checked.
  const chunkIsUtf8 = skip === undefined && isUtf8(buf);
  let start = 0;
  let line = 0;
  while (start < buf.length) {
    let end = buf.indexOf(NEWLINE, start);
    if (end === -1) end = buf.length;
    line++;
    let stop = end;
    if (stop > start && buf[stop - 1] === RETURN) stop--;
    if (stop > start && skip?.(buf, start, stop) !== true) {
      if (!chunkIsUtf8 && !isUtf8(buf.subarray(start, stop))) {
        onLine(line, 'invalidUtf8');
      } else {
        const prepared = textKey === undefined ? null : preparedLine(buf, start, stop, textKey);
        if (prepared !== null) {
          onLine(line, prepared);
        } else {
          // Decoding line by line keeps each string small; big strings decode markedly slower.
          const text = buf.toString('utf8', start, stop);
          if (text.trim().length > 0) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              onLine(line, 'invalidJson');
              start = end + 1;
              continue;
            }
            onLine(line, { parsed });
          }
        }
      }
    }
    start = end + 1;
  }
  return line;
}

class LinePreparedText implements PreparedText {
  constructor(
    readonly length: number,
    readonly bytes: number,
    readonly links: boolean,
    private readonly buf: Buffer,
    private readonly literalStart: number,
    private readonly literalEnd: number,
  ) {}

  text(): string {
    return JSON.parse(this.buf.toString('utf8', this.literalStart, this.literalEnd)) as string;
  }
}

function skipSpace(buf: Buffer, i: number, stop: number): number {
  while (i < stop && isSpace(buf[i])) i++;
  return i;
}

/** Past the closing quote of the string whose opening quote is at `i`, or -1. */
function skipString(buf: Buffer, i: number, stop: number): number {
  let from = i + 1;
  for (;;) {
    const quote = buf.indexOf(QUOTE, from);
    if (quote < 0 || quote >= stop) return -1;
    let backslashes = 0;
    while (buf[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * Past the value that starts at `i`, or -1. Only its extent is found: `JSON.parse` checks it
 * afterwards.
 */
function skipValue(buf: Buffer, i: number, stop: number): number {
  const first = buf[i];
  if (first === QUOTE) return skipString(buf, i, stop);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    while (i < stop) {
      const b = buf[i]!;
      if (b === QUOTE) {
        i = skipString(buf, i, stop);
        if (i < 0) return -1;
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  while (i < stop) {
    const b = buf[i]!;
    if (b === 0x2c || b === 0x7d || b === 0x5d || isSpace(b)) break;
    i++;
  }
  return i;
}

/**
 * The line `buf[start, stop)` (valid UTF-8) with its text member prepared (`prepareJsonText`)
 * and the rest parsed, or null when the line is to be parsed whole: it is not a flat walk of
 * one object's members, the text member is missing, repeated, not a string or has an escaped
 * name, its text needs `prepare`, or the rest does not parse.
 */
function preparedLine(buf: Buffer, start: number, stop: number, key: Buffer): LineValue | null {
  let i = skipSpace(buf, start, stop);
  if (buf[i] !== 0x7b) return null;
  i = skipSpace(buf, i + 1, stop);
  let literalStart = -1;
  let literalEnd = -1;
  let length = -1;
  if (buf[i] === 0x7d) return null;
  for (;;) {
    if (buf[i] !== QUOTE) return null;
    const nameEnd = buf.indexOf(QUOTE, i + 1);
    if (nameEnd < 0 || nameEnd >= stop) return null;
    const name = buf.subarray(i + 1, nameEnd);
    if (name.includes(BACKSLASH)) return null;
    const isText = name.equals(key);
    i = skipSpace(buf, nameEnd + 1, stop);
    if (buf[i] !== 0x3a) return null;
    i = skipSpace(buf, i + 1, stop);
    if (isText) {
      if (literalStart >= 0 || buf[i] !== QUOTE) return null;
      length = prepareJsonText(buf, i + 1, stop);
      if (length < 0) return null;
      literalStart = i;
      literalEnd = preparedEnd;
      i = literalEnd;
    } else {
      i = skipValue(buf, i, stop);
      if (i < 0) return null;
    }
    i = skipSpace(buf, i, stop);
    if (buf[i] === 0x2c) {
      i = skipSpace(buf, i + 1, stop);
      continue;
    }
    if (buf[i] !== 0x7d) return null;
    break;
  }
  if (literalStart < 0 || skipSpace(buf, i + 1, stop) !== stop) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      buf.toString('utf8', start, literalStart + 1) + buf.toString('utf8', literalEnd - 1, stop),
    );
  } catch {
    return null;
  }
  const prepared = new LinePreparedText(
    length,
    preparedBytes,
    preparedLinks,
    buf,
    literalStart,
    literalEnd,
  );
  return { parsed, prepared };
}
