import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DocumentTerms,
  hashRange,
  languageSalt,
  lengthPrefixed,
  ownPages,
  prefixedWords,
  type RangeSink,
  sharedTermId,
  sharedTermIds,
  TermTable,
  termKey,
} from '../../src/analysis/term-table.js';
import { addTermRanges, tokenize } from '../../src/analysis/tokenizer.js';
import { LanguageTerms } from '../../src/state/term-dictionary.js';
import { prng } from '../support/corpus.js';

/** Every word of `table`, in id order. */
function wordsOf(table: TermTable): string[] {
  const ids = Uint32Array.from({ length: table.size }, (_, id) => id);
  return prefixedWords(table.prefixedArena(ids), table.size);
}

/** `table.internUnits` of `s[start, +length)`, given as its own code units. */
function intern(
  table: TermTable,
  lang: number,
  key: number,
  s: string,
  start: number,
  length: number,
): number {
  const units = Uint16Array.from({ length }, (_, i) => s.charCodeAt(start + i));
  return table.internUnits(lang, key, units, 0, length);
}

/** Two words with the same 32-bit FNV-1a hash, found by a birthday search. */
const COLLIDING = ['gxwjqbe', 'ensbcjc'] as const;

function documentMap(terms: DocumentTerms): Map<string, number> {
  return new Map(Array.from({ length: terms.size }, (_, k) => [terms.term(k), terms.tfs[k]!]));
}

describe('DocumentTerms', () => {
  it('counts every occurrence of each word, in first-seen order, and starts over when cleared', () => {
    const terms = new DocumentTerms();
    addTermRanges('x y', 'fr', terms);
    terms.clear();
    addTermRanges("The cat and THE hat; l'homme, the end", 'fr', terms);
    expect(terms.size).toBe(7);
    expect(Array.from({ length: terms.size }, (_, k) => terms.term(k))).toEqual([
      'the',
      'cat',
      'and',
      'hat',
      "l'",
      'homme',
      'end',
    ]);
    expect([...terms.tfs.subarray(0, terms.size)]).toEqual([3, 1, 1, 1, 1, 1, 1]);
  });

  it('tells apart words whose hashes collide', () => {
    const [a, b] = COLLIDING;
    expect(hashRange(a, 0, a.length)).toBe(hashRange(b, 0, b.length));
    const terms = new DocumentTerms();
    addTermRanges(`${a} ${b} ${a} ${b} ${b}`, 'en', terms);
    expect(Object.fromEntries(documentMap(terms))).toEqual({ [a]: 2, [b]: 3 });
  });

  it('grows past its initial capacity and agrees with a Map on random documents', () => {
    const random = prng(7);
    const terms = new DocumentTerms();
    for (let round = 0; round < 20; round++) {
      terms.clear();
      const expected = new Map<string, number>();
      const words: string[] = [];
      const size = round === 0 ? 5000 : Math.floor(random() * 400);
      for (let i = 0; i < size; i++) {
        const word = `w${Math.floor(random() * (round === 0 ? 3000 : 60)).toString(36)}`;
        words.push(word);
        expected.set(word, (expected.get(word) ?? 0) + 1);
      }
      // Words cut from one long text, as the tokeniser reports them.
      const text = words.join(' ');
      let at = 0;
      for (const word of words) {
        terms.addRange(text, at, at + word.length);
        at += word.length + 1;
      }
      expect(documentMap(terms)).toEqual(expected);
    }
  });
});

describe('the tokeniser as a RangeSink feeder', () => {
  it("hands over each word's hashRange with it when it has computed it, on real multilingual text", () => {
    const sample = new URL('../../bench/sample/corpus.ndjson', import.meta.url);
    const docs = readFileSync(sample, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { lang: string; text: string });
    // Texts at the fast path's edges: the last word at the text's end, a 40- and a 41-unit word.
    docs.push({ lang: 'en', text: `ends here ${'a'.repeat(40)} ${'b'.repeat(41)} x` });
    let hashed = 0;
    let ranged = 0;
    let wrongHashes = 0;
    for (const { lang, text } of docs) {
      const words: string[] = [];
      const sink: RangeSink = {
        addRange(s, start, end) {
          ranged++;
          words.push(s.slice(start, end));
        },
        addHashed(s, start, end, hash) {
          hashed++;
          if (hash !== hashRange(s, start, end)) wrongHashes++;
          words.push(s.slice(start, end));
        },
      };
      addTermRanges(text, lang, sink);
      expect(words).toEqual(tokenize(text, lang));
    }
    expect(docs.length).toBeGreaterThan(4000);
    expect(wrongHashes).toBe(0);
    // Both paths were taken, the fast one for most words.
    expect(hashed).toBeGreaterThan(100_000);
    expect(ranged).toBeGreaterThan(1_000);
  });
});

describe('length-prefixed arenas', () => {
  it('hold words as their length then their code units, and give them back', () => {
    const words = ['the', 'straße', '𝔘nicode', '日本', 'x'];
    const arena = lengthPrefixed(words);
    expect([...arena.subarray(0, 4)]).toEqual([3, 0x74, 0x68, 0x65]);
    expect(arena.length).toBe(words.reduce((units, word) => units + 1 + word.length, 0));
    expect(prefixedWords(arena, words.length)).toEqual(words);
    expect(prefixedWords(arena, 2)).toEqual(['the', 'straße']);
    expect(() => prefixedWords(arena, 6)).toThrow(/fewer than 6 words/);
    expect(() => lengthPrefixed(['a'.repeat(0x10000)])).toThrow(/65536 characters/);
  });

  it('are what a table gives for any of its words, in the order asked', () => {
    const table = new TermTable(4);
    const words = ['zebra', 'the', 'é', 'of'];
    for (const word of words)
      intern(table, 0, hashRange(word, 0, word.length), word, 0, word.length);
    expect(prefixedWords(table.prefixedArena(Uint32Array.of(3, 1, 0)), 3)).toEqual([
      'of',
      'the',
      'zebra',
    ]);
    expect(table.prefixedArena(Uint32Array.of(2, 0))).toEqual(lengthPrefixed(['é', 'zebra']));
  });
});

describe('ownPages', () => {
  it('returns the same array, still all zeros, whatever its length', () => {
    for (const length of [0, 1, 1023, 1024, 1025, 5000, 1 << 16]) {
      const array = new Int32Array(length);
      expect(ownPages(array)).toBe(array);
      expect(array.every((value) => value === 0)).toBe(true);
    }
    const shared = new Int32Array(new SharedArrayBuffer(3000 * 4));
    expect(ownPages(shared)).toBe(shared);
    expect(shared.some((value) => value !== 0)).toBe(false);
  });

  it('leaves no page to fault in when the array is then read and written', () => {
    const pages = 8192; // 32 MiB: glibc maps it fresh, every page untouched
    const array = ownPages(new Int32Array(pages * 1024));
    const before = process.resourceUsage().minorPageFault;
    let sum = 0;
    for (let i = 0; i < array.length; i += 1024) sum += array[i + 512]!;
    for (let i = 0; i < array.length; i += 1024) array[i + 512] = 1;
    const faults = process.resourceUsage().minorPageFault - before;
    expect(sum).toBe(0);
    // Without ownPages: a fault for each page read, another for each page written.
    expect(faults).toBeLessThan(pages / 10);
  });
});

describe('TermTable', () => {
  it('gives each (language, word) one dense id, exactly, however the keys collide', () => {
    const table = new TermTable(4);
    const en = 0;
    const fr = 1;
    // The same key for different words: only the characters decide.
    expect(intern(table, en, 42, 'cat', 0, 3)).toBe(0);
    expect(intern(table, en, 42, 'dog', 0, 3)).toBe(1);
    expect(intern(table, fr, 42, 'cat', 0, 3)).toBe(2);
    expect(intern(table, en, 42, 'the cat', 4, 3)).toBe(0);
    expect(intern(table, en, 42, 'dogs', 0, 3)).toBe(1);
    expect(table.size).toBe(3);
    expect(wordsOf(table)).toEqual(['cat', 'dog', 'cat']);
    expect([table.language(0), table.language(2)]).toEqual([en, fr]);
  });

  it('grows and keeps every word and count through many rehashes', () => {
    const table = new TermTable(16);
    const salt = languageSalt('en');
    const words = Array.from({ length: 50_000 }, (_, i) => `t${i.toString(36)}é`);
    for (let pass = 1; pass <= 2; pass++) {
      words.forEach((word, i) => {
        const id = intern(
          table,
          0,
          termKey(hashRange(word, 0, word.length), salt),
          word,
          0,
          word.length,
        );
        expect(id).toBe(i);
        table.count(id, 1, pass);
      });
    }
    expect(table.size).toBe(words.length);
    expect(wordsOf(table)).toEqual(words);
    expect([table.df(123), table.cf(123)]).toEqual([2, 3]);
  });

  it("takes over another table's export whole: the same ids, keys, words and counts", () => {
    const source = new TermTable(16);
    const salts = [languageSalt('en'), languageSalt('fr')];
    const entries: Array<[number, string]> = [
      [0, COLLIDING[0]],
      [0, COLLIDING[1]],
      [1, COLLIDING[0]],
      ...Array.from({ length: 3000 }, (_, i): [number, string] => [i % 2, `w${i.toString(36)}`]),
    ];
    const key = (lang: number, word: string): number =>
      termKey(hashRange(word, 0, word.length), salts[lang]!);
    entries.forEach(([lang, word], i) => {
      const id = intern(source, lang, key(lang, word), word, 0, word.length);
      source.count(id, i + 1, i === 5 ? 2 ** 33 + 7 : 2 * i + 1);
    });
    const n = source.size;
    const ids = Array.from({ length: n }, (_, id) => id);
    const offsets = Uint32Array.from(ids, (id) => source.offset(id));
    const lengths = Uint8Array.from(ids, (id) => source.length(id));
    const langs = Uint16Array.from(ids, (id) => source.language(id));
    const keys = source.keysById();
    const df = Uint32Array.from(ids, (id) => source.df(id));
    const cf = Float64Array.from(ids, (id) => source.cf(id));
    expect([...keys]).toEqual(entries.map(([lang, word]) => key(lang, word)));

    const table = new TermTable(16);
    table.load(source.arenaView().slice(), offsets, lengths, langs, keys, df, cf);
    expect(table.size).toBe(n);
    expect(wordsOf(table)).toEqual(wordsOf(source));
    expect([...table.keysById()]).toEqual([...keys]);
    entries.forEach(([lang, word], id) => {
      expect(intern(table, lang, key(lang, word), word, 0, word.length)).toBe(id);
      expect([table.df(id), table.cf(id), table.language(id)]).toEqual([
        source.df(id),
        source.cf(id),
        lang,
      ]);
    });
    expect(table.cf(5)).toBe(2 ** 33 + 7);
    // It goes on growing as a table that interned them itself.
    for (let i = 0; i < 5000; i++) {
      const word = `new${i}`;
      expect(intern(table, 1, key(1, word), word, 0, word.length)).toBe(n + i);
    }
    expect(wordsOf(table).slice(n, n + 2)).toEqual(['new0', 'new1']);

    expect(() => table.load(source.arenaView(), offsets, lengths, langs, keys, df, cf)).toThrow(
      /empty/,
    );
    // An arena with room past its words (a drained worker's) is taken over, not copied: later
    // words are written into the same buffer, after the loaded ones.
    const words = source.arenaView();
    const roomy = new Uint16Array(words.length + 64);
    roomy.set(words);
    const adopting = new TermTable(16);
    adopting.load(roomy.subarray(0, words.length), offsets, lengths, langs, keys, df, cf);
    expect(wordsOf(adopting)).toEqual(wordsOf(source));
    expect(intern(adopting, 0, key(0, 'later'), 'later', 0, 5)).toBe(n);
    expect(String.fromCharCode(...roomy.subarray(words.length, words.length + 5))).toBe('later');
    expect(wordsOf(adopting)[n]).toBe('later');
    // Without room it copies: what the caller does with its array afterwards does not matter.
    const exact = words.slice();
    const copying = new TermTable(16);
    copying.load(exact, offsets, lengths, langs, keys, df, cf);
    exact.fill(0x41);
    expect(wordsOf(copying)).toEqual(wordsOf(source));

    const outside = Uint32Array.from(offsets);
    outside[7] = source.arenaView().length - 1;
    expect(() =>
      new TermTable(16).load(source.arenaView(), outside, lengths, langs, keys, df, cf),
    ).toThrow(/term 7 lies outside its arena/);
  });

  it("interns words read from another table's arena, finds them again, and orders words as strings are ordered", () => {
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
    const source = new TermTable(4);
    for (const word of words) intern(source, 0, key(word), word, 0, word.length);
    const table = new TermTable(4);
    intern(table, 0, key('ab'), 'ab', 0, 2);
    intern(table, 0, key(COLLIDING[1]), COLLIDING[1], 0, COLLIDING[1].length);
    const arena = source.arenaView();
    const ids = words.map((word, id) =>
      table.internUnits(0, key(word), arena, source.offset(id), source.length(id)),
    );
    expect(ids).toEqual([2, 3, 0, 4, 5, 6, 7, 8, 9, 10, 1]);
    expect(wordsOf(table)).toEqual([
      'ab',
      COLLIDING[1],
      ...words.filter((w) => w !== 'ab' && w !== COLLIDING[1]),
    ]);
    words.forEach((word, i) => {
      expect(intern(table, 0, key(word), word, 0, word.length)).toBe(ids[i]);
    });
    const byString = [...words].sort();
    const byUnits = words
      .map((_, i) => ids[i]!)
      .sort((a, b) => table.compareWords(a, b))
      .map((id) => wordsOf(table)[id]);
    expect(byUnits).toEqual(byString);
  });

  it('carries collection frequencies past 2^32', () => {
    const table = new TermTable();
    const id = intern(table, 0, 1, 'the', 0, 3);
    table.count(id, 1, 2 ** 32 - 1);
    table.count(id, 1, 5);
    table.count(id, 1, 2 ** 33);
    expect(table.cf(id)).toBe(2 ** 32 - 1 + 5 + 2 ** 33);
    expect(table.df(id)).toBe(3);
  });
});

describe('sharedTermIds', () => {
  it("finds a document's words in a shared dictionary as one lookup per word does", () => {
    const random = prng(11);
    const known: string[] = [COLLIDING[0]];
    for (let i = 0; i < 3000; i++) known.push(`w${Math.floor(random() * 1e9).toString(36)}`);
    const terms = LanguageTerms.fromTerms(
      'en',
      [...new Set(known)],
      known.map(() => 1),
      known.map(() => 1),
    );
    const shared = terms.shared();
    const doc = new DocumentTerms();
    // Known words, unknown ones, and the colliding word the dictionary lacks.
    const words = [...known.slice(0, 200), 'absent', COLLIDING[1], ...known.slice(2500, 2600)];
    addTermRanges(words.join(' '), 'en', doc);
    const ids = new Int32Array(doc.size);
    sharedTermIds(shared, doc, ids);
    let found = 0;
    for (let k = 0; k < doc.size; k++) {
      const word = doc.term(k);
      const one = sharedTermId(shared, word, 0, word.length, hashRange(word, 0, word.length));
      expect(ids[k], word).toBe(one);
      expect(ids[k], word).toBe(terms.id(word));
      if (ids[k]! >= 0) found++;
    }
    expect(found).toBe(doc.size - 2);
    const missing = Array.from({ length: doc.size }, (_, k) => k).filter((k) => ids[k] === -1);
    expect(missing.map((k) => doc.term(k))).toEqual(['absent', COLLIDING[1]]);
  });
});
