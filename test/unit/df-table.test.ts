import { describe, expect, it } from 'vitest';
import {
  type DfTables,
  FullCounter,
  localToGlobal,
  mergeTables,
  rankTerms,
} from '../../src/analysis/df-table.js';
import { TermCounts } from '../../src/analysis/term-counts.js';
import { readTermCounts } from '../../src/analysis/term-ids.js';
import { addTerms } from '../../src/analysis/tokenizer.js';

function counts(text: string, lang = 'en'): TermCounts {
  const out = new TermCounts();
  addTerms(text, lang, out);
  return out;
}

describe('FullCounter', () => {
  it('counts documents, document frequency and occurrences per language', () => {
    const counter = new FullCounter(false);
    counter.addDocument('a', 'en', 1, counts('the cat and the hat and the bat'));
    counter.addDocument('b', 'en', 2, counts('the dog'));
    counter.addDocument('c', 'fr', 3, counts('le chat le chien'));
    const tables: DfTables = new Map();
    mergeTables(tables, counter.tables());
    const en = tables.get('en')!;
    expect(en.n).toBe(2);
    expect(Object.fromEntries(en.df)).toEqual({ the: 2, cat: 1, and: 1, hat: 1, bat: 1, dog: 1 });
    expect(Object.fromEntries(en.cf)).toEqual({ the: 4, cat: 1, and: 2, hat: 1, bat: 1, dog: 1 });
    expect(Object.fromEntries(tables.get('fr')!.cf)).toEqual({ le: 2, chat: 1, chien: 1 });
  });

  it('merges two workers, ranks by df and re-encodes records with global ids and tfs', () => {
    const one = new FullCounter(true);
    const two = new FullCounter(true);
    one.addDocument('a', 'en', 10, counts('zebra the the zebra zebra'));
    two.addDocument('b', 'en', 20, counts('the of the of the'));
    two.addDocument('c', 'en', 30, counts('of the'));
    const tables: DfTables = new Map();
    const drained = [one.tables(), two.tables()];
    for (const t of drained) mergeTables(tables, t);
    const ranked = rankTerms(tables.get('en')!);
    // the: df 3, cf 6; of: df 2, cf 3; zebra: df 1, cf 3.
    expect(ranked.terms).toEqual(['the', 'of', 'zebra']);
    expect([...ranked.df]).toEqual([3, 2, 1]);
    expect([...ranked.cf]).toEqual([6, 3, 3]);
    const ids = new Map(ranked.terms.map((term, id) => [term, id]));

    const encodedOne = one.encode(new Map([['en', localToGlobal(drained[0]![0]!, ids)]]));
    const first = readTermCounts(encodedOne.records);
    expect([...first.ids]).toEqual([0, 2]);
    expect([...first.tfs]).toEqual([2, 3]);
    expect(first.end).toBe(encodedOne.ends[0]);

    const encodedTwo = two.encode(new Map([['en', localToGlobal(drained[1]![0]!, ids)]]));
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
});

describe('TermCounts', () => {
  it('counts every occurrence of each token, in first-seen order, and starts over when cleared', () => {
    const out = new TermCounts();
    addTerms('x', 'fr', out);
    out.clear();
    addTerms("The cat and THE hat; l'homme, the end", 'fr', out);
    expect(out.size).toBe(7);
    expect(out.terms).toEqual(['the', 'cat', 'and', 'hat', "l'", 'homme', 'end']);
    expect([...out.tfs.subarray(0, out.size)]).toEqual([3, 1, 1, 1, 1, 1, 1]);
    expect(Object.fromEntries(out.toMap())).toEqual({
      the: 3,
      cat: 1,
      and: 1,
      hat: 1,
      "l'": 1,
      homme: 1,
      end: 1,
    });
  });

  it('grows past its initial capacity', () => {
    const out = new TermCounts();
    for (let i = 0; i < 3000; i++) out.add(`w${i}`);
    out.add('w2999');
    expect(out.size).toBe(3000);
    expect([out.tfs[0], out.tfs[2998], out.tfs[2999]]).toEqual([1, 1, 2]);
  });
});
