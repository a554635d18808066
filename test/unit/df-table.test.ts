import { describe, expect, it } from 'vitest';
import {
  FullCounter,
  languageWords,
  type MergedLanguage,
  MergedTerms,
  selectionTable,
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

/** `prefix`, then `i` in the letters a-z: the tokeniser drops words with digits. */
function word(prefix: string, i: number): string {
  return (
    prefix + [...i.toString(26)].map((d) => String.fromCharCode(97 + parseInt(d, 26))).join('')
  );
}

function byLang(counted: readonly MergedLanguage[]): Map<string, MergedLanguage> {
  return new Map(counted.map((language) => [language.lang, language]));
}

function frequencies(language: MergedLanguage, of: 'df' | 'cf'): Record<string, number> {
  return Object.fromEntries(languageWords(language).map((term, id) => [term, language[of][id]!]));
}

describe('FullCounter and MergedTerms', () => {
  it('count documents, document frequency and occurrences per language', () => {
    const counter = new FullCounter(false);
    counter.addDocument('a', 'en', 1, counts('the cat and the hat and the bat'));
    counter.addDocument('b', 'en', 2, counts('the dog'));
    counter.addDocument('c', 'fr', 3, counts('le chat le chien'));
    const merged = new MergedTerms();
    merged.add(counter.terms());
    const counted = byLang(merged.byGlobalId().languages);
    expect([...counted.keys()]).toEqual(['en', 'fr']);
    const en = counted.get('en')!;
    expect(en.n).toBe(2);
    expect(frequencies(en, 'df')).toEqual({ the: 2, cat: 1, and: 1, hat: 1, bat: 1, dog: 1 });
    expect(frequencies(en, 'cf')).toEqual({ the: 4, cat: 1, and: 2, hat: 1, bat: 1, dog: 1 });
    expect(frequencies(counted.get('fr')!, 'cf')).toEqual({ le: 2, chat: 1, chien: 1 });
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
    const counted = byLang(merged.byGlobalId().languages);
    expect(frequencies(counted.get('en')!, 'df')).toEqual({ the: 2, cat: 1, dog: 1 });
    expect(frequencies(counted.get('fr')!, 'cf')).toEqual({ le: 3, chat: 1, chien: 1 });
  });

  it("merge two workers: the first one's ids are global, the other's are mapped by its numbering", () => {
    const one = new FullCounter(true);
    const two = new FullCounter(true);
    one.addDocument('a', 'en', 10, counts('zebra the the zebra zebra'));
    two.addDocument('b', 'en', 20, counts('the of the of the'));
    two.addDocument('c', 'de', 25, counts('der hund'));
    two.addDocument('d', 'en', 30, counts('of the'));
    const merged = new MergedTerms();
    // The first table is taken over: no numbering. The second's: per language of the worker.
    expect(merged.add(one.terms())).toBeNull();
    const numbering = merged.add(two.terms())!;
    const { languages } = merged.byGlobalId();
    const en = languages.find((language) => language.lang === 'en')!;
    // The first worker's terms in the order it saw them, then the one only the second saw.
    expect(languageWords(en)).toEqual(['zebra', 'the', 'of']);
    expect([...en.df]).toEqual([1, 3, 2]);
    expect([...en.cf]).toEqual([3, 6, 3]);
    // The second worker saw en's 'the' (its 0) and 'of' (its 1), and de's 'der' and 'hund'.
    expect(numbering.map((ids) => [...ids])).toEqual([
      [1, 2],
      [0, 1],
    ]);
    const handOn = (counter: FullCounter, number: number): EncodedDocuments => {
      const pieces: EncodedDocuments[] = [];
      counter.handOn(number, (piece) => pieces.push(piece));
      expect(pieces).toHaveLength(1);
      expect(pieces[0]!.numbering).toBe(number);
      return pieces[0]!;
    };

    // Each worker's records hold its own ids within the language, sorted, as the state keeps
    // them: the first worker's are the global ids.
    const first = handOn(one, 0);
    const a = readTermCounts(first.records);
    expect([[...a.ids], [...a.tfs]]).toEqual([
      [0, 1],
      [3, 2],
    ]);
    expect(a.end).toBe(first.ends[0]);

    const second = handOn(two, 1);
    expect(second.ids).toEqual(['b', 'c', 'd']);
    expect([...second.updatedAt]).toEqual([20, 25, 30]);
    expect(second.langOf.map((l) => l)).toEqual(Uint16Array.of(0, 1, 0));
    expect(second.langs).toEqual(['en', 'de']);
    const b = readTermCounts(second.records);
    const c = readTermCounts(second.records, b.end);
    const d = readTermCounts(second.records, c.end);
    expect([[...b.ids], [...b.tfs]]).toEqual([
      [0, 1],
      [3, 2],
    ]);
    expect([...c.ids]).toEqual([0, 1]);
    expect([[...d.ids], [...d.tfs]]).toEqual([
      [0, 1],
      [1, 1],
    ]);
    // Through the numbering: 'the' and 'of', global ids 1 and 2.
    expect([...b.ids].map((id) => languageWords(en)[numbering[0]![id]!])).toEqual(['the', 'of']);
  });

  it('hand on the documents in pieces of whole documents, in order', () => {
    const counter = new FullCounter(true);
    const texts = Array.from(
      { length: 500 },
      (_, i) => `the ${word('w', i)} ${word('x', i % 7)} the`,
    );
    texts.forEach((text, i) => {
      counter.addDocument(`d${i}`, i % 2 === 0 ? 'en' : 'de', i, counts(text));
    });
    const merged = new MergedTerms();
    expect(merged.add(counter.terms())).toBeNull();
    const { languages } = merged.byGlobalId();
    const pieces: EncodedDocuments[] = [];
    counter.handOn(0, (piece) => pieces.push(piece), 256);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.flatMap((piece) => piece.ids)).toEqual(texts.map((_, i) => `d${i}`));
    const byName = new Map(languages.map((language) => [language.lang, languageWords(language)]));
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

  it('give the same terms and counts whichever worker counted which document', () => {
    const texts = Array.from({ length: 300 }, (_, i) =>
      ['the', word('w', i % 37), word('x', i % 11), word('y', i), i % 2 === 0 ? 'of' : 'and'].join(
        ' ',
      ),
    );
    const countWith = (split: (i: number) => number, order: number[]): MergedLanguage[] => {
      const workers = [new FullCounter(false), new FullCounter(false), new FullCounter(false)];
      texts.forEach((text, i) => {
        workers[split(i)]!.addDocument(`d${i}`, i % 5 === 0 ? 'fr' : 'en', i, counts(text));
      });
      const merged = new MergedTerms();
      for (const w of order) merged.add(workers[w]!.terms());
      return merged.byGlobalId().languages;
    };
    const terms = (languages: MergedLanguage[]) =>
      languages.map((language) => ({
        lang: language.lang,
        n: language.n,
        df: frequencies(language, 'df'),
        cf: frequencies(language, 'cf'),
      }));
    const a = countWith((i) => i % 3, [0, 1, 2]);
    const b = countWith((i) => (i * 7 + 1) % 3, [0, 2, 1]);
    const c = countWith(() => 0, [0, 1, 2]);
    expect(terms(b)).toEqual(terms(a));
    expect(terms(c)).toEqual(terms(a));
    expect(terms(a)[0]!.df.the).toBe(240);
    // One worker: the terms in the order its documents first had them.
    const en = c.find((l) => l.lang === 'en')!;
    expect(languageWords(en).slice(0, 6)).toEqual(['the', 'wb', 'xb', 'yb', 'and', 'wc']);
    // The ids follow the first worker's documents: d2, d5, d8, … in `b`.
    expect(languageWords(b.find((l) => l.lang === 'en')!).slice(0, 3)).toEqual(['the', 'wc', 'xc']);
  });

  it('keep two words of the same hash apart, in the order they were first seen', () => {
    // Two words with the same 32-bit FNV-1a hash, so the same key in the same language.
    const [a, b] = ['gxwjqbe', 'ensbcjc'];
    const one = new FullCounter(false);
    const two = new FullCounter(false);
    one.addDocument('d1', 'en', 1, counts(`${a} ${b} the`));
    two.addDocument('d2', 'en', 2, counts(`${b} ${a} the`));
    two.addDocument('d3', 'en', 3, counts(`${b}`));
    const merged = new MergedTerms();
    merged.add(one.terms());
    merged.add(two.terms());
    const en = merged.byGlobalId().languages[0]!;
    expect(languageWords(en)).toEqual([a, b, 'the']);
    expect([...en.df]).toEqual([2, 3, 2]);
  });

  it('selectionTable keeps the terms at or above the ratio, with N', () => {
    const counter = new FullCounter(false);
    for (let i = 0; i < 10; i++)
      counter.addDocument(`d${i}`, 'en', i, counts(i < 3 ? 'the a' : 'the'));
    const merged = new MergedTerms();
    merged.add(counter.terms());
    const [en] = merged.byGlobalId().languages;
    const table = selectionTable(en!, 0.3);
    expect(table.n).toBe(10);
    expect(Object.fromEntries(table.df)).toEqual({ the: 10, a: 3 });
    expect(Object.fromEntries(table.cf)).toEqual({ the: 10, a: 3 });
    expect(Object.fromEntries(selectionTable(en!, 0.31).df)).toEqual({ the: 10 });
  });
});
