import { describe, expect, it } from 'vitest';
import { TimePrefilter } from '../../src/analysis/time-prefilter.js';

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

  it('declines whenever it cannot be sure, leaving the line to the parser', () => {
    // The key inside a string value (its quotes are escaped) or in a nested object.
    expect(
      read(
        '{"text":"\\"updatedAt\\":\\"2020-01-01T00:00:00Z\\"","updatedAt":"2026-11-01T00:00:00Z"}',
      ),
    ).toBe(at);
    expect(
      read('{"meta":{"updatedAt":"2020-01-01T00:00:00Z"},"updatedAt":"2026-11-01T00:00:00Z"}'),
    ).toBeNull();
    expect(read('{"updatedAt":{"$date":"2026-11-01T00:00:00Z"}}')).toBeNull();
    expect(read('{"updatedAt":"2026-11-01T00:00:00"}')).toBeNull();
    expect(read('{"updatedAt":"2026\\u002d11-01T00:00:00Z"}')).toBeNull();
    expect(read('{"_id":"a"}')).toBeNull();
    expect(read('{"updatedAt":null}')).toBeNull();
  });
});
