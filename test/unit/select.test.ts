import { describe, expect, it } from 'vitest';
import type { DfTables } from '../../src/analysis/df-table.js';
import {
  formatConfidence,
  residualIdf,
  selectLanguage,
  selectStopwords,
  stopwordScore,
} from '../../src/analysis/select.js';

const rules = { minDocuments: 10, minDocumentRatio: 0.5, leaveDocumentRatio: 0.3, maxStopwords: 3 };

/** Entries are df, or [df, cf]; a bare df means every occurrence in its own document (cf = df). */
function table(n: number, entries: Record<string, number | [number, number]>): DfTables {
  const df = new Map<string, number>();
  const cf = new Map<string, number>();
  for (const [word, value] of Object.entries(entries)) {
    df.set(word, typeof value === 'number' ? value : value[0]);
    cf.set(word, typeof value === 'number' ? value : value[1]);
  }
  return new Map([['en', { n, df, cf }]]);
}

describe('selectStopwords', () => {
  it('takes words at or above minDocumentRatio; without bursts the confidence is df/N', () => {
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
      ['und', { n: 500, df: new Map([['x', 500]]), cf: new Map([['x', 500]]) }],
      ['fr', { n: 9, df: new Map([['le', 9]]), cf: new Map([['le', 9]]) }],
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
    const sel = selectLanguage(
      'en',
      { n: 3, df: new Map([['x', 1]]), cf: new Map([['x', 1]]) },
      undefined,
      { ...rules, minDocuments: 1, minDocumentRatio: 1 / 3 },
    );
    expect(sel.words.map((w) => w.word)).toEqual(['x']);
  });

  it('ranks and caps by df/N × 2^−RIDF: a bursty word falls behind rarer even ones', () => {
    // N = 100. kernel: df 60, cf 300; a Poisson spread of 300 occurrences over 100 documents
    // reaches 100 × (1 − e^−3) = 95.02 of them, so RIDF = −log2(0.6) + log2(0.950213) = 0.6633
    // bits and the confidence 0.6 × 2^−0.6633 = 0.6 × 60/95.02 = 0.3789. the (df 90, cf 230:
    // expected 89.97), and (80, 80) and of (50, 60) are no burstier than Poisson: df/N.
    const [en] = selectStopwords(
      table(100, { the: [90, 230], kernel: [60, 300], and: 80, of: [50, 60] }),
      new Map(),
      rules,
    );
    expect(en?.words.map((w) => [w.word, w.df, w.cf, w.confidence])).toEqual([
      ['the', 90, 230, 0.9],
      ['and', 80, 80, 0.8],
      ['of', 50, 60, 0.5],
    ]);
    const uncapped = selectLanguage(
      'en',
      table(100, { the: [90, 230], kernel: [60, 300], of: [50, 60] }).get('en')!,
      undefined,
      rules,
    );
    expect(uncapped.words.map((w) => [w.word, w.confidence])).toEqual([
      ['the', 0.9],
      ['of', 0.5],
      ['kernel', 0.3789],
    ]);
  });

  it('computes residual IDF and the score from df, cf and N', () => {
    expect(residualIdf(60, 300, 100)).toBeCloseTo(0.663288, 6);
    expect(stopwordScore(60, 300, 100)).toBeCloseTo(0.378862, 6);
    expect(stopwordScore(60, 300, 100)).toBeCloseTo(0.6 * 2 ** -residualIdf(60, 300, 100), 12);
    // df 40, cf 400: expected df 98.17, RIDF 1.2953, 0.4 × 40/98.17 = 0.1630.
    expect(residualIdf(40, 400, 100)).toBeCloseTo(1.295259, 6);
    expect(stopwordScore(40, 400, 100)).toBeCloseTo(0.162985, 6);
    // Negative RIDF (more even than Poisson: cf = df) counts as 0: the score is df/N.
    expect(residualIdf(80, 80, 100)).toBeCloseTo(-0.538809, 6);
    expect(stopwordScore(80, 80, 100)).toBe(0.8);
    expect(stopwordScore(100, 100, 100)).toBe(1);
  });

  it('keeps the thresholds on df/N: a bursty word enters and stays by its df, not its score', () => {
    const live = new Map([['en', new Set(['bursty'])]]);
    // bursty: df 35 ≥ leave (30) though its score is 0.35 × 35/100 ≈ 0.12; heavy: df 29 < 30.
    const [en] = selectStopwords(
      table(100, { the: [90, 230], bursty: [35, 5000], heavy: [29, 29], rare: [49, 49] }),
      live,
      rules,
    );
    expect(en?.words.map((w) => [w.word, w.confidence])).toEqual([
      ['the', 0.9],
      ['bursty', 0.1225],
    ]);
  });

  it('formats confidences as four-decimal strings in [0, 1]', () => {
    expect(formatConfidence(1)).toBe('1.0000');
    expect(formatConfidence(0.12345)).toBe('0.1235');
  });
});
