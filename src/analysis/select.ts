/**
 * Stopword selection from document and collection frequencies. Pure.
 *
 * Which words may enter: a word enters a list when its document ratio df/N reaches
 * `minDocumentRatio` and, once live, stays while the ratio is at least `leaveDocumentRatio`, so
 * words near the line do not flap from night to night. Languages with fewer than `minDocuments`
 * documents, and `und`, are not published.
 *
 * Which of them are kept, and the confidence published with each: lists are capped at
 * `maxStopwords`, ranked by
 *
 *     confidence = df/N × 2^−RIDF,   RIDF = −log2(df/N) + log2(1 − e^(−cf/N))
 *
 * with cf the word's occurrences in all N documents. RIDF is Church & Gale's residual IDF: the
 * IDF observed minus the IDF a Poisson spread of the cf occurrences over the N documents would
 * give. A function word is spread about as evenly as Poisson predicts (RIDF near 0, confidence
 * near df/N); a topical word comes several at a time in the documents that have it, so it is in
 * fewer documents than its occurrences predict (RIDF > 0) and is pushed down. RIDF below 0 (a
 * word more even than Poisson) counts as 0, so the confidence is in [0, 1] and never above df/N.
 * Equivalently, 2^−RIDF = df / (N × (1 − e^(−cf/N))), observed over expected document frequency.
 * Ties go to the higher df, then to the word in code-unit order.
 */
import type { DfTables, LanguageCounts } from './df-table.js';

export interface SelectionRules {
  readonly minDocuments: number;
  readonly minDocumentRatio: number;
  readonly leaveDocumentRatio: number;
  readonly maxStopwords: number;
}

export interface Stopword {
  readonly word: string;
  /** Documents containing the word. */
  readonly df: number;
  /** Occurrences of the word in all documents of the language. */
  readonly cf: number;
  /** df/N × 2^−max(0, RIDF) rounded to four decimals, in [0, 1] (see the module comment). */
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

/**
 * Church & Gale's residual IDF in bits: −log2(df/n) + log2(1 − e^(−cf/n)). 0 for a word whose
 * documents are as many as a Poisson spread of its occurrences predicts, positive for a bursty one.
 */
export function residualIdf(df: number, cf: number, n: number): number {
  return -Math.log2(df / n) + Math.log2(-Math.expm1(-cf / n));
}

/**
 * The ranking score: df/n × 2^−max(0, RIDF) = df/n × min(1, df / (n × (1 − e^(−cf/n)))), in
 * [0, 1]. Computed as the ratio of observed to Poisson-expected df, which needs no logarithm.
 */
export function stopwordScore(df: number, cf: number, n: number): number {
  const expectedDf = n * -Math.expm1(-cf / n);
  const spread = expectedDf > 0 ? Math.min(1, df / expectedDf) : 1;
  return Math.min(1, Math.max(0, (df / n) * spread));
}

interface Candidate {
  readonly word: string;
  readonly df: number;
  readonly cf: number;
  readonly score: number;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.df !== b.df) return b.df - a.df;
  return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
}

export function selectLanguage(
  lang: string,
  table: LanguageCounts,
  live: ReadonlySet<string> | undefined,
  rules: SelectionRules,
): LanguageSelection {
  const { n, df, cf } = table;
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
  const candidates: Candidate[] = [];
  for (const [word, count] of df) {
    if (count >= enter || (count >= stay && live?.has(word) === true)) {
      // A missing cf (never from a count, which keeps both) means no evidence of burstiness.
      const occurrences = cf.get(word) ?? count;
      candidates.push({
        word,
        df: count,
        cf: occurrences,
        score: stopwordScore(count, occurrences, n),
      });
    }
  }
  candidates.sort(compareCandidates);
  const kept =
    candidates.length > rules.maxStopwords ? candidates.slice(0, rules.maxStopwords) : candidates;
  const words: Stopword[] = kept.map((c) => ({
    word: c.word,
    df: c.df,
    cf: c.cf,
    confidence: Math.round(c.score * 10_000) / 10_000,
  }));
  if (words.length === 0) return skip('noStopwords');
  let stayed = 0;
  if (live !== undefined) for (const w of words) if (live.has(w.word)) stayed++;
  return {
    lang,
    documents: n,
    words,
    published: true,
    skipped: null,
    added: words.length - stayed,
    removed: liveSize - stayed,
  };
}

/** Selects every language in `tables`, plus live languages that have no documents any more. */
export function selectStopwords(
  tables: DfTables,
  live: ReadonlyMap<string, ReadonlySet<string>>,
  rules: SelectionRules,
): LanguageSelection[] {
  const out: LanguageSelection[] = [];
  for (const [lang, table] of tables) out.push(selectLanguage(lang, table, live.get(lang), rules));
  for (const [lang, words] of live) {
    if (!tables.has(lang)) {
      out.push(selectLanguage(lang, { n: 0, df: new Map(), cf: new Map() }, words, rules));
    }
  }
  return out.sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : 0));
}
