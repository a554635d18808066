import { describe, expect, it } from 'vitest';
import { type LineValue, scanChunk } from '../../src/analysis/chunk-lines.js';

function lines(chunk: Uint8Array, skip?: (buf: Buffer, start: number, end: number) => boolean) {
  const out: Array<[number, LineValue]> = [];
  const count = scanChunk(chunk, (line, value) => out.push([line, value]), skip);
  return { count, out };
}

const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const INVALID = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"a":"\xff"}

describe('scanChunk', () => {
  it('parses each non-blank line, CRLF included, and numbers lines from 1', () => {
    const { count, out } = lines(text('{"a":1}\r\n\n{"a":"é"}\nnot json\n'));
    expect(count).toBe(4);
    expect(out).toEqual([
      [1, { parsed: { a: 1 } }],
      [3, { parsed: { a: 'é' } }],
      [4, 'invalidJson'],
    ]);
  });

  it('reports an invalid UTF-8 line as such, whether or not lines may be skipped', () => {
    const chunk = new Uint8Array(
      Buffer.concat([Buffer.from('{"a":1}\n'), INVALID, Buffer.from('\n')]),
    );
    expect(lines(chunk).out).toEqual([
      [1, { parsed: { a: 1 } }],
      [2, 'invalidUtf8'],
    ]);
    expect(lines(chunk, () => false).out).toEqual([
      [1, { parsed: { a: 1 } }],
      [2, 'invalidUtf8'],
    ]);
  });

  it('passes over the lines skip takes, unread and unchecked, in a view of a larger buffer', () => {
    const bytes = Buffer.concat([
      Buffer.from('xx{"keep":1}\n'),
      INVALID,
      Buffer.from('\n{"keep":2}\n{"drop":3}\nyy'),
    ]);
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + 2, bytes.length - 4);
    const seen: string[] = [];
    const { count, out } = lines(view, (buf, start, end) => {
      const line = buf.toString('latin1', start, end);
      seen.push(line);
      return !line.includes('keep');
    });
    expect(count).toBe(4);
    expect(seen).toHaveLength(4);
    expect(out).toEqual([
      [1, { parsed: { keep: 1 } }],
      [3, { parsed: { keep: 2 } }],
    ]);
  });
});
