#!/usr/bin/env node
// Two builds of the job, run alternately on the same corpus: this tree's build against the build
// of a git commit. This machine has spells in which the same build takes up to a quarter more CPU
// time per document, so a change is judged by runs of both builds side by side, not by two
// benchmarks an hour apart.
//
//   npm run bench:compare -- --base 49788af                       # 200K full runs, 4 pairs
//   npm run bench:compare -- --base 49788af --kind delta --size 1000000
//
// See bench/README.md ("Comparing two builds").
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliEnv, runArgs, snapshotBuild, warmPageCache } from './lib/build.mjs';
import { activeChildren, rssMethod, runCli } from './lib/cli-run.mjs';
import { ensureCorpus, isoAfter } from './lib/corpus.mjs';
import { describeMachine, machineInfo } from './lib/machine.mjs';
import { redisServerVersion, startRedis } from './lib/redis-server.mjs';
import { fmt, label, median } from './lib/report.mjs';

const USAGE = `usage: npm run bench:compare -- --base REF [options]

  --base REF        the git commit (or branch, tag) to compare this tree's build with (required)
  --kind full|delta full runs on the base corpus (default), or 1% delta runs, each from a copy of
                    the state a full run of the same build left
  --size N          corpus size in documents (default 200000)
  --pairs P         pairs of runs, the order alternating from pair to pair (default 4)
  --workers W       analysis workers (default 2)
  --rss time|poll   as for npm run bench
  -h, --help

This tree's build is dist/ as it is (npm run bench:compare builds it first); the base is built
from REF in a temporary git worktree by its own npm run build, with this tree's node_modules.
Results go to bench/out/compare-<time>.json; a Markdown table goes to stdout, progress to stderr.
`;

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'bench/out');
const log = (message) => process.stderr.write(`[compare] ${message}\n`);

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        base: { type: 'string' },
        kind: { type: 'string', default: 'full' },
        size: { type: 'string', default: '200000' },
        pairs: { type: 'string', default: '4' },
        workers: { type: 'string', default: '2' },
        rss: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    usageError(error.message);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (parsed.base === undefined) usageError('--base is required');
  if (parsed.kind !== 'full' && parsed.kind !== 'delta') {
    usageError(`--kind must be full or delta, not ${parsed.kind}`);
  }
  const count = (name, min) => {
    const value = Number(parsed[name]);
    if (!Number.isInteger(value) || value < min) {
      usageError(`--${name} must be an integer of at least ${min}, not ${parsed[name]}`);
    }
    return value;
  };
  return {
    base: parsed.base,
    kind: parsed.kind,
    size: count('size', 100),
    pairs: count('pairs', 1),
    workers: count('workers', 1),
    rss: rssMethod(parsed.rss),
  };
}

function usageError(message) {
  process.stderr.write(`compare: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function git(args, cwd = root) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Builds commit `ref` in a worktree under `tmp` and copies the build to `app`. */
function buildCommit(ref, tmp, app) {
  const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const tree = join(tmp, 'base-src');
  git(['worktree', 'add', '--detach', tree, commit]);
  try {
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
    // The commit's own build script, which also bundles the CLI where the commit does.
    execFileSync('npm', ['run', '--silent', 'build'], {
      cwd: tree,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { commit, ...snapshotBuild(tree, app, join(root, 'node_modules')) };
  } finally {
    git(['worktree', 'remove', '--force', tree]);
  }
}

async function run(build, corpusPath, stateDir, options, redis, prefix) {
  await warmPageCache(corpusPath);
  const measured = await runCli({
    root: build.app,
    method: options.rss,
    env: cliEnv(prefix),
    args: runArgs({
      corpusPath,
      redisUrl: redis.url,
      stateDir,
      workers: options.workers,
      until: isoAfter(corpusPath),
    }),
  });
  const r = measured.result;
  if (measured.exitCode !== 0 || r?.success !== true) {
    throw new Error(
      `${build.name} failed (exit ${measured.exitCode}): ${(r?.errors ?? []).join('; ') || measured.stderrTail}`,
    );
  }
  return {
    wallSeconds: measured.wallSeconds,
    cpuSeconds: measured.cpuSeconds,
    peakRssBytes: measured.peakRssBytes,
    mode: r.mode,
    phases: r.phases,
  };
}

/**
 * Writes a copied state to the disk before its delta runs, as a nightly run finds its state.
 * Left dirty, the copy (417 MB at 1M documents) was written back while the run went on, and the
 * run's own syncs waited behind it: a 1M delta's commit took 0.62-0.95 s against 0.36-0.55 with
 * the copy on the disk.
 */
function syncTree(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) syncTree(path);
    else if (entry.isFile()) fsyncPath(path);
  }
  fsyncPath(dir);
}

function fsyncPath(path) {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The relative change from `before` to `after`, as a signed percentage. */
function change(before, after) {
  return `${after >= before ? '+' : '−'}${fmt((Math.abs(after - before) / before) * 100, 1)}%`;
}

function markdown(report) {
  const { options, builds, pairs } = report;
  const [base, head] = builds;
  const lines = [
    `${label(options.size)} documents, ${options.kind} runs, ${options.workers} worker(s), ${pairs.length} pairs; base ${base.name} (build ${base.fingerprint}), head ${head.name} (build ${head.fingerprint}).`,
    '',
    '| pair | first | base wall s | head wall s | base CPU s | head CPU s | base peak RSS MB | head peak RSS MB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  const mb = (bytes) => (bytes === null ? 'n/a' : fmt(bytes / 1e6, 0));
  for (const [i, pair] of pairs.entries()) {
    lines.push(
      `| ${i + 1} | ${pair.first} | ${fmt(pair.base.wallSeconds, 2)} | ${fmt(pair.head.wallSeconds, 2)} | ${fmt(pair.base.cpuSeconds, 2)} | ${fmt(pair.head.cpuSeconds, 2)} | ${mb(pair.base.peakRssBytes)} | ${mb(pair.head.peakRssBytes)} |`,
    );
  }
  const s = report.summary;
  lines.push(
    '',
    `Median wall: base ${fmt(s.base.wallSeconds, 2)} s, head ${fmt(s.head.wallSeconds, 2)} s (${change(s.base.wallSeconds, s.head.wallSeconds)}); head faster in ${s.headFasterPairs} of ${pairs.length} pairs.`,
    `Median CPU: base ${fmt(s.base.cpuSeconds, 2)} s, head ${fmt(s.head.cpuSeconds, 2)} s (${change(s.base.cpuSeconds, s.head.cpuSeconds)}).`,
    `Median phases, base: ${phaseLine(s.base.phases)}`,
    `Median phases, head: ${phaseLine(s.head.phases)}`,
  );
  return lines.join('\n');
}

function phaseLine(phases) {
  return Object.entries(phases)
    .map(([name, seconds]) => `${name} ${fmt(seconds, 3)}`)
    .join(', ');
}

function summariseSide(runs) {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  return {
    wallSeconds: median(runs.map((r) => r.wallSeconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    peakRssBytes: median(runs.map((r) => r.peakRssBytes)),
    phases: Object.fromEntries(
      names.map((name) => [name, median(runs.map((r) => r.phases[name] ?? 0))]),
    ),
  };
}

async function main() {
  const options = parseOptions();
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const tmp = join(outDir, `compare-tmp-${stamp}`);
  mkdirSync(tmp, { recursive: true });
  let redis = null;
  const cleanup = async () => {
    for (const child of activeChildren) child.kill('SIGTERM');
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
    git(['worktree', 'prune']);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const machine = machineInfo(redisServerVersion());
    log(`machine: ${describeMachine(machine)}`);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    const head = {
      name: `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' with local changes' : ''}`,
      ...snapshotBuild(root, join(tmp, 'head'), join(root, 'node_modules')),
    };
    log(`head: ${head.name}, build ${head.fingerprint}`);
    log(`building ${options.base} …`);
    const builtBase = buildCommit(options.base, tmp, join(tmp, 'base'));
    const base = { name: builtBase.commit.slice(0, 7), ...builtBase };
    log(`base: ${base.name}, build ${base.fingerprint}`);
    const corpus = await ensureCorpus({ root, outDir, docs: options.size, log });
    const delta =
      options.kind === 'delta'
        ? await ensureCorpus({
            root,
            outDir,
            docs: options.size,
            delta: { changedRatio: 0.01 },
            log,
          })
        : null;
    redis = await startRedis(tmp);
    log(`redis-server ${machine.redis} on port ${redis.port}`);

    // A delta starts from a copy of the state a full run of the same build left.
    const seeds = new Map();
    if (delta !== null) {
      for (const build of [base, head]) {
        const dir = join(tmp, `seed-${build === base ? 'base' : 'head'}`);
        log(`${build.name}: full run to seed the delta state …`);
        await run(build, corpus.path, dir, options, redis, `compare:${stamp}:seed`);
        seeds.set(build, dir);
      }
    }

    const pairs = [];
    for (let i = 0; i < options.pairs; i++) {
      const order = i % 2 === 0 ? [base, head] : [head, base];
      const pair = { first: order[0] === base ? 'base' : 'head' };
      for (const build of order) {
        const side = build === base ? 'base' : 'head';
        const stateDir = join(tmp, `state-${i}-${side}`);
        if (delta !== null) {
          cpSync(seeds.get(build), stateDir, { recursive: true });
          syncTree(stateDir);
        }
        const measured = await run(
          build,
          delta === null ? corpus.path : delta.path,
          stateDir,
          options,
          redis,
          `compare:${stamp}:${i}:${side}`,
        );
        if (delta !== null && measured.mode !== 'delta') {
          throw new Error(`${build.name}: the delta run counted in full (mode ${measured.mode})`);
        }
        pair[side] = measured;
        rmSync(stateDir, { recursive: true, force: true });
        log(
          `pair ${i + 1}, ${side}: ${fmt(measured.wallSeconds, 2)} s wall, ${fmt(measured.cpuSeconds, 2)} s CPU`,
        );
      }
      pairs.push(pair);
    }

    const report = {
      generatedAt: new Date().toISOString(),
      command: `node bench/compare.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      machine,
      options,
      builds: [
        { name: base.name, commit: base.commit, fingerprint: base.fingerprint },
        { name: head.name, fingerprint: head.fingerprint },
      ],
      corpus: relative(root, delta === null ? corpus.path : delta.path),
      pairs,
      summary: {
        base: summariseSide(pairs.map((p) => p.base)),
        head: summariseSide(pairs.map((p) => p.head)),
        headFasterPairs: pairs.filter((p) => p.head.wallSeconds < p.base.wallSeconds).length,
      },
    };
    const file = join(outDir, `compare-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${markdown(report)}\n\nRaw results: ${relative(root, file)}\n`);
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`compare: ${error.stack ?? error}\n`);
  process.exit(1);
});
