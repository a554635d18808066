#!/usr/bin/env node
// Where a document's CPU time goes in today's counting path, without a profiler: the same
// documents through cumulative steps on one thread, CPU time from process.cpuUsage(), so the
// differences are the steps' costs. Documents are parsed and held in memory first, so reading
// and decoding the file are not measured.
//
//   npm run build && node bench/probe-steps.mjs [--docs 100000] [--rounds 3]
//
// parse     JSON.parse of each line (measured on its own)
// scan      the tokeniser into a sink that keeps nothing (no string is made per token)
// tokenise  the tokeniser into the per-document table (DocumentTerms): each distinct word once
// count     + FullCounter.addDocument without records: the per-worker (language, term) table
// records   + the document's record (id, language, time, term ids sorted and gap-encoded)
// hand on   FullCounter.handOn of those records, in pieces for the job to store (the end of a
//           worker's count)
//
// Prints the median over the rounds of each step's µs per document.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { probeInput } from './lib/corpus.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { lines, rounds } = await probeInput(root);
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { addTermRanges, normalizeLanguage } = await load('analysis/tokenizer.js');
const { DocumentTerms } = await load('analysis/term-table.js');
const { FullCounter, MergedTerms } = await load('analysis/df-table.js');

const docs = lines.map((line) => {
  const doc = JSON.parse(line);
  return { id: doc._id, lang: normalizeLanguage(doc.lang).lang, text: doc.text };
});

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const perDoc = (seconds) => (seconds / docs.length) * 1e6;
const NOOP = { addUnits() {} };

function round() {
  let t = cpu();
  for (const line of lines) JSON.parse(line);
  const parse = cpu() - t;

  t = cpu();
  for (const doc of docs) addTermRanges(doc.text, doc.lang, NOOP);
  const scan = cpu() - t;

  const terms = new DocumentTerms();
  t = cpu();
  for (const doc of docs) {
    terms.clear();
    addTermRanges(doc.text, doc.lang, terms);
  }
  const tokenise = cpu() - t;

  // The same documents into a counter, with or without keeping their records.
  const timeCounting = (counter) => {
    const start = cpu();
    for (const doc of docs) {
      terms.clear();
      addTermRanges(doc.text, doc.lang, terms);
      counter.addDocument(doc.id, doc.lang, 0, terms);
    }
    return cpu() - start;
  };
  const count = timeCounting(new FullCounter(false));
  const keeping = new FullCounter(true);
  const records = timeCounting(keeping);

  new MergedTerms().add(keeping.terms());
  let bytes = 0;
  t = cpu();
  keeping.handOn(0, (piece) => {
    bytes += piece.records.length;
  });
  const handOn = cpu() - t;
  return {
    parse: perDoc(parse),
    scan: perDoc(scan),
    tokenise: perDoc(tokenise),
    count: perDoc(count - tokenise),
    records: perDoc(records - count),
    'hand on': perDoc(handOn),
    'record B/doc': bytes / docs.length,
  };
}

const results = [];
for (let i = 0; i < rounds; i++) results.push(round());
const median = (key) => {
  const sorted = results.map((r) => r[key]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
console.log(
  `${docs.length} documents, ${rounds} rounds, one thread; µs per document (median), each step alone:`,
);
console.log('| step | µs/doc |\n|---|---:|');
for (const key of Object.keys(results[0])) console.log(`| ${key} | ${median(key).toFixed(1)} |`);
