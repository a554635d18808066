import { describe, expect, it } from 'vitest';
import { fileRanges } from '../../src/job/analysis-pool.js';

const MB = 1 << 20;

/** Checks that `ranges` tile [0, size) and that each one's index is its place from the start. */
function expectTiling(ranges: Array<{ index: number; start: number; end: number }>, size: number) {
  const byPlace = [...ranges].sort((a, b) => a.start - b.start);
  expect(byPlace.map((r) => r.index)).toEqual(byPlace.map((_, i) => i));
  let at = 0;
  for (const range of byPlace) {
    expect(range.start).toBe(at);
    expect(range.end).toBeGreaterThan(range.start);
    at = range.end;
  }
  expect(at).toBe(size);
}

describe('fileRanges', () => {
  it('hands out a full run its ranges from the start, all of the range size but the last', () => {
    const size = 10 * MB + 123;
    const ranges = [...fileRanges(size, 4 * MB, false)];
    expectTiling(ranges, size);
    expect(ranges.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(ranges.map((r) => r.end - r.start)).toEqual([4 * MB, 4 * MB, 2 * MB + 123]);
  });

  it("hands out a delta its ranges from the file's end, the first ones small and doubling", () => {
    const size = 2129 * MB + 777;
    const ranges = [...fileRanges(size, 4 * MB, true)];
    expectTiling(ranges, size);
    // Handed out from the end backwards.
    for (let k = 1; k < ranges.length; k++) {
      expect(ranges[k]!.end).toBe(ranges[k - 1]!.start);
    }
    const sizes = ranges.map((r) => r.end - r.start);
    expect(sizes.slice(0, 10)).toEqual([
      MB / 4,
      MB / 4,
      MB / 2,
      MB / 2,
      MB,
      MB,
      2 * MB,
      2 * MB,
      4 * MB,
      4 * MB,
    ]);
    expect(Math.max(...sizes)).toBe(4 * MB);
    // The eight small ranges cover 7.5 MB: at most seven more ranges than from the start.
    expect(ranges.length).toBeGreaterThan(Math.ceil(size / (4 * MB)));
    expect(ranges.length).toBeLessThanOrEqual(Math.ceil(size / (4 * MB)) + 7);
  });

  it('covers a delta file smaller than the first range, and an empty one', () => {
    expectTiling([...fileRanges(1000, 4 * MB, true)], 1000);
    expect([...fileRanges(1000, 4 * MB, true)]).toHaveLength(1);
    expect([...fileRanges(0, 4 * MB, true)]).toEqual([]);
    expect([...fileRanges(0, 4 * MB, false)]).toEqual([]);
    // Ranges of a few bytes still tile the file.
    expectTiling([...fileRanges(37, 8, true)], 37);
  });
});
