/**
 * Stopword selection from document frequencies. Pure.
 *
 * A word enters a list when its document ratio df/N reaches `minDocumentRatio` and, once live,
 * stays while the ratio is at least `leaveDocumentRatio`, so words near the line do not flap
 * from night to night. Lists are capped at `maxStopwords`, ranked by ratio; languages with fewer
 * than `minDocuments` documents, and `und`, are not published.
 */
import type { DfTables } from './df-table.js';

export interface SelectionRules {
  readonly minDocuments: number;
  readonly minDocumentRatio: number;
  readonly leaveDocumentRatio: number;
  readonly maxStopwords: number;
}

export interface Stopword {
  readonly word: string;
  readonly df: number;
  /** df/N rounded to four decimals: the share of the language's documents that contain it. */
  readonly confidence: number;
}

export interface LanguageSelection {
  readonly lang: string;
  readonly documents: number;
  /** Empty when the language is not published. */
  readonly words: readonly Stopword[];
  readonly published: boolean;
  /** Why a language with documents is not published. */
  readonly skipped: 'undetermined' | 'tooFewDocuments' | 'noStopwords' | null;
  readonly added: number;
  readonly removed: number;
}

export const UNDETERMINED = 'und';

/** Decimal string stored in Redis for a confidence. */
export function formatConfidence(confidence: number): string {
  return confidence.toFixed(4);
}

function compareWords(a: Stopword, b: Stopword): number {
  if (a.df !== b.df) return b.df - a.df;
  return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
}

export function selectLanguage(
  lang: string,
  n: number,
  df: ReadonlyMap<string, number>,
  live: ReadonlySet<string> | undefined,
  rules: SelectionRules,
): LanguageSelection {
  const liveSize = live?.size ?? 0;
  const skip = (skipped: LanguageSelection['skipped']): LanguageSelection => ({
    lang,
    documents: n,
    words: [],
    published: false,
    skipped,
    added: 0,
    removed: liveSize,
  });
  if (lang === UNDETERMINED) return skip('undetermined');
  if (n < rules.minDocuments || n === 0) return skip('tooFewDocuments');

  // Integer thresholds avoid floating-point disagreement between runs over the same counts.
  const enter = Math.ceil(rules.minDocumentRatio * n - 1e-9);
  const stay = Math.ceil(rules.leaveDocumentRatio * n - 1e-9);
  const candidates: Stopword[] = [];
  for (const [word, count] of df) {
    if (count >= enter || (count >= stay && live?.has(word) === true)) {
      candidates.push({ word, df: count, confidence: Math.round((count / n) * 10_000) / 10_000 });
    }
  }
  candidates.sort(compareWords);
  const words =
    candidates.length > rules.maxStopwords ? candidates.slice(0, rules.maxStopwords) : candidates;
  if (words.length === 0) return skip('noStopwords');
  let kept = 0;
  if (live !== undefined) for (const w of words) if (live.has(w.word)) kept++;
  return {
    lang,
    documents: n,
    words,
    published: true,
    skipped: null,
    added: words.length - kept,
    removed: liveSize - kept,
  };
}

/** Selects every language in `tables`, plus live languages that have no documents any more. */
export function selectStopwords(
  tables: DfTables,
  live: ReadonlyMap<string, ReadonlySet<string>>,
  rules: SelectionRules,
): LanguageSelection[] {
  const out: LanguageSelection[] = [];
  for (const [lang, table] of tables)
    out.push(selectLanguage(lang, table.n, table.df, live.get(lang), rules));
  for (const [lang, words] of live) {
    if (!tables.has(lang)) out.push(selectLanguage(lang, 0, new Map(), words, rules));
  }
  return out.sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : 0));
}
