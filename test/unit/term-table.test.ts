import { describe, expect, it } from 'vitest';
import {
  DocumentTerms,
  hashRange,
  hashUnits,
  lengthPrefixed,
  ownPages,
  prefixedWords,
  sharedTermId,
  sharedTermIds,
  type UnitSink,
} from '../../src/analysis/term-table.js';
import { addTermRanges, tokenize } from '../../src/analysis/tokenizer.js';
import { LanguageTerms } from '../../src/state/term-dictionary.js';
import { prng, sampleDocuments } from '../support/corpus.js';

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
      const units = Uint16Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
      let at = 0;
      for (const word of words) {
        terms.addUnits(units, at, at + word.length, hashUnits(units, at, at + word.length));
        at += word.length + 1;
      }
      expect(documentMap(terms)).toEqual(expected);
    }
  });
});

describe('the tokeniser as a UnitSink feeder', () => {
  it("hands over each word's hashRange with it, on real multilingual text", () => {
    const docs = sampleDocuments();
    // Texts at the fast path's edges: the last word at the text's end, a 40- and a 41-unit word.
    docs.push({ lang: 'en', text: `ends here ${'a'.repeat(40)} ${'b'.repeat(41)} x` });
    let reported = 0;
    let wrongHashes = 0;
    for (const { lang, text } of docs) {
      const words: string[] = [];
      const sink: UnitSink = {
        addUnits(units, start, end, hash) {
          reported++;
          const word = String.fromCharCode(...units.subarray(start, end));
          if (hash !== hashRange(word, 0, word.length)) wrongHashes++;
          words.push(word);
        },
      };
      addTermRanges(text, lang, sink);
      expect(words).toEqual(tokenize(text, lang));
    }
    expect(docs.length).toBeGreaterThan(4000);
    expect(reported).toBeGreaterThan(100_000);
    expect(wrongHashes).toBe(0);
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
