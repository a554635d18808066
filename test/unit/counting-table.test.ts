import { describe, expect, it } from 'vitest';
import { CountingTable, packedHash } from '../../src/analysis/counting-table.js';
import {
  hashRange,
  languageSalt,
  lengthPrefixed,
  packedInts,
  packedUnit,
  packUnits,
  prefixedWords,
  termKey,
} from '../../src/analysis/term-table.js';

/** The code units of `s`, as the tokeniser hands words over. */
function unitsOf(s: string): Uint16Array {
  return Uint16Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
}

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
  packUnits(unitsOf(s), start, length, packed, 1);
  return table.intern(lang, key, packed, 1, length);
}

/** The words of `ids`, in that order, as a length-prefixed arena (`putPrefixed`). */
function prefixedArena(table: CountingTable, ids: ArrayLike<number>): Uint16Array {
  const records = table.recordsById();
  let units = 0;
  for (let k = 0; k < ids.length; k++) units += 1 + table.length(records[ids[k]!]!);
  const out = new Uint16Array(units);
  for (let k = 0, at = 0; k < ids.length; k++) {
    const record = records[ids[k]!]!;
    table.putPrefixed(record, out, at);
    at += 1 + table.length(record);
  }
  return out;
}

/** Every word of the table, by id, as a string. */
function wordsOf(table: CountingTable): string[] {
  const ids = Array.from({ length: table.size }, (_, id) => id);
  return prefixedWords(prefixedArena(table, ids), table.size);
}

/** Per id: language, df and cf. */
function countsOf(table: CountingTable): Array<[number, number, number]> {
  return Array.from(table.recordsById(), (record) => [
    table.language(record),
    table.df(record),
    table.cf(record),
  ]);
}

describe('packUnits', () => {
  it('packs two code units to an int32, the first in the low half, and nothing past the word', () => {
    const out = new Int32Array(4).fill(-1);
    packUnits(unitsOf('xabcy'), 1, 3, out, 1);
    expect([...out]).toEqual([-1, (0x62 << 16) | 0x61, 0x63, -1]);
    expect([packedUnit(out, 1, 0), packedUnit(out, 1, 1), packedUnit(out, 1, 2)]).toEqual([
      0x61, 0x62, 0x63,
    ]);
    packUnits(unitsOf('\uffff\u8000'), 0, 2, out, 0);
    expect(out[0]).toBe((0x8000 << 16) | 0xffff);
    expect([packedUnit(out, 0, 0), packedUnit(out, 0, 1)]).toEqual([0xffff, 0x8000]);
    expect([packedInts(0), packedInts(1), packedInts(2), packedInts(7)]).toEqual([0, 1, 1, 4]);
  });
});

describe('packedHash', () => {
  it('is the hashRange of the packed word, odd and even lengths, surrogates too', () => {
    for (const word of ['', 'a', 'ab', 'straße', '𝔘nicode', COLLIDING[0], 'x'.repeat(255)]) {
      const packed = new Int32Array(packedInts(word.length) + 2).fill(-1);
      packUnits(unitsOf(word), 0, word.length, packed, 1);
      expect(packedHash(packed, 1, word.length)).toBe(hashRange(word, 0, word.length));
    }
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
    expect(wordsOf(table)).toEqual([...words, 'cat', ...COLLIDING]);
    expect(countsOf(table).map(([lang]) => lang)).toEqual([...words.map(() => en), fr, 2, 2]);
    // A term's key is computed again from its word: the key it was interned with, when that
    // was its word's (not the 42 given above to make every word collide).
    const records = table.recordsById();
    expect(table.key(records[a]!, salt)).toBe(key(COLLIDING[0]));
    expect(table.key(records[b]!, salt)).toBe(key(COLLIDING[1]));
  });

  it('counts documents and occurrences, past 2^32 occurrences too', () => {
    const table = new CountingTable();
    const the = intern(table, 0, 1, 'the');
    table.add(the, 1, 2 ** 32 - 1);
    table.add(the, 1, 5);
    table.add(intern(table, 0, 1, 'the'), 1, 2 ** 33);
    table.add(intern(table, 0, 2, 'of'), 1, 1);
    expect(countsOf(table)).toEqual([
      [0, 3, 2 ** 32 - 1 + 5 + 2 ** 33],
      [0, 1, 1],
    ]);
    // Another table's counts added to a term's, past 2^32 too.
    table.add(the, 2, 2 ** 32 + 1);
    expect(table.df(the)).toBe(5);
    expect(table.cf(the)).toBe(2 ** 32 - 1 + 5 + 2 ** 33 + 2 ** 32 + 1);
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
          table.add(record, 1, pass);
        });
      }
      expect(table.size).toBe(words.length);
      expect(wordsOf(table)).toEqual(words);
      expect(countsOf(table)[123]).toEqual([0, 2, 3]);
      expect(table.key(table.recordsById()[7]!, salt)).toBe(
        termKey(hashRange(words[7]!, 0, words[7]!.length), salt),
      );
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

  it("takes over another table's memory whole: the same ids, keys, words and counts, and appends to it", () => {
    const salts = [languageSalt('en'), languageSalt('fr')];
    const key = (lang: number, word: string): number =>
      termKey(hashRange(word, 0, word.length), salts[lang]!);
    const entries: Array<[number, string]> = [
      [0, COLLIDING[0]],
      [0, COLLIDING[1]],
      [1, COLLIDING[0]],
      ...Array.from({ length: 3000 }, (_, i): [number, string] => [i % 2, `w${i.toString(36)}`]),
    ];
    const source = new CountingTable(16, 1 << 12);
    entries.forEach(([lang, word], i) => {
      const record = intern(source, lang, key(lang, word), word);
      source.add(record, 1, i === 5 ? 2 ** 33 + 7 : 2 * i + 1);
    });
    const words = wordsOf(source);
    const counts = countsOf(source);
    const handed = source.handOver();
    const table = CountingTable.adopt(handed);
    // The memory itself, not a copy.
    expect(handed.heap).toBeInstanceOf(Int32Array);
    expect(table.size).toBe(entries.length);
    expect(wordsOf(table)).toEqual(words);
    expect(countsOf(table)).toEqual(counts);
    expect(countsOf(table)[5]).toEqual([0, 1, 2 ** 33 + 7]);
    const records = table.recordsById();
    entries.forEach(([lang, word], id) => {
      expect(table.key(records[id]!, salts[lang]!)).toBe(key(lang, word));
    });
    entries.forEach(([lang, word], id) => {
      expect(table.id(intern(table, lang, key(lang, word), word))).toBe(id);
    });
    for (let i = 0; i < 5000; i++) {
      const word = `new${i}`;
      expect(table.id(intern(table, 1, key(1, word), word))).toBe(entries.length + i);
    }
    expect(wordsOf(table).slice(entries.length, entries.length + 2)).toEqual(['new0', 'new1']);
    // The records it appended lie in the same memory, after the others.
    expect(table.recordsById()[entries.length]).toBe(handed.top);
  });

  it("absorbs another table's terms: its words found or added, its counts summed, its languages mapped", () => {
    const salt = languageSalt('de');
    const key = (word: string): number => termKey(hashRange(word, 0, word.length), salt);
    const words = [
      'straße',
      'strasse',
      'ab',
      'abc',
      'a',
      'Zebra',
      'zebra',
      '𝔘nicode',
      'é',
      COLLIDING[0],
      COLLIDING[1],
    ];
    // The other worker's language 1 is this table's 0.
    const other = new CountingTable(4);
    for (const word of words) other.add(intern(other, 1, key(word), word), 1, word.length);
    other.add(intern(other, 1, key('a'), 'a'), 0, 2 ** 32);
    const table = new CountingTable(4);
    table.add(intern(table, 0, key('ab'), 'ab'), 1, 10);
    table.add(intern(table, 0, key(COLLIDING[1]), COLLIDING[1]), 1, 1);
    table.add(intern(table, 1, key('zebra'), 'zebra'), 1, 1);
    // Its keys are computed again from its words, with the salt of their language there.
    const numbering = table.absorb(CountingTable.adopt(other.handOver()), [7, 0], [0, salt]);
    // Per language of the other, its ids within it -> the ids within the language here. The
    // words it had keep their ids; the others get the next ones, in the other's id order.
    expect(numbering.map((ids) => [...ids])).toEqual([[], [2, 3, 0, 4, 5, 6, 7, 8, 9, 10, 1]]);
    expect(wordsOf(table)).toEqual([
      'ab',
      COLLIDING[1],
      'zebra',
      ...words.filter((w) => w !== 'ab' && w !== COLLIDING[1]),
    ]);
    words.forEach((word, i) => {
      expect(table.languageId(intern(table, 0, key(word), word))).toBe(numbering[1]![i]);
    });
    const records = table.recordsById();
    // Each language counts its own ids, in first-seen order: the absorbed words come after
    // this table's own words of their language.
    expect(Array.from(records, (record) => table.languageId(record))).toEqual([
      0, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(countsOf(table)[0]).toEqual([0, 2, 12]);
    expect(countsOf(table)[1]).toEqual([0, 2, 1 + COLLIDING[1].length]);
    // 'zebra' in this table's language 1 stays apart from the other's, now language 0.
    expect(countsOf(table)[2]).toEqual([1, 1, 1]);
    expect(countsOf(table)[table.id(intern(table, 0, key('a'), 'a'))]).toEqual([0, 1, 1 + 2 ** 32]);
    expect(table.touched).not.toBeNaN();
    // A language the other table's records name but the map does not.
    const stray = new CountingTable(4);
    intern(stray, 3, key('x'), 'x');
    expect(() => table.absorb(stray, [0], [salt])).toThrow(/term 0 has no language/);
    expect(() => table.absorb(stray, [0], [0, 0, 0, salt])).toThrow(/term 0 has no language/);
  });

  it('writes each word as a length-prefixed arena holds it, for ids in any order', () => {
    const table = new CountingTable(4);
    for (const word of ['zebra', 'the', 'é', 'of', '𝔘n']) intern(table, 0, 1, word);
    expect(prefixedWords(prefixedArena(table, [3, 1, 0]), 3)).toEqual(['of', 'the', 'zebra']);
    expect(prefixedArena(table, [2, 4, 0])).toEqual(lengthPrefixed(['é', '𝔘n', 'zebra']));
  });

  it("refuses memory whose layout is not a table's", () => {
    const table = new CountingTable(4);
    intern(table, 0, 1, 'le');
    intern(table, 1, 2, 'the');

    const good = table.handOver();
    expect(() => CountingTable.adopt({ ...good, slots: new Int32Array(6) })).toThrow(
      /not twice a power of two/,
    );
    expect(() => CountingTable.adopt({ ...good, top: good.heap.length + 1 })).toThrow(/2 terms in/);
    expect(() => CountingTable.adopt({ ...good, size: 2000 })).toThrow(/2000 terms/);
    expect(() => CountingTable.adopt({ ...good, size: 3 }).recordsById()).toThrow(
      /term 2's record/,
    );
    const heap = good.heap.slice();
    heap[1] = 7;
    expect(() => CountingTable.adopt({ ...good, heap }).recordsById()).toThrow(/term 0's record/);
    expect(() => CountingTable.adopt({ ...good, top: good.top + 1 }).recordsById()).toThrow(
      /the records end at/,
    );
    // Each language's ids must run from 0 in id order, as many as the table says it has.
    const shuffled = good.heap.slice();
    shuffled[4] = 1;
    expect(() => CountingTable.adopt({ ...good, heap: shuffled }).recordsById()).toThrow(
      /term 0's record/,
    );
    expect(() => CountingTable.adopt({ ...good, languageSizes: [1, 2] }).recordsById()).toThrow(
      /do not hold the terms/,
    );
    expect(() => CountingTable.adopt({ ...good, languageSizes: [1, -1] })).toThrow(
      /no valid term counts/,
    );
    // What the merge absorbs has its layout checked first (`recordsById`).
    const absorbed = (terms: typeof good): Uint32Array[] =>
      new CountingTable(4).absorb(
        CountingTable.adopt(terms),
        [0, 1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5, 6],
      );
    expect(() => absorbed({ ...good, heap })).toThrow(/term 0's record is not where/);
    expect(() => absorbed({ ...good, size: 3 })).toThrow(/term 2's record is not where/);
    expect(() => absorbed({ ...good, top: good.top + 1 })).toThrow(/the records end at/);
    expect(absorbed(good).map((ids) => [...ids])).toEqual([[0], [0]]);
    expect(wordsOf(CountingTable.adopt(good))).toEqual(['le', 'the']);
  });
});
