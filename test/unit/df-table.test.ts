import { describe, expect, it } from 'vitest';
import {
  FullCounter,
  MergedTerms,
  type RankedLanguage,
  rankedTerms,
  selectionTable,
  sortByKeys,
} from '../../src/analysis/df-table.js';
import type { EncodedDocuments } from '../../src/analysis/protocol.js';
import { DocumentTerms } from '../../src/analysis/term-table.js';
import { addTermRanges } from '../../src/analysis/tokenizer.js';
import { readTermCounts } from '../support/term-records.js';

const scratch = new DocumentTerms();
function counts(text: string, lang = 'en'): DocumentTerms {
  scratch.clear();
  addTermRanges(text, lang, scratch);
  return scratch;
}

function byLang(ranked: readonly RankedLanguage[]): Map<string, RankedLanguage> {
  return new Map(ranked.map((language) => [language.lang, language]));
}

function frequencies(language: RankedLanguage, of: 'df' | 'cf'): Record<string, number> {
  return Object.fromEntries(rankedTerms(language).map((term, id) => [term, language[of][id]!]));
}

describe('FullCounter and MergedTerms', () => {
  it('count documents, document frequency and occurrences per language', () => {
    const counter = new FullCounter(false);
    counter.addDocument('a', 'en', 1, counts('the cat and the hat and the bat'));
    counter.addDocument('b', 'en', 2, counts('the dog'));
    counter.addDocument('c', 'fr', 3, counts('le chat le chien'));
    const merged = new MergedTerms();
    merged.add(counter.terms());
    const ranked = byLang(merged.rank().languages);
    expect([...ranked.keys()]).toEqual(['en', 'fr']);
    const en = ranked.get('en')!;
    expect(en.n).toBe(2);
    expect(frequencies(en, 'df')).toEqual({ the: 2, cat: 1, and: 1, hat: 1, bat: 1, dog: 1 });
    expect(frequencies(en, 'cf')).toEqual({ the: 4, cat: 1, and: 2, hat: 1, bat: 1, dog: 1 });
    expect(frequencies(ranked.get('fr')!, 'cf')).toEqual({ le: 2, chat: 1, chien: 1 });
    // What a worker hands over must name the languages its counts are by.
    const other = new FullCounter(false);
    other.addDocument('d', 'de', 4, counts('der hund'));
    expect(() =>
      new MergedTerms().add({ ...other.terms(), documents: Float64Array.of(1, 1) }),
    ).toThrow(/document counts for other languages/);
  });

  it('rank languages whose indices differ between the workers, the first one included', () => {
    const one = new FullCounter(false);
    one.addDocument('a', 'fr', 1, counts('le chat'));
    one.addDocument('b', 'en', 2, counts('the cat'));
    const two = new FullCounter(false);
    two.addDocument('c', 'en', 3, counts('the dog'));
    two.addDocument('d', 'fr', 4, counts('le chien le'));
    // The first worker counted nothing: the others are absorbed into its empty table.
    const merged = new MergedTerms();
    merged.add(new FullCounter(false).terms());
    merged.add(two.terms());
    merged.add(one.terms());
    const ranked = byLang(merged.rank().languages);
    expect(frequencies(ranked.get('en')!, 'df')).toEqual({ the: 2, cat: 1, dog: 1 });
    expect(frequencies(ranked.get('fr')!, 'cf')).toEqual({ le: 3, chat: 1, chien: 1 });
  });

  it('merge two workers, rank by df and re-encode records with global ids and tfs', () => {
    const one = new FullCounter(true);
    const two = new FullCounter(true);
    one.addDocument('a', 'en', 10, counts('zebra the the zebra zebra'));
    two.addDocument('b', 'en', 20, counts('the of the of the'));
    two.addDocument('c', 'en', 30, counts('of the'));
    const merged = new MergedTerms();
    const mergedOf = [merged.add(one.terms()), merged.add(two.terms())];
    const { languages, globalOf } = merged.rank();
    const en = languages[0]!;
    // the: df 3, cf 6; of: df 2, cf 3; zebra: df 1, cf 3.
    expect(rankedTerms(en)).toEqual(['the', 'of', 'zebra']);
    expect([...en.df]).toEqual([3, 2, 1]);
    expect([...en.cf]).toEqual([6, 3, 3]);
    const map = (local: Uint32Array): Uint32Array => local.map((id) => globalOf[id]!);
    const encode = (counter: FullCounter, local: Uint32Array): EncodedDocuments => {
      const pieces: EncodedDocuments[] = [];
      counter.encode(map(local), (piece) => pieces.push(piece));
      expect(pieces).toHaveLength(1);
      return pieces[0]!;
    };

    const encodedOne = encode(one, mergedOf[0]!);
    const first = readTermCounts(encodedOne.records);
    expect([...first.ids]).toEqual([0, 2]);
    expect([...first.tfs]).toEqual([2, 3]);
    expect(first.end).toBe(encodedOne.ends[0]);

    const encodedTwo = encode(two, mergedOf[1]!);
    expect(encodedTwo.ids).toEqual(['b', 'c']);
    expect([...encodedTwo.updatedAt]).toEqual([20, 30]);
    const b = readTermCounts(encodedTwo.records);
    const c = readTermCounts(encodedTwo.records, b.end);
    expect([[...b.ids], [...b.tfs]]).toEqual([
      [0, 1],
      [3, 2],
    ]);
    expect([[...c.ids], [...c.tfs]]).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('hand over the re-encoded documents in pieces of whole documents, in order', () => {
    const counter = new FullCounter(true);
    // Letters only: the tokeniser drops words with digits.
    const word = (prefix: string, i: number): string =>
      prefix + [...i.toString(26)].map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('');
    const texts = Array.from(
      { length: 500 },
      (_, i) => `the ${word('w', i)} ${word('x', i % 7)} the`,
    );
    texts.forEach((text, i) => {
      counter.addDocument(`d${i}`, i % 2 === 0 ? 'en' : 'de', i, counts(text));
    });
    const merged = new MergedTerms();
    const local = merged.add(counter.terms());
    const { languages, globalOf } = merged.rank();
    const pieces: EncodedDocuments[] = [];
    counter.encode(
      local.map((id) => globalOf[id]!),
      (piece) => pieces.push(piece),
      256,
    );
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.flatMap((piece) => piece.ids)).toEqual(texts.map((_, i) => `d${i}`));
    const byName = new Map(languages.map((language) => [language.lang, rankedTerms(language)]));
    let doc = 0;
    for (const piece of pieces) {
      let offset = 0;
      for (let i = 0; i < piece.ids.length; i++, doc++) {
        const record = readTermCounts(piece.records, offset);
        expect(record.end).toBe(piece.ends[i]);
        offset = record.end;
        const terms = byName.get(piece.langs[piece.langOf[i]!]!)!;
        const words = Object.fromEntries(
          [...record.ids].map((id, k) => [terms[id]!, record.tfs[k]!]),
        );
        expect(words).toEqual({ the: 2, [word('w', doc)]: 1, [word('x', doc % 7)]: 1 });
        expect(piece.updatedAt[i]).toBe(doc);
      }
      expect(offset).toBe(piece.records.length);
    }
  });

  it('give the same ids whichever worker counted which document', () => {
    const texts = Array.from({ length: 300 }, (_, i) =>
      ['the', `w${i % 37}`, `x${i % 11}`, `y${i}`, i % 2 === 0 ? 'of' : 'and'].join(' '),
    );
    const rankWith = (split: (i: number) => number, order: number[]): RankedLanguage[] => {
      const workers = [new FullCounter(false), new FullCounter(false), new FullCounter(false)];
      texts.forEach((text, i) => {
        workers[split(i)]!.addDocument(`d${i}`, i % 5 === 0 ? 'fr' : 'en', i, counts(text));
      });
      const merged = new MergedTerms();
      for (const w of order) merged.add(workers[w]!.terms());
      return merged.rank().languages;
    };
    const a = rankWith((i) => i % 3, [0, 1, 2]);
    const b = rankWith((i) => (i * 7 + 1) % 3, [2, 0, 1]);
    const c = rankWith(() => 0, [0, 1, 2]);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    const en = a.find((l) => l.lang === 'en')!;
    for (let id = 1; id < en.df.length; id++)
      expect(en.df[id]!).toBeLessThanOrEqual(en.df[id - 1]!);
  });

  it('rank terms of equal df and equal hash by the words themselves', () => {
    // Two words with the same 32-bit FNV-1a hash, so the same key in the same language.
    const [a, b] = ['gxwjqbe', 'ensbcjc'];
    const one = new FullCounter(false);
    const two = new FullCounter(false);
    one.addDocument('d1', 'en', 1, counts(`${a} ${b} the`));
    two.addDocument('d2', 'en', 2, counts(`${b} ${a} the`));
    const merged = new MergedTerms();
    merged.add(one.terms());
    merged.add(two.terms());
    const en = merged.rank().languages[0]!;
    // Equal df: by key, so the two colliding words side by side, then by the word.
    expect([...en.df]).toEqual([2, 2, 2]);
    expect(rankedTerms(en).indexOf(a)).toBe(rankedTerms(en).indexOf(b) + 1);
  });

  it('selectionTable keeps the terms at or above the ratio, with N', () => {
    const counter = new FullCounter(false);
    for (let i = 0; i < 10; i++)
      counter.addDocument(`d${i}`, 'en', i, counts(i < 3 ? 'the a' : 'the'));
    const merged = new MergedTerms();
    merged.add(counter.terms());
    const [en] = merged.rank().languages;
    const table = selectionTable(en!, 0.3);
    expect(table.n).toBe(10);
    expect(Object.fromEntries(table.df)).toEqual({ the: 10, a: 3 });
    expect(Object.fromEntries(table.cf)).toEqual({ the: 10, a: 3 });
    expect(Object.fromEntries(selectionTable(en!, 0.31).df)).toEqual({ the: 10 });
  });
});

describe('sortByKeys', () => {
  it('orders by (high, low) as unsigned numbers, ties by the comparator, at every size', () => {
    let seed = 1;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (const n of [0, 1, 5, 511, 512, 5000]) {
      const items = Uint32Array.from({ length: n }, (_, i) => i);
      // Few distinct keys, so that many items tie and need the comparator.
      const high = Uint32Array.from(
        { length: n },
        () => [0, 7, 0xffffffff, 2 ** 31][random() % 4]!,
      );
      const low = Uint32Array.from({ length: n }, () => (random() % 3) * 0x7fff0001);
      const tie = (a: number, b: number): number => b - a;
      const expected = [...items].sort(
        (a, b) => high[a]! - high[b]! || low[a]! - low[b]! || tie(a, b),
      );
      expect([...sortByKeys(items, high, low, tie)]).toEqual(expected);
    }
    // Keys as the ranking makes them (0xffffffff − df with every df below 65,536, so every
    // high half is 0xffff), and low keys whose low half is the same for all: both passes on
    // a digit every item shares are skipped, and the order is still right.
    const n = 3000;
    const items = Uint32Array.from({ length: n }, (_, i) => i);
    const high = Uint32Array.from({ length: n }, () => 0xffffffff - (random() % 40));
    const low = Uint32Array.from({ length: n }, () => ((random() % 50) * 0x10000 + 9) >>> 0);
    const tie = (a: number, b: number): number => a - b;
    const expected = [...items].sort(
      (a, b) => high[a]! - high[b]! || low[a]! - low[b]! || tie(a, b),
    );
    expect([...sortByKeys(items, high, low, tie)]).toEqual(expected);
  });
});
