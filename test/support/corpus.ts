/**
 * Small deterministic corpora for end-to-end tests: real function words plus per-document
 * content words, so that the expected stopwords are known.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export interface TestDocument {
  _id: string;
  lang?: unknown;
  text?: unknown;
  updatedAt?: unknown;
  deletedAt?: unknown;
  [key: string]: unknown;
}

export const FUNCTION_WORDS: Record<string, readonly string[]> = {
  en: ['the', 'of', 'and', 'to', 'in', 'is', 'that', 'for'],
  de: ['der', 'die', 'und', 'in', 'den', 'von', 'zu', 'das'],
  fr: ['le', 'la', 'les', 'et', 'des', 'est', 'un', 'une'],
};

/** A number written in the letters a-z, since digits never make words. */
export function letters(n: number): string {
  let out = '';
  let v = n;
  do {
    out = String.fromCharCode(97 + (v % 26)) + out;
    v = Math.floor(v / 26);
  } while (v > 0);
  return `q${out}`;
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `perLanguage` documents per language. Every document holds all function words of its language
 * plus `extra` words, and content words drawn from a large vocabulary (so none is a stopword).
 */
export function makeCorpus(options: {
  seed: number;
  perLanguage: number;
  languages?: readonly string[];
  extra?: Record<string, readonly string[]>;
  updatedAt?: string;
}): TestDocument[] {
  const random = prng(options.seed);
  const docs: TestDocument[] = [];
  for (const lang of options.languages ?? Object.keys(FUNCTION_WORDS)) {
    const common = [...(FUNCTION_WORDS[lang] ?? []), ...(options.extra?.[lang] ?? [])];
    for (let i = 0; i < options.perLanguage; i++) {
      const words = [...common];
      for (let k = 0; k < 12; k++)
        words.push(`${lang}${letters(Math.floor(random() * 1_000_000))}`);
      words.sort(() => random() - 0.5);
      docs.push({
        _id: `${lang}-${i}`,
        lang,
        text: `${words.join(' ')}.`,
        updatedAt: options.updatedAt ?? '2026-11-01T00:00:00Z',
      });
    }
  }
  return docs;
}

export async function writeCorpus(path: string, docs: readonly unknown[]): Promise<void> {
  await writeFile(path, `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
}

/** The bundled sample corpus (`bench/sample/corpus.ndjson`, real man-page text), read afresh. */
export function sampleDocuments(): Array<{ lang: string; text: string }> {
  const sample = new URL('../../bench/sample/corpus.ndjson', import.meta.url);
  return readFileSync(sample, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { lang: string; text: string });
}
