import { describe, expect, it } from 'vitest';
import type { DfTables } from '../../src/analysis/df-table.js';
import { formatConfidence, selectLanguage, selectStopwords } from '../../src/analysis/select.js';

const rules = { minDocuments: 10, minDocumentRatio: 0.5, leaveDocumentRatio: 0.3, maxStopwords: 3 };

function table(n: number, entries: Record<string, number>): DfTables {
  return new Map([['en', { n, df: new Map(Object.entries(entries)) }]]);
}

describe('selectStopwords', () => {
  it('takes words at or above minDocumentRatio, ranked by document frequency', () => {
    const [en] = selectStopwords(
      table(100, { the: 90, of: 50, rare: 49, and: 80 }),
      new Map(),
      rules,
    );
    expect(en?.words.map((w) => w.word)).toEqual(['the', 'and', 'of']);
    expect(en?.words.map((w) => w.confidence)).toEqual([0.9, 0.8, 0.5]);
    expect(en?.added).toBe(3);
    expect(en?.published).toBe(true);
  });

  it('keeps a live word while it stays above leaveDocumentRatio (hysteresis)', () => {
    const live = new Map([['en', new Set(['of', 'gone'])]]);
    const [en] = selectStopwords(table(100, { the: 90, of: 35, gone: 29, new: 31 }), live, rules);
    expect(en?.words.map((w) => w.word)).toEqual(['the', 'of']);
    expect(en?.added).toBe(1);
    expect(en?.removed).toBe(1);
  });

  it('without hysteresis (leave = min) a word below the line leaves', () => {
    const live = new Map([['en', new Set(['of'])]]);
    const [en] = selectStopwords(table(100, { the: 90, of: 35 }), live, {
      ...rules,
      leaveDocumentRatio: 0.5,
    });
    expect(en?.words.map((w) => w.word)).toEqual(['the']);
  });

  it('caps each list at maxStopwords and breaks ties by word', () => {
    const [en] = selectStopwords(table(10, { b: 9, a: 9, c: 9, d: 9 }), new Map(), rules);
    expect(en?.words.map((w) => w.word)).toEqual(['a', 'b', 'c']);
  });

  it('does not publish und nor languages under minDocuments, and reports vanished live languages', () => {
    const tables: DfTables = new Map([
      ['und', { n: 500, df: new Map([['x', 500]]) }],
      ['fr', { n: 9, df: new Map([['le', 9]]) }],
    ]);
    const live = new Map([['de', new Set(['der', 'die'])]]);
    const result = selectStopwords(tables, live, rules);
    expect(result.map((r) => [r.lang, r.published, r.skipped, r.removed])).toEqual([
      ['de', false, 'tooFewDocuments', 2],
      ['fr', false, 'tooFewDocuments', 0],
      ['und', false, 'undetermined', 0],
    ]);
  });

  it('uses integer thresholds so equal counts give equal answers', () => {
    const sel = selectLanguage('en', 3, new Map([['x', 1]]), undefined, {
      ...rules,
      minDocuments: 1,
      minDocumentRatio: 1 / 3,
    });
    expect(sel.words.map((w) => w.word)).toEqual(['x']);
  });

  it('formats confidences as four-decimal strings in [0, 1]', () => {
    expect(formatConfidence(1)).toBe('1.0000');
    expect(formatConfidence(0.12345)).toBe('0.1235');
  });
});
