#!/usr/bin/env node
// The benchmark behind the performance targets: the whole pipeline (NDJSON source → analysis →
// state → selection → publish to a real redis-server), run as the built CLI in a subprocess, on
// seeded corpora.
//
//   npm run bench                                   # 200K and 1M documents, 3 runs, 1 and 2 workers
//   npm run bench -- --sizes 200000 --runs 3
//   npm run bench -- --quick                        # 20K documents, 1 run: a smoke test
//   npm run bench -- --profile --sizes 200000       # one run under --cpu-prof, summarised
//
// See bench/README.md for what each figure means.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliEnv, runArgs, snapshotBuild, stateOf, warmPageCache } from './lib/build.mjs';
import { activeChildren, rssMethod, runCli } from './lib/cli-run.mjs';
import { ensureCorpus, isoAfter, meanDistinctTerms } from './lib/corpus.mjs';
import { describeMachine, describeProbe, machineInfo, speedProbe } from './lib/machine.mjs';
import { publishBenchmark } from './lib/publish-bench.mjs';
import { redisServerVersion, startRedis } from './lib/redis-server.mjs';
import { fmt, label, markdown, median, summarise, targetChecks } from './lib/report.mjs';
import { summariseProfiles } from './profile-summary.mjs';

const USAGE = `usage: npm run bench -- [options]      (or: node bench/run.mjs [options] after npm run build)

  --sizes N,N        corpus sizes in documents (default 200000,1000000)
  --runs R           runs per size and worker count; medians are reported (default 3)
  --workers W,W      analysis worker counts to compare (default 1,2)
  --quick            smoke run: --sizes 20000 --runs 1 (explicit flags still win)
  --changed-ratio X  share of documents the delta corpus changes (default 0.01)
  --skip-delta       no delta runs
  --skip-publish     no publish micro-benchmark
  --publish-only     only the publish micro-benchmark (no corpora, no CLI runs)
  --publish-words N  words in the publish micro-benchmark (default 150000)
  --publish-languages K   languages they are spread over (default 50)
  --rss time|poll    peak RSS from /usr/bin/time -v (default when installed) or by polling /proc
  --cold             do not read the corpus file into the page cache before each run
  --report FILE      print the tables of an earlier results-*.json again, and nothing else
  --profile          instead of the benchmark: one full run of the first size with the largest
                     worker count under node --cpu-prof, and the top self-time functions per thread
  -h, --help

Corpora are generated once into bench/out/corpora/. Results go to bench/out/results-<time>.json;
a Markdown summary goes to stdout, progress to stderr.
`;

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'bench/out');

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        sizes: { type: 'string' },
        runs: { type: 'string' },
        workers: { type: 'string', default: '1,2' },
        quick: { type: 'boolean', default: false },
        'changed-ratio': { type: 'string', default: '0.01' },
        'skip-delta': { type: 'boolean', default: false },
        'skip-publish': { type: 'boolean', default: false },
        'publish-only': { type: 'boolean', default: false },
        'publish-words': { type: 'string', default: '150000' },
        'publish-languages': { type: 'string', default: '50' },
        rss: { type: 'string' },
        cold: { type: 'boolean', default: false },
        profile: { type: 'boolean', default: false },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    usageError(error.message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const list = (name, text) => {
    const xs = text.split(',').map((s) => Number(s.trim()));
    if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) {
      usageError(`--${name} must be a comma-separated list of whole numbers ≥ 1`);
    }
    return xs;
  };
  const ratio = Number(values['changed-ratio']);
  if (!(ratio > 0 && ratio <= 1)) usageError('--changed-ratio must be in (0, 1]');
  if (values.rss !== undefined && !['time', 'poll'].includes(values.rss)) {
    usageError('--rss must be time or poll');
  }
  return {
    sizes: list('sizes', values.sizes ?? (values.quick ? '20000' : '200000,1000000')),
    runs: list('runs', values.runs ?? (values.quick ? '1' : '3'))[0],
    workers: list('workers', values.workers),
    changedRatio: ratio,
    delta: !values['skip-delta'],
    publish: !values['skip-publish'],
    publishOnly: values['publish-only'],
    publishWords: list('publish-words', values['publish-words'])[0],
    publishLanguages: list('publish-languages', values['publish-languages'])[0],
    rss: rssMethod(values.rss),
    profile: values.profile,
    report: values.report,
    cold: values.cold,
  };
}

function usageError(message) {
  process.stderr.write(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const log = (message) => process.stderr.write(`[bench] ${message}\n`);

async function oneRun({
  kind,
  corpus,
  workers,
  runIndex,
  stateDir,
  prefix,
  until,
  redis,
  options,
  nodeArgs,
}) {
  const warmSeconds = options.cold ? null : await warmPageCache(corpus.path);
  await redis.resetSlowlog();
  const loadAverage = Number(os.loadavg()[0].toFixed(2));
  const measured = await runCli({
    root: options.app,
    method: options.rss,
    nodeArgs,
    env: cliEnv(prefix),
    args: runArgs({ corpusPath: corpus.path, redisUrl: redis.url, stateDir, workers, until }),
  });
  const r = measured.result;
  const success = measured.exitCode === 0 && r?.success === true;
  const record = {
    kind,
    docs: corpus.docs,
    workers,
    run: runIndex,
    exitCode: measured.exitCode,
    success,
    wallSeconds: measured.wallSeconds,
    cpuSeconds: measured.cpuSeconds,
    peakRssBytes: measured.peakRssBytes,
    diskReadBytes: measured.diskReadBytes,
    warmSeconds,
    loadAverage,
    durationSeconds: r?.durationSeconds ?? null,
    documentsProcessed: r?.documentsProcessed ?? null,
    documentsCounted: r?.documents?.counted ?? null,
    mode: r?.mode ?? null,
    published: r?.published ?? null,
    phases: r?.phases ?? {},
    errors: r?.errors ?? [],
    redis: await redis.longestCommand(),
    state: stateOf(stateDir),
  };
  if (!success) {
    record.stderrTail = measured.stderrTail;
    log(`  FAILED (exit ${measured.exitCode}): ${record.errors.join('; ') || measured.stderrTail}`);
  }
  return record;
}

function describeRun(r) {
  return `${fmt(r.wallSeconds, 2)} s wall, ${fmt(r.cpuSeconds, 2)} s CPU, ${fmt(r.documentsProcessed / r.wallSeconds, 0)} docs/s, load ${r.loadAverage}, analyze ${fmt(r.phases.analyze, 2)} s, RSS ${fmt(r.peakRssBytes / 1e6, 0)} MB, read from disk ${r.diskReadBytes === null ? '?' : fmt(r.diskReadBytes / 1e6, 0)} MB, mode ${r.mode}`;
}

async function prepareCorpora(options) {
  const corpora = [];
  for (const docs of options.sizes) {
    const base = await ensureCorpus({ root, outDir, docs, log });
    const corpus = { docs, path: base.path, bytes: base.bytes, until: isoAfter(base.path) };
    if (options.delta && !options.profile) {
      const delta = await ensureCorpus({
        root,
        outDir,
        docs,
        delta: { changedRatio: options.changedRatio },
        log,
      });
      corpus.delta = { docs, path: delta.path, bytes: delta.bytes, until: isoAfter(delta.path) };
    }
    corpus.meanDistinctTerms = await meanDistinctTerms(options.app, base.path);
    corpora.push(corpus);
  }
  return corpora;
}

async function benchmark(options, corpora, redis, tmp, stamp) {
  const runs = [];
  const deltaWorkers = Math.max(...options.workers);
  let seq = 0;
  for (const corpus of corpora) {
    for (let i = 1; i <= options.runs; i++) {
      // Worker counts alternate within a round, so drift on a shared machine hits both alike.
      for (const workers of options.workers) {
        const stateDir = join(tmp, `state-${++seq}`);
        mkdirSync(stateDir);
        const prefix = `bench:${stamp}:${seq}`;
        log(`${label(corpus.docs)} docs, ${workers} worker(s), run ${i}/${options.runs} …`);
        const full = await oneRun({
          kind: 'full',
          corpus,
          workers,
          runIndex: i,
          stateDir,
          prefix,
          until: corpus.until,
          redis,
          options,
        });
        runs.push(full);
        if (full.success) log(`  ${describeRun(full)}`);
        if (corpus.delta !== undefined && workers === deltaWorkers && full.success) {
          const delta = await oneRun({
            kind: 'delta',
            corpus: corpus.delta,
            workers,
            runIndex: i,
            stateDir,
            prefix,
            until: corpus.delta.until,
            redis,
            options,
          });
          delta.base = {
            wallSeconds: full.wallSeconds,
            cpuSeconds: full.cpuSeconds,
            success: full.success,
          };
          runs.push(delta);
          if (delta.success) log(`  delta: ${describeRun(delta)}`);
        }
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  }
  return runs;
}

async function profile(options, corpus, redis, tmp, stamp) {
  const dir = join(outDir, `profile-${stamp}`);
  const stateDir = join(tmp, 'state-profile');
  mkdirSync(stateDir);
  const workers = Math.max(...options.workers);
  log(
    `profiling ${label(corpus.docs)} docs with ${workers} worker(s) into ${relative(root, dir)} …`,
  );
  const run = await oneRun({
    kind: 'full',
    corpus,
    workers,
    runIndex: 1,
    stateDir,
    prefix: `bench:${stamp}:profile`,
    until: corpus.until,
    redis,
    options,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  if (run.success) log(`  ${describeRun(run)} (slowed by the profiler)`);
  const text = summariseProfiles(dir, { top: 20, root: options.app });
  writeFileSync(join(dir, 'summary.md'), `${text}\n`);
  process.stdout.write(
    `Profile of one full run: ${label(corpus.docs)} documents, ${workers} worker(s), ${fmt(run.wallSeconds, 2)} s wall under the profiler; phases ${JSON.stringify(run.phases)}.\n\n${text}\n\nProfiles and this summary: ${relative(root, dir)}/\n`,
  );
  return run.success;
}

/** The tables of an earlier results file, recomputed from its raw runs. */
function reprint(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  report.summary = summarise(report.runs, report.corpora);
  report.targets = targetChecks(report.summary, report.publish);
  process.stdout.write(`${markdown(report)}\n`);
}

async function main() {
  const options = parseOptions();
  if (options.report !== undefined) {
    reprint(options.report);
    return;
  }
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const tmp = join(outDir, `tmp-${stamp}`);
  mkdirSync(tmp, { recursive: true });
  const build = snapshotBuild(root, join(tmp, 'app'), join(root, 'node_modules'));
  options.app = build.app;
  const machine = machineInfo(redisServerVersion());
  log(`machine: ${describeMachine(machine)}`);
  machine.probeAtStart = speedProbe();
  log(`speed probe: ${describeProbe(machine.probeAtStart)}`);
  log(`build ${build.fingerprint}, copied to ${relative(root, build.app)}`);
  log(
    `peak RSS by ${options.rss === 'time' ? '/usr/bin/time -v' : 'polling /proc/<pid>/status VmHWM'}`,
  );
  let redis = null;
  const cleanup = async () => {
    for (const child of activeChildren) child.kill('SIGTERM');
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const corpora = options.publishOnly ? [] : await prepareCorpora(options);
    redis = await startRedis(tmp);
    log(`redis-server ${machine.redis} on port ${redis.port}`);
    if (options.profile) {
      process.exitCode = (await profile(options, corpora[0], redis, tmp, stamp)) ? 0 : 1;
      return;
    }
    const runs = await benchmark(options, corpora, redis, tmp, stamp);
    let publish = null;
    if (options.publish) {
      log(
        `publish micro-benchmark: ${options.publishWords} words, ${options.publishLanguages} languages …`,
      );
      publish = await publishBenchmark({
        root: options.app,
        redis,
        words: options.publishWords,
        languages: options.publishLanguages,
        repeats: Math.max(options.runs, 2) + 1,
        prefix: `bench:${stamp}:publish`,
      });
      const warm = publish.runs.filter((r) => r.overLiveLists);
      publish.medianSeconds = median(warm.map((r) => r.seconds));
      const longest = publish.runs.reduce((a, r) =>
        r.longestCommandMs > a.longestCommandMs ? r : a,
      );
      publish.longestCommandMs = longest.longestCommandMs;
      publish.longestCommandMsMedian = median(publish.runs.map((r) => r.longestCommandMs));
      publish.longestCommand = longest.longestCommand;
    }
    machine.loadAverageAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)));
    machine.probeAtEnd = speedProbe();
    const summary = summarise(runs, corpora);
    const report = {
      generatedAt: new Date().toISOString(),
      command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      build: build.fingerprint,
      machine,
      options,
      corpora: corpora.map(({ docs, path, bytes, meanDistinctTerms: t, delta }) => ({
        docs,
        file: relative(root, path),
        bytes,
        meanDistinctTerms: t,
        delta:
          delta === undefined ? null : { file: relative(root, delta.path), bytes: delta.bytes },
      })),
      summary,
      publish,
      runs,
    };
    report.targets = targetChecks(summary, publish);
    const file = join(outDir, `results-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${markdown(report)}\n\nRaw results: ${relative(root, file)}\n`);
    if (runs.some((r) => !r.success)) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
