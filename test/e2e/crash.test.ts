/**
 * Runs killed with SIGKILL at random points, and stopped with SIGTERM: the live lists stay whole
 * for a concurrent reader, and the next run ends exact (its document frequencies equal a full
 * recount of the final corpus).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from '../support/cli.js';
import { FUNCTION_WORDS, letters, prng } from '../support/corpus.js';
import type { RedisServer } from '../support/redis-server.js';
import { liveLists, stateTables } from '../support/state.js';
import { closeRedisSuite, openRedisSuite } from '../support/suite.js';

const KILLS = Number(process.env.CRASH_TEST_KILLS ?? 20);
const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 9, 1);

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let dir: string;

beforeAll(async () => {
  ({ redis, client, dir } = await openRedisSuite('swr-crash-'));
});

afterAll(() => closeRedisSuite({ redis, client, dir }));

interface Doc {
  _id: string;
  lang: string;
  text: string;
  updatedAt: string;
  deletedAt?: string;
}

function env(prefix: string): Record<string, string> {
  return {
    STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
    STOPWORD_REFRESH_REDIS_LOCK_TTL_SECONDS: '2',
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO: '0.3',
    STOPWORD_REFRESH_ANALYSIS_LEAVE_DOCUMENT_RATIO: '0.3',
    STOPWORD_REFRESH_ANALYSIS_WORKERS: '2',
    STOPWORD_REFRESH_GUARDRAILS_LANGUAGE_REMOVAL: 'allow',
    STOPWORD_REFRESH_GUARDRAILS_MAX_CHURN_RATIO: '100',
    STOPWORD_REFRESH_GUARDRAILS_MAX_TOTAL_DROP_RATIO: '1',
    STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
  };
}

class Corpus {
  readonly docs = new Map<string, Doc>();
  private readonly random: () => number;
  private next = 0;

  constructor(seed: number, size: number) {
    this.random = prng(seed);
    for (let i = 0; i < size; i++) this.put(BASE - HOUR + Math.floor(this.random() * HOUR));
  }

  private text(lang: string): string {
    const words: string[] = [];
    for (const w of FUNCTION_WORDS[lang] ?? []) if (this.random() < 0.6) words.push(w);
    // A small vocabulary, so that some content words sit near the selection threshold.
    for (let k = 0; k < 60; k++)
      words.push(`${lang}${letters(Math.floor(this.random() ** 3 * 3000))}`);
    return words.join(' ');
  }

  private put(at: number, id = `d${this.next++}`): void {
    const langs = Object.keys(FUNCTION_WORDS);
    const lang = langs[Math.floor(this.random() * langs.length)]!;
    this.docs.set(id, {
      _id: id,
      lang,
      text: this.text(lang),
      updatedAt: new Date(at).toISOString(),
    });
  }

  /** Changes about `share` of the documents inside [from, until). */
  mutate(share: number, from: number, until: number): void {
    const ids = [...this.docs.keys()];
    const count = Math.max(1, Math.floor(ids.length * share));
    for (let i = 0; i < count; i++) {
      const at = from + Math.floor(this.random() * (until - from));
      const id = ids[Math.floor(this.random() * ids.length)]!;
      const roll = this.random();
      if (roll < 0.2) this.put(at);
      else if (roll < 0.35)
        this.docs.set(id, {
          ...this.docs.get(id)!,
          updatedAt: new Date(at).toISOString(),
          deletedAt: new Date(at).toISOString(),
        });
      else this.put(at, id);
    }
  }

  async write(path: string): Promise<void> {
    await writeFile(path, `${[...this.docs.values()].map((d) => JSON.stringify(d)).join('\n')}\n`);
  }
}

/** `run` on a corpus file and a state directory, with a window ending at `until` when given. */
function runArgs(source: string, stateDir: string, until?: number): string[] {
  return [
    'run',
    '--source',
    `file:${source}`,
    '--redis',
    redis.url,
    '--state-dir',
    stateDir,
    ...(until === undefined ? [] : ['--until', new Date(until).toISOString()]),
  ];
}

/** Runs until the lock left by a killed run has expired. */
async function runWhenUnlocked(args: string[], prefix: string): Promise<CliRun> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const run = await runCli(args, { env: env(prefix), timeoutMs: 120_000 });
    if (run.code !== 3) return run;
    await sleep(250);
  }
  throw new Error('the lock never expired');
}

/** A reader that checks every read is one whole version; returns its problems when stopped. */
function startReader(prefix: string): {
  stop: () => Promise<{ reads: number; problems: string[] }>;
} {
  const reader = createClient({ url: redis.url });
  let running = true;
  const problems: string[] = [];
  let reads = 0;
  const loop = (async () => {
    await reader.connect();
    while (running) {
      const replies = (await reader
        .multi()
        .hGetAll(`${prefix}:meta`)
        .hGetAll(`${prefix}:en`)
        .hGetAll(`${prefix}:de`)
        .hGetAll(`${prefix}:fr`)
        .exec()) as unknown as Array<Record<string, string>>;
      const [meta, en, de, fr] = replies;
      if (meta?.version === undefined) continue;
      reads++;
      const languages = JSON.parse(meta.languages ?? '[]') as string[];
      const lists: Record<string, Record<string, string> | undefined> = { en, de, fr };
      for (const lang of languages) {
        const list = lists[lang] ?? {};
        const copy = await client.hGetAll(`${prefix}:v:${meta.version}:${lang}`);
        if (Object.keys(list).length === 0) problems.push(`v${meta.version}: ${lang} missing`);
        else if (
          JSON.stringify(Object.entries(list).sort()) !==
          JSON.stringify(Object.entries(copy).sort())
        ) {
          problems.push(`v${meta.version}: ${lang} is not the version's list`);
        }
      }
    }
    await reader.quit();
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { reads, problems };
    },
  };
}

describe('killed runs', () => {
  it(`${KILLS} runs killed with SIGKILL at random points: the next run ends exact`, async () => {
    const prefix = 'kill';
    const stateDir = join(dir, 'state');
    const source = join(dir, 'corpus.ndjson');
    const corpus = new Corpus(11, 4000);
    await corpus.write(source);
    const args = (until: number): string[] => runArgs(source, stateDir, until);
    const first = await runCli(args(BASE), { env: env(prefix) });
    expect(first.code, first.stderr).toBe(0);
    const reader = startReader(prefix);
    const random = prng(99);
    const phasesSeen = new Set<string>();
    for (let round = 1; round <= KILLS; round++) {
      corpus.mutate(0.03, BASE + (round - 1) * HOUR, BASE + round * HOUR);
      await corpus.write(source);
      const delay = 30 + Math.floor(random() * 900);
      const killed = await runCli(args(BASE + round * HOUR), {
        env: env(prefix),
        onSpawn: (child) => {
          setTimeout(() => child.kill('SIGKILL'), delay);
        },
      });
      if (killed.signal === 'SIGKILL') phasesSeen.add('killed');
      else phasesSeen.add(`finished:${killed.code}`);
      // Every second round the next run starts straight after the kill, over the same window.
      if (round % 2 === 0) {
        const next = await runWhenUnlocked(args(BASE + round * HOUR), prefix);
        expect(next.code, next.stderr).toBe(0);
      }
    }
    const final = await runWhenUnlocked(args(BASE + KILLS * HOUR), prefix);
    expect(final.code, final.stderr).toBe(0);
    const { reads, problems } = await reader.stop();
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    expect(phasesSeen.has('killed')).toBe(true);

    const recountDir = join(dir, 'recount');
    const recount = await runCli(
      [
        ...args(BASE + KILLS * HOUR).slice(0, 5),
        '--state-dir',
        recountDir,
        '--until',
        new Date(BASE + KILLS * HOUR).toISOString(),
        '--full',
      ],
      {
        env: env('recount'),
      },
    );
    expect(recount.code, recount.stderr).toBe(0);
    expect(await stateTables(stateDir)).toEqual(await stateTables(recountDir));
    expect(await liveLists(client, prefix)).toEqual(await liveLists(client, 'recount'));
    expect(await client.exists(`${prefix}:lock`)).toBe(0);
  }, 600_000);
});

describe('SIGTERM', () => {
  it('stops a run: exit 1 with a JobResult, live lists intact, lock released', async () => {
    const prefix = 'term';
    const stateDir = join(dir, 'term-state');
    const source = join(dir, 'term.ndjson');
    const corpus = new Corpus(12, 30_000);
    await corpus.write(source);
    const first = await runCli(runArgs(source, stateDir, BASE), {
      env: env(prefix),
    });
    expect(first.code, first.stderr).toBe(0);
    const before = await liveLists(client, prefix);
    const meta = await client.hGetAll(`${prefix}:meta`);

    // SIGTERM once the run is reading the corpus (its log says the window is fixed).
    const stopped = await runCli([...runArgs(source, stateDir), '--full'], {
      env: { ...env(prefix), STOPWORD_REFRESH_LOGGING_LEVEL: 'info' },
      onSpawn: (child) => {
        let sent = false;
        child.stderr?.on('data', (chunk: Buffer) => {
          if (!sent && chunk.toString().includes('window fixed')) {
            sent = true;
            setTimeout(() => child.kill('SIGTERM'), 100);
          }
        });
      },
    });
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.json).toMatchObject({ success: false, published: false, exitCode: 1 });
    expect(String(stopped.json?.errors)).toMatch(/interrupted by a signal/);
    expect(await liveLists(client, prefix)).toEqual(before);
    expect(await client.hGetAll(`${prefix}:meta`)).toEqual(meta);
    expect(await client.exists(`${prefix}:lock`)).toBe(0);
    const next = await runCli(runArgs(source, stateDir, BASE + HOUR), {
      env: env(prefix),
    });
    expect(next.code, next.stderr).toBe(0);
    expect(next.json?.mode).toBe('delta');
  }, 180_000);
});

describe('a full count killed while its workers hold records on disk', () => {
  it('leaves them in its unfinished generation only, and the next run removes them', async () => {
    const prefix = 'spill';
    const stateDir = join(dir, 'spill-state');
    const source = join(dir, 'spill.ndjson');
    await new Corpus(13, 30_000).write(source);
    const args = runArgs(source, stateDir, BASE);
    const first = await runCli(args, { env: env(prefix) });
    expect(first.code, first.stderr).toBe(0);
    const live = (await readFile(join(stateDir, 'CURRENT'), 'utf8')).trim();

    const recordFiles = async (): Promise<string[]> => {
      const found: string[] = [];
      for (const entry of await readdir(stateDir)) {
        if (!entry.startsWith('gen-')) continue;
        const files = await readdir(join(stateDir, entry)).catch(() => []);
        for (const file of files) if (file.startsWith('records-')) found.push(`${entry}/${file}`);
      }
      return found;
    };
    let seen: string[] = [];
    const killed = await runCli([...args, '--full'], {
      env: env(prefix),
      onSpawn: (child) => {
        // Killed as soon as both workers have their record files: mid-count.
        const poll = setInterval(() => {
          void recordFiles().then((files) => {
            if (files.length >= 2 && seen.length === 0) {
              seen = files;
              clearInterval(poll);
              child.kill('SIGKILL');
            }
          });
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(seen.length).toBe(2);
    expect(seen.every((file) => !file.startsWith(`${live}/`))).toBe(true);
    expect((await readFile(join(stateDir, 'CURRENT'), 'utf8')).trim()).toBe(live);

    // A delta run: it too removes what the killed count left.
    const next = await runWhenUnlocked(runArgs(source, stateDir, BASE + HOUR), prefix);
    expect(next.code, next.stderr).toBe(0);
    expect(next.json?.mode).toBe('delta');
    expect(await recordFiles()).toEqual([]);
    expect((await readdir(stateDir)).filter((entry) => entry.startsWith('gen-'))).toEqual([live]);
  }, 180_000);
});
