// Reference lists, precision at k, the naive baseline and the alternative rankings of the
// experiments. Everything here is pure and works per language on the documents of the corpus.
import { createRequire } from 'node:module';

export const KS = [10, 50, 100];

const require = createRequire(import.meta.url);
const ISO = require('stopwords-iso/stopwords-iso.json');

/**
 * The stopwords-iso list for a code, lower-cased and NFC, or null when it has none. Romanian
 * entries are written with a cedilla (ş, ţ), Romanian text with a comma below (ș, ț): both count.
 */
export function reference(iso) {
  const words = iso === null ? undefined : ISO[iso];
  if (words === undefined) return null;
  const set = new Set(words.map((w) => w.normalize('NFC').toLowerCase()));
  for (const w of [...set]) set.add(w.replaceAll('ş', 'ș').replaceAll('ţ', 'ț'));
  return set;
}

/**
 * Whether a word counts as a hit: in the list, or, for an elided form that the product keeps with
 * its apostrophe (French `l'`, `qu'`), in the list without it (stopwords-iso has `l`, `qu`).
 */
export function isHit(word, ref) {
  return ref.has(word) || (word.endsWith("'") && ref.has(word.slice(0, -1)));
}

/** Share of the first k words that are hits; a list shorter than k counts its gaps as misses. */
export function precisionAt(words, ref, k) {
  let hits = 0;
  for (const w of words.slice(0, k)) if (isHit(w, ref)) hits++;
  return hits / k;
}

/** Words by descending score, ties by word (code-unit order, as the product sorts). */
export function rankBy(scores, limit) {
  return [...scores]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([w]) => w);
}

const NOT_LETTER = /[^\p{L}]+/u;

/** The baseline: lower-case, split on anything that is not a letter, rank by document frequency. */
export function naiveRanking(texts, limit) {
  const df = new Map();
  for (const text of texts) {
    const terms = new Set(text.toLowerCase().split(NOT_LETTER));
    terms.delete('');
    for (const t of terms) df.set(t, (df.get(t) ?? 0) + 1);
  }
  return rankBy(df, limit);
}

/**
 * Per term, with the product's tokeniser: df (documents containing it), tf (occurrences), pages
 * (distinct man pages containing it), and for the `candidates` most frequent by df, the count in
 * each page, which Gries' DP needs.
 */
export function termStatistics(docs, lang, tokenize, candidates) {
  const stats = new Map();
  const pageTokens = new Map();
  const tokensByDoc = [];
  for (const doc of docs) {
    const tokens = tokenize(doc.text, lang);
    tokensByDoc.push(tokens);
    pageTokens.set(doc.page, (pageTokens.get(doc.page) ?? 0) + tokens.length);
    const seen = new Set();
    for (const t of tokens) {
      let s = stats.get(t);
      if (s === undefined) {
        s = { df: 0, tf: 0, pages: 0, lastPage: null };
        stats.set(t, s);
      }
      s.tf++;
      if (seen.has(t)) continue;
      seen.add(t);
      s.df++;
      if (s.lastPage !== doc.page) {
        s.pages++;
        s.lastPage = doc.page;
      }
    }
  }
  const top = new Set(
    rankBy(
      [...stats].map(([w, s]) => [w, s.df]),
      candidates,
    ),
  );
  const perPage = new Map([...top].map((w) => [w, new Map()]));
  docs.forEach((doc, i) => {
    for (const t of tokensByDoc[i]) {
      const counts = perPage.get(t);
      if (counts !== undefined) counts.set(doc.page, (counts.get(doc.page) ?? 0) + 1);
    }
  });
  return { stats, perPage, pageTokens, documents: docs.length };
}

/**
 * Gries' DP (deviation of proportions) of a word over the pages: half the summed absolute gap
 * between each page's share of the corpus and its share of the word's occurrences. 0 is a word
 * spread exactly like the text, values near 1 a word packed into a few pages.
 */
function griesDp(counts, pageTokens, totalTokens, tf) {
  let sum = 0;
  let seenShare = 0;
  for (const [page, size] of pageTokens) {
    const c = counts.get(page) ?? 0;
    const expected = size / totalTokens;
    if (c > 0) sum += Math.abs(c / tf - expected);
    else seenShare += expected;
  }
  return (sum + seenShare) / 2;
}

/**
 * The rankings compared in the experiments, all from the same counts (documents must be sorted
 * by page so that the distinct-page count can look at the last page only). `poisson` is the
 * product's own ranking (src/analysis/select.ts); the others need state it does not keep.
 */
/** The key of the ranking the product publishes. */
export const PRODUCT_MEASURE = 'poisson';

export const MEASURES = [
  {
    key: 'ratio',
    label: 'df/N',
    state: 'document frequencies',
  },
  {
    key: 'pages',
    label: 'pages/P',
    state: 'the number of distinct sources (here: pages) per term',
  },
  {
    key: 'ratioPages',
    label: 'df/N × pages/P',
    state: 'the number of distinct sources per term, next to df',
  },
  {
    key: 'poisson',
    label: 'df/N × 2^−RIDF (product)',
    state:
      'the number of occurrences per term next to df, which the product keeps (state schema 2)',
  },
  {
    key: 'dp',
    label: 'df/N × (1 − DP)',
    state: 'occurrence counts per term and source (a term × source matrix)',
  },
];

export function experimentRankings({ stats, perPage, pageTokens, documents }, limit) {
  const n = documents;
  const p = pageTokens.size;
  let totalTokens = 0;
  for (const size of pageTokens.values()) totalTokens += size;
  const scores = Object.fromEntries(MEASURES.map((m) => [m.key, []]));
  for (const [w, s] of stats) {
    const ratio = s.df / n;
    scores.ratio.push([w, ratio]);
    scores.pages.push([w, s.pages / p]);
    scores.ratioPages.push([w, ratio * (s.pages / p)]);
    // RIDF = IDF − IDF expected under a Poisson spread of tf occurrences over N documents;
    // 2^−RIDF is observed df over Poisson-expected df, 1 for an evenly spread word.
    const expectedDf = n * -Math.expm1(-s.tf / n);
    scores.poisson.push([w, ratio * Math.min(1, s.df / expectedDf)]);
    const counts = perPage.get(w);
    if (counts !== undefined) {
      scores.dp.push([w, ratio * (1 - griesDp(counts, pageTokens, totalTokens, s.tf))]);
    }
  }
  const out = {};
  for (const m of MEASURES) out[m.key] = rankBy(scores[m.key], limit);
  return out;
}

export function mean(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}
