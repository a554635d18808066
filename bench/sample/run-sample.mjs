#!/usr/bin/env node
// Runs the job on the bundled sample corpus and shows what it published.
//
// Redis: $REDIS_URL when set; otherwise a private redis-server on a free port when one is
// installed (it is stopped afterwards); otherwise a dry run that prints the lists it would publish.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisServerVersion, startRedis } from '../lib/redis-server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const corpus = join(root, 'bench/sample/corpus.ndjson');
const stateDir = join(root, '.state/sample');
const resultFile = join(stateDir, 'job-result.json');

/** A private redis-server (bench/lib), or null when none is installed or it does not start. */
async function startPrivateRedis() {
  if (redisServerVersion() === null) return null;
  const parent = mkdtempSync(join(tmpdir(), 'stopword-refresh-sample-'));
  try {
    const redis = await startRedis(parent);
    return {
      url: redis.url,
      port: redis.port,
      stop: async () => {
        await redis.stop();
        rmSync(parent, { recursive: true, force: true });
      },
    };
  } catch {
    rmSync(parent, { recursive: true, force: true });
    return null;
  }
}

function runJob(args) {
  const result = spawnSync(process.execPath, [join(root, 'bin/stopword-refresh'), 'run', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      STOPWORD_REFRESH_LOGGING_LEVEL: process.env.STOPWORD_REFRESH_LOGGING_LEVEL ?? 'warn',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = result.stdout.toString();
  try {
    const parsed = JSON.parse(stdout);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(resultFile, `${JSON.stringify(parsed, null, 2)}\n`);
    return { code: result.status, result: parsed };
  } catch {
    process.stderr.write(stdout);
    return { code: result.status ?? 1, result: null };
  }
}

function top(words, n) {
  return Object.entries(words)
    .sort((a, b) => Number(b[1]) - Number(a[1]) || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([w]) => w)
    .join(' ');
}

const privateRedis = process.env.REDIS_URL ? null : await startPrivateRedis();
// A private Redis starts empty, so the state starts afresh too: the run counts the whole sample.
// Against $REDIS_URL the state is kept, and a second run is a delta (nothing changed: 0 documents).
if (privateRedis) rmSync(stateDir, { recursive: true, force: true });
const redisUrl = process.env.REDIS_URL ?? privateRedis?.url ?? null;
// On a Redis of one's own the sample keeps clear of the real lists.
const prefix = privateRedis ? 'stopwords' : 'stopwords-sample';
try {
  const base = ['--source', `file:${corpus}`, '--state-dir', stateDir];
  if (redisUrl === null) {
    console.log(
      'No Redis: no $REDIS_URL and no redis-server installed. Running a dry run instead.\n',
    );
    const { code, result } = runJob([...base, '--dry-run'], prefix);
    if (result !== null) {
      for (const [lang, words] of Object.entries(result.stopwords ?? {})) {
        console.log(
          `${lang.padEnd(4)} ${String(Object.keys(words).length).padStart(4)}  ${top(words, 12)}`,
        );
      }
      console.log(
        `\n${result.documentsProcessed} documents in ${result.durationSeconds} s (dry run, nothing written).`,
      );
      console.log(`The JobResult the run printed is in ${resultFile.slice(root.length)}.`);
    }
    console.log(
      '\nFor the real thing: apt-get install redis-server (or set REDIS_URL) and run npm run sample again.',
    );
    process.exitCode = code ?? 1;
  } else {
    const where = privateRedis
      ? `a private redis-server on port ${privateRedis.port}`
      : redisUrl.replace(/\/\/[^@]*@/, '//');
    console.log(`Publishing to ${where}.\n`);
    const { code, result } = runJob([...base, '--redis', redisUrl], prefix);
    process.exitCode = code ?? 1;
    if (result === null) throw new Error('the job printed no result');
    if (!result.success) {
      console.log(`The run failed (exit ${code}): ${result.errors.join('; ')}`);
    } else {
      const { createClient } = await import('redis');
      const client = createClient({ url: redisUrl });
      await client.connect();
      const meta = await client.hGetAll(`${prefix}:meta`);
      for (const lang of JSON.parse(meta.languages ?? '[]')) {
        const words = await client.hGetAll(`${prefix}:${lang}`);
        console.log(
          `${prefix}:${lang.padEnd(4)} ${String(Object.keys(words).length).padStart(4)}  ${top(words, 12)}`,
        );
      }
      await client.quit();
      console.log(
        `\nVersion ${result.version} is live: ${result.documentsProcessed} documents in ${result.durationSeconds} s.`,
      );
      console.log(`The JobResult the run printed is in ${resultFile.slice(root.length)}.`);
    }
  }
} finally {
  await privateRedis?.stop();
}
