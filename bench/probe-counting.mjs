#!/usr/bin/env node
// Where a document's CPU time goes, without a profiler: the same documents through cumulative
// steps on one thread, CPU time measured with process.cpuUsage(), so the differences are the
// steps' costs. Evidence for ranking the hot-path changes in bench/README.md.
//
//   npm run build && node bench/probe-counting.mjs [--docs 100000] [--rounds 2]
//
// parse     JSON.parse of each line
// tokenize  + the built tokeniser into a sink that keeps nothing (a string per token still made)
// set       + the per-document Set of distinct terms (as the analysis worker did before its typed-array tables)
// map       + Map<string, number> counting per language, get then set (src/analysis/df-table.ts)
// setids    + the Set, then one Map<string, id> lookup per distinct term and the count in a
//           Uint32Array (the shape of src/analysis/df-table.ts's FullCounter)
// ids       parse + tokenise into a per-language Map<string, id> (one lookup per token), the
//           document's distinct terms found by a generation stamp per id in an Int32Array, the
//           counts in a Uint32Array: no Set and one hash lookup per token instead of three
//
// Lines are held in memory first, so file reading and decoding are not measured.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { probeInput } from './lib/corpus.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { path: corpusPath, lines, rounds } = await probeInput(root, { rounds: '2' });
const { addTerms, normalizeLanguage } = await import(
  pathToFileURL(join(root, 'dist/analysis/tokenizer.js')).href
);
const detach = (term) => (term.length < 13 ? term : Buffer.from(term, 'utf8').toString('utf8'));

const NOOP = { add() {} };

class IdCounter {
  constructor() {
    this.ids = new Map();
    this.seen = new Int32Array(1 << 16).fill(-1);
    this.counts = new Uint32Array(1 << 16);
    this.doc = 0;
  }

  add(term) {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(detach(term), id);
      if (id >= this.counts.length) this.grow();
    }
    if (this.seen[id] !== this.doc) {
      this.seen[id] = this.doc;
      this.counts[id]++;
    }
  }

  grow() {
    const counts = new Uint32Array(this.counts.length * 2);
    counts.set(this.counts);
    this.counts = counts;
    const seen = new Int32Array(this.seen.length * 2).fill(-1);
    seen.set(this.seen);
    this.seen = seen;
  }
}

const variants = {
  parse() {
    for (const line of lines) JSON.parse(line);
  },
  tokenize() {
    for (const line of lines) {
      const doc = JSON.parse(line);
      addTerms(doc.text, normalizeLanguage(doc.lang).lang, NOOP);
    }
  },
  set() {
    const terms = new Set();
    for (const line of lines) {
      const doc = JSON.parse(line);
      terms.clear();
      addTerms(doc.text, normalizeLanguage(doc.lang).lang, terms);
    }
  },
  map() {
    const tables = new Map();
    const terms = new Set();
    for (const line of lines) {
      const doc = JSON.parse(line);
      const lang = normalizeLanguage(doc.lang).lang;
      let df = tables.get(lang);
      if (df === undefined) {
        df = new Map();
        tables.set(lang, df);
      }
      terms.clear();
      addTerms(doc.text, lang, terms);
      for (const term of terms) {
        const count = df.get(term);
        if (count === undefined) df.set(detach(term), 1);
        else df.set(term, count + 1);
      }
    }
    return [...tables.values()].reduce((a, m) => a + m.size, 0);
  },
  setids() {
    const tables = new Map();
    const terms = new Set();
    for (const line of lines) {
      const doc = JSON.parse(line);
      const lang = normalizeLanguage(doc.lang).lang;
      let counter = tables.get(lang);
      if (counter === undefined) {
        counter = new IdCounter();
        tables.set(lang, counter);
      }
      counter.doc++;
      terms.clear();
      addTerms(doc.text, lang, terms);
      for (const term of terms) counter.add(term);
    }
    return [...tables.values()].reduce((a, c) => a + c.ids.size, 0);
  },
  ids() {
    const tables = new Map();
    for (const line of lines) {
      const doc = JSON.parse(line);
      const lang = normalizeLanguage(doc.lang).lang;
      let counter = tables.get(lang);
      if (counter === undefined) {
        counter = new IdCounter();
        tables.set(lang, counter);
      }
      counter.doc++;
      addTerms(doc.text, lang, counter);
    }
    return [...tables.values()].reduce((a, c) => a + c.ids.size, 0);
  },
};

const best = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, fn] of Object.entries(variants)) {
    globalThis.gc?.();
    const before = process.cpuUsage();
    const vocabulary = fn();
    const used = process.cpuUsage(before);
    const seconds = (used.user + used.system) / 1e6;
    if (best[name] === undefined || seconds < best[name].seconds)
      best[name] = { seconds, vocabulary };
  }
}
process.stdout.write(
  `${lines.length} documents of ${corpusPath.replace(root, '')}, CPU time, best of ${rounds}:\n\n`,
);
process.stdout.write(
  '| step | CPU s | µs/doc | docs per CPU-s | vocabulary |\n|---|---:|---:|---:|---:|\n',
);
for (const [name, { seconds, vocabulary }] of Object.entries(best)) {
  const us = (seconds / lines.length) * 1e6;
  process.stdout.write(
    `| ${name} | ${seconds.toFixed(2)} | ${us.toFixed(1)} | ${Math.round(lines.length / seconds)} | ${vocabulary ?? ''} |\n`,
  );
}
