#!/usr/bin/env node
// `npm run eval:churn`: how much do the published lists churn from night to night, and how much
// of it does the hysteresis (analysis.leaveDocumentRatio) absorb?
//
// Builds the quality corpus (Debian's man pages, bench/quality/corpus.mjs), simulates a corpus
// that changes every night (churn-nights.mjs), and runs the built CLI on it night after night —
// a --full run, then nightly delta runs — once per (minDocumentRatio, leaveDocumentRatio)
// setting, each with its own state directory and Redis prefix on one private redis-server. The
// lists are read back from Redis after every run; churn-metrics.mjs turns them into figures, and
// churn-report.mjs into tables on stdout and the generated section of docs/selection-defaults.md.
//
//   npm run eval:churn
//   npm run eval:churn -- --nights 10 --languages en,de,fr
//   node bench/quality/churn.mjs --help     (after npm run build)
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCli } from '../lib/cli-run.mjs';
import { describeMachine, machineInfo } from '../lib/machine.mjs';
import { redisServerVersion, startRedis } from '../lib/redis-server.mjs';
import { ratioNoise, sequenceMetrics } from './churn-metrics.mjs';
import { simulateNights } from './churn-nights.mjs';
import { consoleTables, writeDoc, writeResults } from './churn-report.mjs';
import { LANGUAGES, languageDocuments, packageVersion } from './corpus.mjs';

const USAGE = `usage: npm run eval:churn -- [options]   (or node bench/quality/churn.mjs after npm run build)

  --nights N             nightly delta runs after the first --full run (default 14)
  --initial X            share of the documents live on night 0 (default 0.7)
  --change X             share of the live documents changed each night (default 0.02)
  --seed N               seed of the simulation (default 42)
  --min LIST             analysis.minDocumentRatio values (default 0.1,0.2)
  --leave LIST           leaveDocumentRatio as fractions of minDocumentRatio; 1 is no hysteresis
                         and is always run (default 1,0.95,0.9,0.75,0.5)
  --probe X              ratio of the extra no-hysteresis run that lists every word near the
                         thresholds, for the noise figures (default: the lowest leave ratio)
  --languages LIST       corpus language tags to use (default: all 25)
  --max-pages N          pages read per language (default 1000)
  --max-docs-per-page N  documents kept per page (default 100)
  --corpus FILE          read the documents from an NDJSON file instead of the man pages
  --workers N            analysis.workers of the runs (default: the shipped auto)
  --doc FILE             where the report goes (default docs/selection-defaults.md)
  -h, --help
`;

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = join(root, 'bench/out/churn');
const START = '2026-11-01T02:00:00.000Z';
const MIN_DOCUMENTS = 100;
const MAX_STOPWORDS = 500;
const log = (message) => process.stderr.write(`[eval:churn] ${message}\n`);

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        nights: { type: 'string', default: '14' },
        initial: { type: 'string', default: '0.7' },
        change: { type: 'string', default: '0.02' },
        seed: { type: 'string', default: '42' },
        min: { type: 'string', default: '0.1,0.2' },
        leave: { type: 'string', default: '1,0.95,0.9,0.75,0.5' },
        probe: { type: 'string' },
        languages: { type: 'string' },
        'max-pages': { type: 'string', default: '1000' },
        'max-docs-per-page': { type: 'string', default: '100' },
        corpus: { type: 'string' },
        workers: { type: 'string' },
        doc: { type: 'string', default: join(root, 'docs/selection-defaults.md') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    fail(`${error.message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name, value = values[name]) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number ≥ 1`);
    return n;
  };
  const share = (name, value = values[name]) => {
    const x = Number(value);
    if (!(x > 0 && x <= 1)) fail(`--${name} must be in (0, 1]`);
    return x;
  };
  const list = (name) => [...new Set(values[name].split(',').map((v) => share(name, v)))];
  const mins = list('min').sort((a, b) => a - b);
  const fractions = [...new Set([1, ...list('leave')])].sort((a, b) => b - a);
  const lowest = Math.min(...mins.flatMap((m) => fractions.map((f) => round(m * f))));
  const tags = values.languages?.split(',').map((t) => t.trim());
  const unknown = tags?.filter((t) => !LANGUAGES.some((l) => l.tag === t)) ?? [];
  if (unknown.length > 0) fail(`unknown --languages: ${unknown.join(', ')}`);
  return {
    nights: int('nights'),
    initial: share('initial'),
    change: share('change'),
    seed: int('seed'),
    mins,
    fractions,
    probe: values.probe === undefined ? lowest : share('probe'),
    languages: tags ?? null,
    maxPages: int('max-pages'),
    maxDocsPerPage: int('max-docs-per-page'),
    corpus: values.corpus ?? null,
    workers: values.workers === undefined ? null : int('workers'),
    doc: values.doc,
  };
}

const round = (x) => Number(x.toFixed(6));

/** The documents: the man-page corpus of bench/quality/corpus.mjs, or an NDJSON file. */
function loadDocuments(opts) {
  const wanted = LANGUAGES.filter((l) => opts.languages === null || opts.languages.includes(l.tag));
  if (opts.corpus !== null) {
    const tags = new Set(wanted.map((l) => l.tag));
    const docs = [];
    for (const line of readFileSync(opts.corpus, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const d = JSON.parse(line);
      if (opts.languages === null || tags.has(d.lang)) {
        docs.push({ _id: d._id, lang: d.lang, text: d.text, updatedAt: d.updatedAt });
      }
    }
    return { documents: docs, source: relative(root, opts.corpus), versions: [] };
  }
  const packages = wanted.flatMap((l) => l.packages);
  const missing = packages.filter((p) => packageVersion(p) === null);
  if (missing.length > 0) {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(
      'install them (npm run eval:quality installs them as root, or apt-get install -y --no-install-recommends …), or pass --corpus FILE',
    );
    process.exit(2);
  }
  const documents = [];
  for (const language of wanted) {
    for (const d of languageDocuments(language, opts).documents) {
      documents.push({ _id: d._id, lang: d.lang, text: d.text, updatedAt: d.updatedAt });
    }
  }
  return {
    documents,
    source: `Debian man pages (bench/quality/corpus.mjs, --max-pages ${opts.maxPages}, --max-docs-per-page ${opts.maxDocsPerPage})`,
    versions: packages.map((p) => `${p} ${packageVersion(p)}`),
  };
}

/** The grid, the no-hysteresis run of each minDocumentRatio first, then the probe. */
function settings(opts) {
  const out = [];
  for (const min of opts.mins) {
    for (const fraction of opts.fractions) {
      out.push({
        key: `min${min}-leave${round(min * fraction)}`,
        min,
        leave: round(min * fraction),
        fraction,
        maxStopwords: MAX_STOPWORDS,
        probe: false,
      });
    }
  }
  out.push({
    key: `probe${opts.probe}`,
    min: opts.probe,
    leave: opts.probe,
    fraction: 1,
    // Never capped: the probe is there to show every word above its ratio.
    maxStopwords: 100_000,
    probe: true,
  });
  return out.map((s, i) => ({ ...s, prefix: `churn${i}` }));
}

/** A private copy of the build, so that a rebuild in the shared tree cannot change the runs. */
function snapshotBuild(tmp) {
  const app = join(tmp, 'app');
  for (const part of ['bin', 'dist', 'config']) {
    cpSync(join(root, part), join(app, part), { recursive: true });
  }
  cpSync(join(root, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return app;
}

/** The environment of one setting's runs: every guardrail relaxed, so every night publishes. */
function cliEnv(setting, opts) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('STOPWORD_REFRESH_')),
  );
  return {
    ...env,
    ...runEnv(opts),
    STOPWORD_REFRESH_ANALYSIS_MAX_STOPWORDS: String(setting.maxStopwords),
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO: String(setting.min),
    STOPWORD_REFRESH_ANALYSIS_LEAVE_DOCUMENT_RATIO: String(setting.leave),
    STOPWORD_REFRESH_REDIS_KEY_PREFIX: setting.prefix,
  };
}

/** The variables every run shares (reported as they are). */
function runEnv(opts) {
  return {
    STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: String(MIN_DOCUMENTS),
    STOPWORD_REFRESH_GUARDRAILS_MAX_CHURN_RATIO: '1',
    STOPWORD_REFRESH_GUARDRAILS_MAX_TOTAL_DROP_RATIO: '1',
    STOPWORD_REFRESH_GUARDRAILS_LANGUAGE_REMOVAL: 'allow',
    ...(opts.workers === null ? {} : { STOPWORD_REFRESH_ANALYSIS_WORKERS: String(opts.workers) }),
  };
}

async function liveLists(client, prefix) {
  const meta = await client.hGetAll(`${prefix}:meta`);
  const lists = new Map();
  for (const lang of JSON.parse(meta.languages ?? '[]')) {
    const hash = await client.hGetAll(`${prefix}:${lang}`);
    lists.set(lang, new Map(Object.entries(hash).map(([w, c]) => [w, Number(c)])));
  }
  return lists;
}

/** The parts of a JobResult the figures use. */
const summary = (r) => ({
  mode: r.mode,
  version: r.version,
  published: r.published,
  stopwordsUpdated: r.stopwordsUpdated,
  documents: r.documents,
  languages: r.languages,
});

async function main() {
  const opts = options();
  const started = Date.now();
  if (redisServerVersion() === null) {
    fail('redis-server is not installed; on Debian/Ubuntu: apt-get install redis-server');
  }
  const machine = machineInfo(redisServerVersion());
  log('building the corpus');
  const corpus = loadDocuments(opts);
  if (corpus.documents.length === 0) fail('the corpus is empty');
  const grid = settings(opts);
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(os.tmpdir(), 'stopword-churn-'));
  const app = snapshotBuild(tmp);
  let redis = null;
  try {
    redis = await startRedis(tmp);
    const sim = simulateNights(corpus.documents, {
      initial: opts.initial,
      change: opts.change,
      seed: opts.seed,
      start: START,
    });
    const sequences = grid.map((setting) => ({ setting, nights: [] }));
    const plan = [];
    const file = join(tmp, 'corpus.ndjson');
    let runs = 0;
    let runSeconds = 0;
    for (let n = 0; n <= opts.nights; n++) {
      const night = n === 0 ? sim.first : sim.next();
      night.lines = sim.write(file);
      plan.push(night);
      const nightStarted = Date.now();
      for (const seq of sequences) {
        const { setting } = seq;
        const args = [
          ...(n === 0 ? ['--full'] : []),
          '--source',
          `file:${file}`,
          '--redis',
          redis.url,
          '--state-dir',
          join(tmp, `state-${setting.prefix}`),
          '--until',
          night.until,
        ];
        const run = await runCli({ root: app, method: 'none', env: cliEnv(setting, opts), args });
        runs++;
        runSeconds += run.wallSeconds;
        const r = run.result;
        if (run.exitCode !== 0 || r?.success !== true) {
          throw new Error(
            `${setting.key}, night ${n}: exit ${run.exitCode}: ${r?.errors?.join('; ') ?? run.stderrTail}`,
          );
        }
        if (r.mode !== (n === 0 ? 'full' : 'delta')) {
          throw new Error(`${setting.key}, night ${n}: a ${r.mode} run (${r.modeReason ?? ''})`);
        }
        seq.nights.push({
          result: summary(r),
          lists: await liveLists(redis.client, setting.prefix),
          wallSeconds: run.wallSeconds,
        });
      }
      const what =
        n === 0
          ? `${night.live.toLocaleString('en-US')} live documents`
          : `${night.live.toLocaleString('en-US')} live (−${night.deleted} +${night.added} ~${night.modified})`;
      log(
        `night ${n}/${opts.nights}: ${what}, ${sequences.length} runs in ${((Date.now() - nightStarted) / 1000).toFixed(0)} s`,
      );
    }

    const probe = sequences.find((s) => s.setting.probe);
    const measured = sequences.filter((s) => !s.setting.probe);
    const truthOf = (setting) =>
      measured.find((s) => s.setting.min === setting.min && s.setting.fraction === 1);
    const results = measured.map((seq) => ({
      setting: seq.setting,
      metrics: sequenceMetrics(seq, truthOf(seq.setting)),
    }));
    const mismatches = results.reduce((a, r) => a + r.metrics.mismatches, 0);
    if (mismatches > 0) {
      log(`warning: ${mismatches} language-nights where the JobResult's added/removed differ`);
    }
    machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
    const report = {
      date: new Date().toISOString(),
      machine: describeMachine(machine),
      command: `npm run eval:churn${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      cliCommand:
        'bin/stopword-refresh run [--full] --source file:<night.ndjson> --redis <private redis> --state-dir <tmp per setting> --until <night>',
      env: runEnv(opts),
      opts: { ...opts, doc: relative(root, opts.doc) },
      corpus: {
        source: corpus.source,
        documents: corpus.documents.length,
        languages: new Set(corpus.documents.map((d) => d.lang)).size,
        versions: corpus.versions,
      },
      plan,
      minDocuments: MIN_DOCUMENTS,
      maxStopwords: MAX_STOPWORDS,
      runs,
      runSeconds,
      totalSeconds: (Date.now() - started) / 1000,
      results,
      noise: ratioNoise(probe, {
        lo: Math.min(...opts.mins) * 0.5,
        hi: Math.max(...opts.mins) * 1.5,
      }),
      probe,
      sequences: measured,
    };
    process.stdout.write(consoleTables(report));
    writeResults(join(outDir, 'results.json'), report);
    writeDoc(opts.doc, report);
    log(
      `wrote ${relative(root, opts.doc)} and ${relative(root, outDir)}/results.json in ${report.totalSeconds.toFixed(0)} s (${runs} runs, ${runSeconds.toFixed(0)} s in the CLI)`,
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
