/**
 * Splits a chunk of NDJSON bytes into parsed lines. Blank lines are skipped; CRLF is accepted.
 * UTF-8 is validated once for the whole chunk and line by line only when the chunk is invalid
 * (or, when lines may be skipped, line by line for the lines read).
 */
import { isUtf8 } from 'node:buffer';
import type { BadReason } from './document.js';

export type LineValue = { readonly parsed: unknown } | BadReason;

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * Calls `onLine` for each non-blank line and returns the number of lines in the chunk. `skip`,
 * when given, sees each line's raw bytes first and may pass over it unparsed.
 */
export function scanChunk(
  chunk: Uint8Array,
  onLine: (line: number, value: LineValue) => void,
  skip?: (buf: Buffer, start: number, end: number) => boolean,
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
    start = end + 1;
  }
  return line;
}
