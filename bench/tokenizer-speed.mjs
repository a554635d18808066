#!/usr/bin/env node
// Tokeniser and language-detection throughput per language on real text: the man-page corpus of
// `npm run eval:quality` (bench/out/quality/corpus.ndjson), or any NDJSON corpus given.
//
//   node bench/tokenizer-speed.mjs [corpus.ndjson] [--languages en,de,ja,zh]
//
// For each language: MB/s and µs per document of the built tokeniser (dist/), the same text
// through the language detector (analysis.detectLanguage), and the longest single document.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { languages: { type: 'string', default: 'en,de,fr,ru,tr,ja,zh' } },
});
const path = positionals[0] ?? join(root, 'bench/out/quality/corpus.ndjson');
const { addTermRanges, normalizeLanguage } = await import(join(root, 'dist/analysis/tokenizer.js'));
const { DocumentTerms } = await import(join(root, 'dist/analysis/term-table.js'));
const { loadDetector } = await import(join(root, 'dist/analysis/detect.js'));
const detector = await loadDetector();

const byLang = new Map();
for (const line of readFileSync(path, 'utf8').split('\n')) {
  if (line === '') continue;
  const doc = JSON.parse(line);
  if (typeof doc.text !== 'string') continue;
  const lang = normalizeLanguage(doc.lang).lang;
  if (!byLang.has(lang)) byLang.set(lang, []);
  byLang.get(lang).push(doc.text);
}

const time = (texts, work) => {
  for (const text of texts.slice(0, 200)) work(text); // warm-up
  const started = performance.now();
  let worst = 0;
  for (const text of texts) {
    const t0 = performance.now();
    work(text);
    worst = Math.max(worst, performance.now() - t0);
  }
  return { ms: performance.now() - started, worst };
};

console.log(
  '| language | documents | MB | tokenise MB/s | µs/doc | slowest doc ms | detect µs/doc |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const lang of values.languages.split(',')) {
  const texts = byLang.get(lang) ?? [];
  if (texts.length === 0) continue;
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const sink = new DocumentTerms();
  const tokenise = time(texts, (text) => {
    sink.clear();
    addTermRanges(text, lang, sink);
  });
  const detect = time(texts, (text) => detector.detect(text));
  console.log(
    `| ${lang} | ${texts.length} | ${(bytes / 1e6).toFixed(1)} | ${(bytes / 1e6 / (tokenise.ms / 1000)).toFixed(1)} | ${((1000 * tokenise.ms) / texts.length).toFixed(1)} | ${tokenise.worst.toFixed(1)} | ${((1000 * detect.ms) / texts.length).toFixed(0)} |`,
  );
}
