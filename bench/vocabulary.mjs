#!/usr/bin/env node
// How the vocabulary and the DF tables grow with the corpus: the inputs of docs/scaling.md.
//
//   npm run build && node --expose-gc bench/vocabulary.mjs --docs 1000000 --at 50000,200000,1000000
//
// Reads the cached benchmark corpus (generated as bench/run.mjs does), tokenises every live
// document with the built tokeniser on this one thread and counts document frequencies in a
// Map<string, number> per language, as the workers do. At each checkpoint it prints: distinct
// terms (vocabulary V), document-term pairs (Σ df: the entries exact per-document state must
// hold), mean distinct terms per document, and the heap the tables take (after a full GC, so
// --expose-gc is needed), in bytes per vocabulary entry. One line of JSON per checkpoint.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureCorpus } from './lib/corpus.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    at: { type: 'string', default: '50000,200000,1000000' },
  },
});
const docs = Number(values.docs);
const checkpoints = values.at
  .split(',')
  .map(Number)
  .filter((n) => n <= docs)
  .sort((a, b) => a - b);
if (!Number.isInteger(docs) || docs < 1) throw new Error('--docs must be a whole number');
if (typeof globalThis.gc !== 'function') {
  process.stderr.write('vocabulary: run with node --expose-gc for heap figures\n');
}

const { addTerms, normalizeLanguage } = await import(
  pathToFileURL(join(root, 'dist/analysis/tokenizer.js')).href
);
// A slice kept as a map key would pin its whole document (see src/analysis/df-table.ts).
const detach = (term) => (term.length < 13 ? term : Buffer.from(term, 'utf8').toString('utf8'));

const corpus = await ensureCorpus({
  root,
  outDir: join(root, 'bench/out'),
  docs,
  log: (m) => process.stderr.write(`${m}\n`),
});
const cpuSeconds = ({ user, system }) => (user + system) / 1e6;
const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};
const heapBefore = heap();
const tables = new Map();
const terms = new Set();
let live = 0;
let lines = 0;
let pairs = 0;
let bytesRead = 0;
const started = performance.now();
const cpuBefore = process.cpuUsage();
const input = createInterface({ input: createReadStream(corpus.path), crlfDelay: Infinity });
for await (const line of input) {
  lines++;
  bytesRead += Buffer.byteLength(line) + 1;
  const doc = JSON.parse(line);
  if (doc.deletedAt === undefined) {
    const lang = normalizeLanguage(doc.lang).lang;
    let df = tables.get(lang);
    if (df === undefined) {
      df = new Map();
      tables.set(lang, df);
    }
    terms.clear();
    addTerms(doc.text, lang, terms);
    pairs += terms.size;
    for (const term of terms) {
      const count = df.get(term);
      if (count === undefined) df.set(detach(term), 1);
      else df.set(term, count + 1);
    }
    live++;
  }
  if (lines === checkpoints[0]) {
    checkpoints.shift();
    const vocabulary = [...tables.values()].reduce((a, m) => a + m.size, 0);
    const heapBytes = heap() - heapBefore;
    process.stdout.write(
      `${JSON.stringify({
        documents: lines,
        liveDocuments: live,
        corpusBytes: bytesRead,
        vocabulary,
        perLanguage: Object.fromEntries([...tables].map(([l, m]) => [l, m.size])),
        documentTermPairs: pairs,
        meanDistinctTermsPerDocument: Number((pairs / live).toFixed(1)),
        dfTableHeapBytes: heapBytes,
        heapBytesPerVocabularyEntry: Number((heapBytes / vocabulary).toFixed(1)),
        // CPU time of the whole process (file reading and GC included), so that a busy machine
        // does not distort it as it does wall time.
        docsPerCpuSecond: Math.round(live / (cpuSeconds(process.cpuUsage(cpuBefore)) || 1)),
        elapsedSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      })}\n`,
    );
    if (checkpoints.length === 0) break;
  }
}
input.close();
