import { describe, expect, it } from 'vitest';
import {
  ByteWriter,
  encodeTermCounts,
  getFloat64,
  getString,
  sortTermCounts,
  termCountsEnd,
  varintEnd,
} from '../../src/analysis/term-ids.js';
import { readTermCounts } from '../support/term-records.js';

function write(ids: number[], tfs: number[]): number[] {
  const writer = new ByteWriter(4);
  writer.writeTermCounts(new Uint32Array(ids), new Uint32Array(tfs), ids.length);
  return [...writer.bytes()];
}

describe('term records', () => {
  it('writes gap × 2 with a flag for tf > 1, followed by tf − 2', () => {
    // ids 0, 1, 5, 200 with tf 1, 2, 1, 130:
    // count 4; gap 0 → 0; gap 0 flagged → 1, tf−2 = 0; gap 3 → 6; gap 194 flagged → 389
    // (0x85 0x03), tf−2 = 128 (0x80 0x01).
    expect(write([0, 1, 5, 200], [1, 2, 1, 130])).toEqual([4, 0, 1, 0, 6, 0x85, 0x03, 0x80, 0x01]);
    expect(write([], [])).toEqual([0]);
  });

  it('keeps the common case at one byte per term: gaps under 64 with tf 1', () => {
    const ids = Array.from({ length: 100 }, (_, i) => i * 64);
    expect(
      write(
        ids,
        ids.map(() => 1),
      ),
    ).toHaveLength(1 + 100);
    const wider = Array.from({ length: 100 }, (_, i) => i * 65);
    expect(
      write(
        wider,
        wider.map(() => 1),
      ),
    ).toHaveLength(1 + 1 + 99 * 2);
  });

  it('reads back what it wrote, at any offset, with large ids and counts', () => {
    const writer = new ByteWriter(2);
    writer.writeVarint(7);
    const ids = [3, 4, 1000, 70_000, 2 ** 31 + 5, 2 ** 32 - 1];
    const tfs = [1, 3, 1, 2 ** 20, 1, 2 ** 32 - 1];
    writer.writeTermCounts(new Uint32Array(ids), new Uint32Array(tfs), ids.length);
    writer.writeTermCounts(new Uint32Array([9]), new Uint32Array([2]), 1);
    const bytes = writer.take();
    const first = readTermCounts(bytes, 1);
    expect([...first.ids]).toEqual(ids);
    expect([...first.tfs]).toEqual(tfs);
    const second = readTermCounts(bytes, first.end);
    expect([...second.ids]).toEqual([9]);
    expect([...second.tfs]).toEqual([2]);
    expect(second.end).toBe(bytes.length);
  });

  it('sorts ids with their counts when encoding one document', () => {
    const bytes = encodeTermCounts([9, 2, 5], [4, 1, 2]);
    const { ids, tfs } = readTermCounts(bytes);
    expect([...ids]).toEqual([2, 5, 9]);
    expect([...tfs]).toEqual([1, 2, 4]);
  });

  it('sorts ids with their counts on both key widths', () => {
    // Four terms need 2 position bits: ids below 2^30 take 32-bit keys, larger ones 64-bit keys.
    for (const base of [7, 2 ** 30 - 10, 2 ** 32 - 10]) {
      const ids = new Uint32Array([base + 3, base, base + 9, base + 1]);
      const tfs = new Uint32Array([30, 1, 90, 10]);
      sortTermCounts(ids, tfs, 4);
      expect([...ids]).toEqual([base, base + 1, base + 3, base + 9]);
      expect([...tfs]).toEqual([1, 10, 30, 90]);
    }
    // Only the first `count` are sorted; 1000 terms need 10 position bits.
    const ids = Uint32Array.from({ length: 1001 }, (_, i) => ((i * 7919) % 1000) * 4096);
    ids[1000] = 0;
    const tfs = Uint32Array.from(ids, (id, i) => (i === 1000 ? 0 : id / 4096 + 1));
    sortTermCounts(ids, tfs, 1000);
    expect([...ids.subarray(0, 1000)]).toEqual(Array.from({ length: 1000 }, (_, i) => i * 4096));
    expect([...tfs.subarray(0, 1000)]).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(tfs[1000]).toBe(0);
  });

  it('sorts by radix and by key alike, whatever the size of the ids', () => {
    let seed = 3;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    // 47 terms and fewer take the packed-key sort, 48 and more the radix sort (ids below 2^24).
    for (const count of [2, 47, 48, 213, 3000]) {
      for (const limit of [200, 60_000, 2 ** 24, 2 ** 31]) {
        const distinct = new Set<number>();
        while (distinct.size < Math.min(count, limit)) distinct.add(random() % limit);
        const ids = Uint32Array.from(distinct);
        const tfs = Uint32Array.from(ids, (id) => (id % 97) + 1);
        const expected = [...ids].sort((a, b) => a - b);
        sortTermCounts(ids, tfs, ids.length);
        expect([...ids]).toEqual(expected);
        expect([...tfs]).toEqual(expected.map((id) => (id % 97) + 1));
      }
    }
  });

  it('writes sorted records as sorting first would, whatever the sizes of the ids and counts', () => {
    let seed = 11;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    // Below 48 terms, and where id × 2^position bits would not fit 32 bits, it sorts first; else
    // it radix-sorts packed keys in 1 to 4 passes (a few hundred terms: ids below 2^23 or 2^24).
    for (const count of [1, 2, 47, 48, 207, 256, 257, 513, 3000]) {
      const bits = count < 2 ? 1 : 32 - Math.clz32(count - 1);
      for (const limit of [200, 60_000, 2 ** 24, 2 ** (32 - bits), 2 ** 31]) {
        const distinct = new Set<number>();
        // The largest id that still fits beside the positions, then random ones below `limit`.
        if (limit > count) distinct.add(limit - 1);
        while (distinct.size < Math.min(count, limit)) distinct.add(random() % limit);
        const ids = Uint32Array.from(distinct);
        const tfs = Uint32Array.from(ids, (id) => (id % 5 === 0 ? (id % 300) + 2 : 1));
        const sortedIds = ids.slice();
        const sortedTfs = tfs.slice();
        sortTermCounts(sortedIds, sortedTfs, ids.length);
        const expected = new ByteWriter(16);
        expected.writeTermCounts(sortedIds, sortedTfs, ids.length);
        const writer = new ByteWriter(16);
        writer.writeVarint(7);
        writer.writeSortedTermCounts(ids, tfs, ids.length);
        expect(Buffer.from(writer.bytes().subarray(1)).equals(expected.bytes())).toBe(true);
        expect([...readTermCounts(writer.bytes().subarray(1)).ids]).toEqual([...sortedIds]);
      }
    }
    // A term twice is refused, as by writeTermCounts.
    const twice = Uint32Array.from({ length: 100 }, (_, i) => (i === 99 ? 6 : i * 3));
    expect(() =>
      new ByteWriter(16).writeSortedTermCounts(twice, new Uint32Array(100).fill(1), 100),
    ).toThrow(/twice/);
  });

  it('writes strings and numbers beside the records and reads them back', () => {
    const writer = new ByteWriter(2);
    const strings = ['', 'doc-1', 'ü€😀\n', 'x'.repeat(300)];
    for (const value of strings) {
      writer.writeString(value);
      writer.writeFloat64(1_767_225_600_123.5);
    }
    const bytes = Buffer.from(writer.bytes());
    let at = 0;
    for (const value of strings) {
      expect(getString(bytes, at)).toBe(value);
      expect(getFloat64(bytes, varintEnd)).toBe(1_767_225_600_123.5);
      at = varintEnd;
    }
    expect(at).toBe(bytes.length);
    // The last string (300 bytes, a 2-byte length, then its number) cut short.
    expect(() => getString(bytes.subarray(0, bytes.length - 20), at - 310)).toThrow(
      /truncated string/,
    );
  });

  it('refuses truncated records', () => {
    const bytes = Uint8Array.from(write([0, 300], [1, 5]));
    expect(() => readTermCounts(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });

  it('finds where a record ends without decoding it, flagged counts and long values included', () => {
    const writer = new ByteWriter(2);
    writer.writeVarint(7);
    const records: Array<[number[], number[]]> = [
      [
        [3, 4, 1000, 70_000, 2 ** 31 + 5, 2 ** 32 - 1],
        [1, 3, 1, 2 ** 20, 1, 2 ** 32 - 1],
      ],
      [[], []],
      [
        [0, 1, 2, 64, 65, 200],
        [2, 1, 130, 1, 1, 3],
      ],
      [[9], [1]],
    ];
    const ends: number[] = [];
    for (const [ids, tfs] of records) {
      writer.writeTermCounts(new Uint32Array(ids), new Uint32Array(tfs), ids.length);
      ends.push(writer.length);
    }
    const bytes = writer.take();
    let at = 1;
    for (const end of ends) {
      expect(termCountsEnd(bytes, at)).toBe(end);
      expect(readTermCounts(bytes, at).end).toBe(end);
      at = end;
    }
    expect(() => termCountsEnd(bytes.subarray(0, ends[0]! - 1), 1)).toThrow(/truncated/);
  });
});
