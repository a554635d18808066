#!/usr/bin/env node
// `npm run eval:quality`: how good are the published stopword lists on real multilingual text?
//
// Builds a corpus from Debian's translated man pages, runs the built CLI on it against a private
// redis-server, reads the published lists back, and scores them and a naive baseline against
// stopwords-iso (precision at 10, 50 and 100). Then compares alternative rankings of the same
// counts (experiments). Writes docs/quality.md and bench/out/quality/.
//
//   npm run eval:quality
//   npm run eval:quality -- --max-pages 200 --no-install
//
// See bench/quality/README.md.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { rssMethod, runCli } from '../lib/cli-run.mjs';
import { describeMachine, machineInfo } from '../lib/machine.mjs';
import { redisServerVersion, startRedis } from '../lib/redis-server.mjs';
import { LANGUAGES, languageDocuments, packageVersion, writeCorpus } from './corpus.mjs';
import { consoleTable, writeLists, writeMarkdown } from './report.mjs';
import {
  experimentRankings,
  KS,
  MEASURES,
  naiveRanking,
  precisionAt,
  reference,
  termStatistics,
} from './score.mjs';

const USAGE = `usage: npm run eval:quality -- [options]   (or node bench/quality/run.mjs after npm run build)

  --max-pages N          pages read per language, in a fixed hash order (default 1000)
  --max-docs-per-page N  documents kept per page (default 100)
  --max-stopwords N      analysis.maxStopwords of the run (default 200)
  --min-ratio X          analysis.minDocumentRatio (and leaveDocumentRatio) of the run (default 0.002)
  --no-install           never run apt-get; say what is missing instead
  --doc FILE             where the report goes (default docs/quality.md)
  -h, --help
`;

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'bench/out/quality');
const log = (message) => process.stderr.write(`[eval:quality] ${message}\n`);

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'max-pages': { type: 'string', default: '1000' },
        'max-docs-per-page': { type: 'string', default: '100' },
        'max-stopwords': { type: 'string', default: '200' },
        'min-ratio': { type: 'string', default: '0.002' },
        'no-install': { type: 'boolean', default: false },
        doc: { type: 'string', default: join(root, 'docs/quality.md') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`--${name} must be a whole number ≥ 1\n`);
      process.exit(2);
    }
    return n;
  };
  const ratio = Number(values['min-ratio']);
  if (!(ratio > 0 && ratio <= 1)) {
    process.stderr.write('--min-ratio must be in (0, 1]\n');
    process.exit(2);
  }
  return {
    maxPages: int('max-pages'),
    maxDocsPerPage: int('max-docs-per-page'),
    maxStopwords: int('max-stopwords'),
    minRatio: ratio,
    install: !values['no-install'],
    doc: values.doc,
  };
}

/** Installs the missing Debian packages as root, or names them and stops. */
function ensurePackages(install) {
  const wanted = [...LANGUAGES.flatMap((l) => l.packages), 'redis-server'];
  const missing = wanted.filter((p) => packageVersion(p) === null);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!install || process.getuid?.() !== 0) {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(`install them (as root: apt-get update && ${command}) and run again`);
    process.exit(2);
  }
  log(`installing ${missing.join(' ')}`);
  let r = spawnSync('apt-get', command.split(' ').slice(1), { stdio: 'inherit' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    r = spawnSync('apt-get', command.split(' ').slice(1), { stdio: 'inherit' });
  }
  if (r.status !== 0) {
    log(`apt-get failed; install by hand: ${command}`);
    process.exit(2);
  }
}

/** A private copy of the build, so that a rebuild in the shared tree cannot change the run. */
function snapshotBuild(tmp) {
  const app = join(tmp, 'app');
  for (const part of ['bin', 'dist', 'config']) {
    cpSync(join(root, part), join(app, part), { recursive: true });
  }
  cpSync(join(root, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return app;
}

function cliEnv(opts) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('STOPWORD_REFRESH_')),
  );
  return {
    ...env,
    STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
    STOPWORD_REFRESH_ANALYSIS_MAX_STOPWORDS: String(opts.maxStopwords),
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO: String(opts.minRatio),
    STOPWORD_REFRESH_ANALYSIS_LEAVE_DOCUMENT_RATIO: String(opts.minRatio),
  };
}

async function publishedLists(client) {
  const meta = await client.hGetAll('stopwords:meta');
  const lists = {};
  const confidences = {};
  for (const lang of JSON.parse(meta.languages ?? '[]')) {
    const hash = await client.hGetAll(`stopwords:${lang}`);
    const entries = Object.entries(hash)
      .map(([w, c]) => [w, Number(c)])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    lists[lang] = entries.map(([w]) => w);
    confidences[lang] = entries.map(([, c]) => c);
  }
  return { lists, confidences, analyzerVersion: meta.analyzerVersion ?? null };
}

const precisions = (words, ref) =>
  Object.fromEntries(KS.map((k) => [k, precisionAt(words, ref, k)]));

async function main() {
  const opts = options();
  const started = Date.now();
  ensurePackages(opts.install);
  mkdirSync(outDir, { recursive: true });
  const machine = machineInfo(redisServerVersion());
  const tmp = mkdtempSync(join(os.tmpdir(), 'stopword-quality-'));
  const app = snapshotBuild(tmp);
  const { tokenize } = await import(pathToFileURL(join(app, 'dist/analysis/tokenizer.js')).href);
  let redis = null;
  try {
    log('building the corpus');
    const languages = [];
    const documents = [];
    for (const language of LANGUAGES) {
      const { documents: docs, stats } = languageDocuments(language, opts);
      documents.push(...docs);
      const versions = language.packages.map((p) => `${p} ${packageVersion(p)}`);
      languages.push({ ...language, docs, stats, versions });
    }
    const corpusPath = join(outDir, 'corpus.ndjson');
    const corpusBytes = writeCorpus(corpusPath, documents);
    log(`${documents.length} documents, ${(corpusBytes / 1e6).toFixed(1)} MB → ${corpusPath}`);

    redis = await startRedis(tmp);
    const args = ['--full', '--source', `file:${corpusPath}`, '--redis', redis.url];
    const stateDir = join(tmp, 'state');
    log('running stopword-refresh run --full');
    const run = await runCli({
      root: app,
      method: rssMethod('poll'),
      env: cliEnv(opts),
      args: [...args, '--state-dir', stateDir],
    });
    if (run.exitCode !== 0 || run.result?.success !== true) {
      throw new Error(
        `the run failed (exit ${run.exitCode}): ${run.result?.errors?.join('; ') ?? run.stderrTail}`,
      );
    }
    const { lists, confidences, analyzerVersion } = await publishedLists(redis.client);

    log('scoring');
    for (const l of languages) {
      l.ref = reference(l.iso);
      l.ours = lists[l.lang] ?? null;
      l.confidences = confidences[l.lang] ?? null;
      l.baseline = naiveRanking(
        l.docs.map((d) => d.text),
        opts.maxStopwords,
      );
      l.result = run.result.languages?.[l.lang] ?? null;
      const stats = termStatistics(l.docs, l.lang, tokenize, 2000);
      l.pages = stats.pageTokens.size;
      l.experiments = experimentRankings(stats, opts.maxStopwords);
      // The published confidence is discounted for burstiness; thresholds are on df/N.
      l.ratios = (l.ours ?? []).map((w) => (stats.stats.get(w)?.df ?? 0) / stats.documents);
      l.scored = l.ref !== null && l.ours !== null && l.ours.length > 0;
      if (l.ref !== null) {
        l.p = {
          ours: l.ours === null ? null : precisions(l.ours, l.ref),
          baseline: precisions(l.baseline, l.ref),
          experiments: Object.fromEntries(
            MEASURES.map((m) => [m.key, precisions(l.experiments[m.key], l.ref)]),
          ),
        };
      }
      writeLists(outDir, l);
    }
    machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
    const report = {
      date: new Date().toISOString(),
      machine: describeMachine(machine),
      command: `npm run eval:quality${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      cliCommand: `bin/stopword-refresh run ${args.join(' ').replace(redis.url, '<private redis>').replace(corpusPath, relative(root, corpusPath))} --state-dir <tmp>`,
      env: cliEnv(opts),
      opts,
      analyzerVersion,
      documents: documents.length,
      corpusBytes,
      runSeconds: run.wallSeconds,
      totalSeconds: (Date.now() - started) / 1000,
      languages,
    };
    writeFileSync(
      join(outDir, 'results.json'),
      JSON.stringify(
        {
          ...report,
          env: undefined,
          languages: languages.map(({ docs, ref, ...rest }) => ({ ...rest, docs: docs.length })),
        },
        null,
        1,
      ),
    );
    process.stdout.write(consoleTable(report));
    writeMarkdown(opts.doc, report);
    log(
      `wrote ${relative(root, opts.doc)} and ${relative(root, outDir)}/ in ${report.totalSeconds.toFixed(0)} s`,
    );
  } finally {
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(error.stack ?? String(error));
  process.exitCode = 1;
});
