import { describe, expect, it } from 'vitest';
import { CountingTable, packedInts, packRange } from '../../src/analysis/counting-table.js';
import { hashRange, languageSalt, termKey } from '../../src/analysis/term-table.js';

/** Two words with the same 32-bit FNV-1a hash (as in term-table.test.ts). */
const COLLIDING = ['gxwjqbe', 'ensbcjc'] as const;

/** `table.intern` of `s[start, +length)`, packed as `FullCounter` packs it. */
function intern(
  table: CountingTable,
  lang: number,
  key: number,
  s: string,
  start = 0,
  length = s.length - start,
): number {
  const packed = new Int32Array(packedInts(length) + 2).fill(-1);
  packRange(s, start, length, packed, 1);
  return table.intern(lang, key, packed, 1, length);
}

/** Every exported word, by id, as a string. */
function exportedWords(table: CountingTable): string[] {
  const { arena, offsets, lengths } = table.export();
  return Array.from(offsets, (offset, id) =>
    String.fromCharCode(...arena.subarray(offset, offset + lengths[id]!)),
  );
}

describe('packRange', () => {
  it('packs two code units to an int32, the first in the low half, and nothing past the word', () => {
    const out = new Int32Array(4).fill(-1);
    packRange('xabcy', 1, 3, out, 1);
    expect([...out]).toEqual([-1, (0x62 << 16) | 0x61, 0x63, -1]);
    packRange('\uffff\u8000', 0, 2, out, 0);
    expect(out[0]).toBe((0x8000 << 16) | 0xffff);
    expect([packedInts(0), packedInts(1), packedInts(2), packedInts(7)]).toEqual([0, 1, 1, 4]);
  });
});

describe('CountingTable', () => {
  it('gives each (language, word) one dense id, exactly, however the keys collide', () => {
    const table = new CountingTable(4);
    const en = 0;
    const fr = 1;
    // One key for every word: only the language and the code units decide.
    const words = ['cat', 'dog', 'cats', 'ca', 'cau', 'tac', '', 'straße', '𝔘nicode'];
    const ids = words.map((word) => table.id(intern(table, en, 42, word)));
    expect(ids).toEqual(words.map((_, i) => i));
    expect(table.id(intern(table, fr, 42, 'cat'))).toBe(words.length);
    expect(table.id(intern(table, en, 42, 'the cat', 4))).toBe(0);
    expect(table.id(intern(table, en, 42, 'dogs', 0, 3))).toBe(1);
    expect(table.id(intern(table, en, 42, '𝔘nicode'))).toBe(8);
    expect(table.size).toBe(words.length + 1);
    const salt = languageSalt('de');
    const key = (word: string): number => termKey(hashRange(word, 0, word.length), salt);
    const a = table.id(intern(table, 2, key(COLLIDING[0]), COLLIDING[0]));
    const b = table.id(intern(table, 2, key(COLLIDING[1]), COLLIDING[1]));
    expect(key(COLLIDING[0])).toBe(key(COLLIDING[1]));
    expect(b).toBe(a + 1);
    const exported = table.export();
    expect(exportedWords(table)).toEqual([...words, 'cat', ...COLLIDING]);
    expect([...exported.langOf]).toEqual([...words.map(() => en), fr, 2, 2]);
    expect(exported.keys[a]).toBe(key(COLLIDING[0]));
    expect(exported.keys[0]).toBe(42);
  });

  it('counts documents and occurrences, past 2^32 occurrences too', () => {
    const table = new CountingTable();
    const the = intern(table, 0, 1, 'the');
    table.count(the, 2 ** 32 - 1);
    table.count(the, 5);
    table.count(intern(table, 0, 1, 'the'), 2 ** 33);
    table.count(intern(table, 0, 2, 'of'), 1);
    const { df, cf } = table.export();
    expect([...df]).toEqual([3, 1]);
    expect([...cf]).toEqual([2 ** 32 - 1 + 5 + 2 ** 33, 1]);
  });

  it('grows past its slots and its reservation, and keeps every word and count', () => {
    const salt = languageSalt('en');
    const words = Array.from({ length: 20_000 }, (_, i) => `t${i.toString(36)}é`);
    words.push('x'.repeat(255));
    const fill = (table: CountingTable): void => {
      for (let pass = 1; pass <= 2; pass++) {
        words.forEach((word, i) => {
          const record = intern(table, 0, termKey(hashRange(word, 0, word.length), salt), word);
          expect(table.id(record)).toBe(i);
          table.count(record, pass);
        });
      }
      expect(table.size).toBe(words.length);
      expect(exportedWords(table)).toEqual(words);
      const { df, cf, keys, arena, offsets, lengths } = table.export();
      expect([df[123], cf[123]]).toEqual([2, 3]);
      expect(keys[7]).toBe(termKey(hashRange(words[7]!, 0, words[7]!.length), salt));
      // Each word ends with a newline, and the arena has room past its words for the merge.
      const last = words.length - 1;
      expect(arena[offsets[last]! + lengths[last]!]).toBe(0x0a);
      expect(arena.length).toBe(offsets[last]! + lengths[last]! + 1);
      expect(arena.buffer.byteLength).toBeGreaterThan(arena.byteLength);
    };
    fill(new CountingTable(16, 1 << 16));
    // Room for 4 terms: it grows past them as a table without any.
    fill(new CountingTable(16, 4));
    // Room that cannot be had (an impossible length here): it starts small instead.
    fill(new CountingTable(16, 2 ** 40));
  });

  it('refuses a word longer than its length field holds', () => {
    const table = new CountingTable();
    expect(() => intern(table, 0, 1, 'y'.repeat(256))).toThrow(/word of 256 code units/);
    expect(table.size).toBe(0);
  });
});
