// Benchmark corpora, generated once by bench/generate-corpus.mjs and cached in bench/out/corpora.
// A file's name carries a hash of the generator's source, so a changed generator regenerates
// instead of silently benchmarking yesterday's text; older versions of the same corpus are removed
// (a 1M-document corpus is about 2 GB).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

export const BASE_SEED = 42;
export const DELTA_SEED = 43;

export function generatorHash(generator) {
  return createHash('sha1').update(readFileSync(generator)).digest('hex').slice(0, 8);
}

/**
 * The base corpus of `docs` documents, and with `delta` the same corpus with `changedRatio` of its
 * documents changed. Returns { path, bytes, generatedSeconds|null }.
 */
export async function ensureCorpus({ root, outDir, docs, delta = null, log }) {
  const generator = join(root, 'bench/generate-corpus.mjs');
  const hash = generatorHash(generator);
  const dir = join(outDir, 'corpora');
  const stem =
    delta === null
      ? `corpus-${docs}-s${BASE_SEED}`
      : `corpus-${docs}-s${BASE_SEED}-delta${delta.changedRatio}-s${DELTA_SEED}`;
  const path = join(dir, `${stem}-g${hash}.ndjson`);
  if (existsSync(path)) return { path, bytes: statSync(path).size, generatedSeconds: null };

  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(`${stem}-g`) && name.endsWith('.ndjson')) rmSync(join(dir, name));
    }
  }
  const args = [generator, '--docs', String(docs), '--out', path];
  if (delta === null) args.push('--seed', String(BASE_SEED));
  else {
    args.push('--mutate-from', String(BASE_SEED), '--seed', String(DELTA_SEED));
    args.push('--changed-ratio', String(delta.changedRatio));
  }
  log(`generating ${relative(root, path)} …`);
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`generate-corpus exited ${code}: ${stderr}`)),
    );
  });
  return {
    path,
    bytes: statSync(path).size,
    generatedSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Just after the corpus's newest document, as an ISO time: a run's window ends there. The base
 * run's window then stops before the changed documents of the delta corpus, so a delta run reads
 * exactly those.
 */
export function isoAfter(path) {
  return new Date(lastUpdatedAt(path) + 1).toISOString();
}

/** `updatedAt` of the file's last line; the generator writes lines in `updatedAt` order. */
export function lastUpdatedAt(path) {
  const size = statSync(path).size;
  const length = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').trimEnd().split('\n');
  const last = JSON.parse(lines[lines.length - 1]);
  return Date.parse(last.updatedAt);
}

/** The first `limit` lines of a corpus file, held in memory. */
export async function firstLines(path, limit) {
  const lines = [];
  const input = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of input) {
    lines.push(line);
    if (lines.length >= limit) break;
  }
  input.close();
  return lines;
}

/**
 * A probe's input: its flags (--docs N, the documents held in memory; --corpus N, the corpus they
 * are the first of; --rounds R) and those first lines, the corpus generated when missing.
 */
export async function probeInput(root, { rounds = '3' } = {}) {
  const { values } = parseArgs({
    options: {
      docs: { type: 'string', default: '100000' },
      corpus: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: rounds },
    },
  });
  const limit = Number(values.docs);
  const corpus = await ensureCorpus({
    root,
    outDir: join(root, 'bench/out'),
    docs: Math.max(Number(values.corpus), limit),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  return {
    path: corpus.path,
    lines: await firstLines(corpus.path, limit),
    rounds: Number(values.rounds),
  };
}

/**
 * Mean number of distinct terms per live document over the first `limit` documents, with the
 * built tokeniser: the denominator of "state bytes per unique term per document". Null when the
 * built tokeniser cannot be loaded (its API is being changed).
 */
export async function meanDistinctTerms(root, path, limit = 5000) {
  let tokenizer;
  try {
    tokenizer = await import(join(root, 'dist/analysis/tokenizer.js'));
  } catch {
    return null;
  }
  if (typeof tokenizer.addTerms !== 'function') return null;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  const terms = new Set();
  let docs = 0;
  let sum = 0;
  for await (const line of lines) {
    if (docs >= limit) break;
    const doc = JSON.parse(line);
    if (doc.deletedAt !== undefined) continue;
    terms.clear();
    tokenizer.addTerms(doc.text, tokenizer.normalizeLanguage(doc.lang).lang, terms);
    sum += terms.size;
    docs++;
  }
  lines.close();
  return docs === 0 ? null : sum / docs;
}
