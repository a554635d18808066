// What bench/run.mjs and bench/compare.mjs share: a private copy of a build, the CLI's
// environment, the page cache warmed before a run, and the state directory's size.
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * A private copy of the build in `source` (bin, dist, config, package.json; `nodeModules`
 * linked) at `app`. Other people rebuild dist/ and edit config/ in the tree while they work:
 * every run of one benchmark must use the same build, and the copy's hash names it.
 */
export function snapshotBuild(source, app, nodeModules = join(source, 'node_modules')) {
  for (const part of ['bin', 'dist', 'config']) {
    cpSync(join(source, part), join(app, part), { recursive: true });
  }
  cpSync(join(source, 'package.json'), join(app, 'package.json'));
  symlinkSync(nodeModules, join(app, 'node_modules'), 'dir');
  const hash = createHash('sha1');
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(app, path)).update(readFileSync(path));
    }
  };
  for (const part of ['dist', 'config']) walk(join(app, part));
  return { app, fingerprint: hash.digest('hex').slice(0, 12) };
}

/** The CLI's environment: ours, without any STOPWORD_REFRESH_* of the caller's shell. */
export function cliEnv(prefix) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('STOPWORD_REFRESH_')),
  );
  return {
    ...env,
    STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
    STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
  };
}

/** The arguments of `stopword-refresh run` on an NDJSON corpus, as both scripts run it. */
export function runArgs({ corpusPath, redisUrl, stateDir, workers, until }) {
  return [
    '--source',
    `file:${corpusPath}`,
    '--redis',
    redisUrl,
    '--state-dir',
    stateDir,
    '--workers',
    String(workers),
    '--until',
    until,
  ];
}

/**
 * Reads `path` once so that the run reads it from the page cache. Without it, how much of the
 * file is still cached depends on what ran before and on the kernel's reclaim (this machine's
 * DAMON pages out page-cache memory left idle for a minute), and the runs' times with it. The
 * run's own disk reads are recorded beside it (`diskReadBytes`). Resolves to the seconds it took.
 */
export async function warmPageCache(path) {
  const started = process.hrtime.bigint();
  const file = await open(path, 'r');
  try {
    const block = Buffer.allocUnsafe(8 << 20);
    while ((await file.read(block, 0, block.length, null)).bytesRead > 0) {}
  } finally {
    await file.close();
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The files under `dir` and their bytes. */
export function stateOf(dir) {
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else files.push({ file: relative(dir, path), bytes: st.size });
    }
  };
  walk(dir);
  const bytes = files.reduce((a, f) => a + f.bytes, 0);
  return { bytes, files };
}
