/**
 * Exactness of incremental runs: random histories of inserts, text updates, language changes,
 * tombstones, re-deliveries (a run whose commit was lost, redone) and equal timestamps, applied
 * as a chain of delta runs, must leave exactly the document frequencies, collection frequencies
 * (occurrences, which the ranking uses) and lists of a full recount of the final corpus, also
 * when the first full count ran on two workers and the second one's documents are stored in its
 * own numbering. A run holds its state directory from before it reads the state until it ends:
 * another run on the same directory meanwhile gives up at once and changes nothing. Runs the real
 * pipeline (the built job, piscina, SQLite state, a real redis-server) in this process.
 */
import { cp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import type { JobResult } from '../../src/job/result.js';
import { letters, prng, writeCorpus } from '../support/corpus.js';
import { fromDist } from '../support/dist.js';
import type { RedisServer } from '../support/redis-server.js';
import { liveLists, stateTables } from '../support/state.js';
import { closeRedisSuite, openRedisSuite } from '../support/suite.js';

// The built modules, so that the piscina worker is the compiled one.
const { loadConfig } = await fromDist<typeof import('../../src/config/load.js')>('config/load.js');
const { runJob } = await fromDist<typeof import('../../src/job/run-job.js')>('job/run-job.js');
const { silentLogger } = await fromDist<typeof import('../../src/ops/logger.js')>('ops/logger.js');

const SEEDS = Number(process.env.STATE_PROPERTY_SEEDS ?? 200);
const RUNS = 6;
const noProgress = { phase() {}, documents() {}, total() {}, stop() {} };

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let dir: string;

beforeAll(async () => {
  ({ redis, client, dir } = await openRedisSuite('swr-property-'));
});

afterAll(() => closeRedisSuite({ redis, client, dir }));

interface Doc {
  _id: string;
  lang: string;
  text: string;
  updatedAt: string;
  deletedAt?: string;
}

const VOCABULARY: Record<string, string[]> = {
  en: ['the', 'of', 'and', 'to', 'cat', 'dog', 'bird', 'fish', 'tree', 'river', 'stone', 'cloud'],
  de: ['der', 'die', 'und', 'zu', 'katze', 'hund', 'vogel', 'baum', 'fluss', 'stein'],
  fr: ['le', 'la', 'et', 'de', 'chat', 'chien', 'oiseau', 'arbre', 'rivière', 'pierre'],
};
const LANGS = Object.keys(VOCABULARY);

function config(prefix: string, stateDir: string, source: string, workers = 1): Config {
  return loadConfig({
    file: null,
    env: {},
    overrides: {
      source: { uri: `file:${source}`, safetyLagSeconds: 0 },
      redis: { url: redis.url, keyPrefix: prefix },
      state: { dir: stateDir },
      analysis: {
        workers,
        minDocuments: 3,
        minDocumentRatio: 0.3,
        leaveDocumentRatio: 0.3,
        maxStopwords: 50,
      },
      guardrails: { languageRemoval: 'allow', maxChurnRatio: 100, maxTotalDropRatio: 1 },
      logging: { level: 'silent' },
    },
  });
}

async function run(cfg: Config, until: Date, full = false): Promise<JobResult> {
  return runJob({
    config: cfg,
    env: {},
    dryRun: false,
    full,
    until,
    logger: silentLogger(),
    progress: noProgress,
    signal: new AbortController().signal,
  });
}

function text(random: () => number, lang: string): string {
  const words = VOCABULARY[lang]!;
  const count = 1 + Math.floor(random() * 8);
  return Array.from({ length: count }, () => words[Math.floor(random() * words.length)]).join(' ');
}

async function history(seed: number): Promise<void> {
  const random = prng(seed);
  const prefix = `p${seed}`;
  const stateDir = join(dir, `state-${seed}`);
  const source = join(dir, `corpus-${seed}.ndjson`);
  const cfg = config(prefix, stateDir, source);
  const corpus = new Map<string, Doc>();
  const base = Date.UTC(2026, 9, 1);
  const hour = 3_600_000;
  let nextId = 0;
  const pickLive = (): Doc | undefined => {
    const live = [...corpus.values()].filter((d) => d.deletedAt === undefined);
    return live[Math.floor(random() * live.length)];
  };

  for (let k = 1; k <= RUNS; k++) {
    const from = base + (k - 1) * hour;
    const until = base + k * hour;
    // Few distinct instants, so many documents share a timestamp; the window's own start is one.
    const instants = [from, from, from + 1, from + 60_000, from + 60_000, until - 1];
    const at = (): string =>
      new Date(instants[Math.floor(random() * instants.length)]!).toISOString();
    const operations = k === 1 ? 25 + Math.floor(random() * 20) : 4 + Math.floor(random() * 12);
    for (let i = 0; i < operations; i++) {
      const choice = random();
      const doc = pickLive();
      if (k === 1 || choice < 0.35 || doc === undefined) {
        const lang = LANGS[Math.floor(random() * LANGS.length)]!;
        const id = random() < 0.1 && corpus.size > 0 ? [...corpus.keys()][0]! : `d${nextId++}`;
        corpus.set(id, { _id: id, lang, text: text(random, lang), updatedAt: at() });
      } else if (choice < 0.6) {
        corpus.set(doc._id, { ...doc, text: text(random, doc.lang), updatedAt: at() });
      } else if (choice < 0.75) {
        const lang = LANGS[Math.floor(random() * LANGS.length)]!;
        corpus.set(doc._id, { ...doc, lang, text: text(random, lang), updatedAt: at() });
      } else if (choice < 0.9 || k === RUNS) {
        const when = at();
        corpus.set(doc._id, { ...doc, updatedAt: when, deletedAt: when });
      } else {
        // Changed exactly at the window end: belongs to the next window. (Not in the last run:
        // a full recount knows only a document's current version, so it would leave out the
        // version the chain rightly counts as of the window end.)
        corpus.set(doc._id, {
          ...doc,
          text: text(random, doc.lang),
          updatedAt: new Date(until).toISOString(),
        });
      }
    }
    await writeCorpus(source, [...corpus.values()]);
    const lostCommit = k > 1 && random() < 0.25;
    const snapshot = join(dir, `snapshot-${seed}`);
    if (lostCommit) await cp(stateDir, snapshot, { recursive: true });
    const result = await run(cfg, new Date(until));
    expect(result.errors, `seed ${seed} run ${k}`).toEqual([]);
    expect(result.mode).toBe(k === 1 ? 'full' : 'delta');
    if (lostCommit) {
      // The commit never happened: the next run redoes the window over the old state.
      await rm(stateDir, { recursive: true, force: true });
      await cp(snapshot, stateDir, { recursive: true });
      await rm(snapshot, { recursive: true, force: true });
      const again = await run(cfg, new Date(until));
      expect(again.errors, `seed ${seed} run ${k} redone`).toEqual([]);
    }
  }
  const end = new Date(base + RUNS * hour);
  const fullState = join(dir, `full-${seed}`);
  const fullPrefix = `f${seed}`;
  const recount = await run(config(fullPrefix, fullState, source), end, true);
  expect(recount.errors).toEqual([]);
  const recounted = await stateTables(fullState);
  // Texts repeat words, so occurrences differ from document counts and cf is really compared.
  expect(
    Object.values(recounted).some((t) => Object.keys(t.df).some((w) => t.cf[w]! > t.df[w]!)),
    `seed ${seed}: some word occurs twice in a document`,
  ).toBe(true);
  expect(await stateTables(stateDir), `seed ${seed}: document and collection frequencies`).toEqual(
    recounted,
  );
  expect(await liveLists(client, prefix), `seed ${seed}: published lists`).toEqual(
    await liveLists(client, fullPrefix),
  );
  for (const path of [stateDir, fullState, source])
    await rm(path, { recursive: true, force: true });
}

describe('a chain of delta runs equals a full recount', () => {
  it(`for ${SEEDS} random histories of ${RUNS} runs`, async () => {
    // Histories are independent (own state, prefix and corpus); running a few at a time overlaps
    // their waits on fsync and Redis.
    const parallel = 4;
    for (let first = 1; first <= SEEDS; first += parallel) {
      const batch: Promise<void>[] = [];
      for (let seed = first; seed < first + parallel && seed <= SEEDS; seed++)
        batch.push(history(seed));
      await Promise.all(batch);
    }
  }, 900_000);
});

describe('deltas over a full count of two workers', () => {
  it("equal a full recount, the second worker's documents read through its numbering", async () => {
    // Large enough for several of the ranges the workers take (4 MB each), so that both count.
    const random = prng(77);
    const stateDir = join(dir, 'two-workers');
    const source = join(dir, 'two-workers.ndjson');
    const cfg = config('two', stateDir, source, 2);
    const base = Date.UTC(2026, 9, 1);
    const hour = 3_600_000;
    const words = (lang: string): string =>
      Array.from({ length: 120 + Math.floor(random() * 200) }, () =>
        random() < 0.4
          ? VOCABULARY[lang]![Math.floor(random() * VOCABULARY[lang]!.length)]
          : letters(Math.floor(random() ** 2 * 20_000)),
      ).join(' ');
    const corpus = new Map<string, Doc>();
    for (let i = 0; i < 9000; i++) {
      const lang = LANGS[i % LANGS.length]!;
      const id = `d${i}`;
      corpus.set(id, { _id: id, lang, text: words(lang), updatedAt: new Date(base).toISOString() });
    }
    await writeCorpus(source, [...corpus.values()]);
    const first = await run(cfg, new Date(base + hour));
    expect(first.errors).toEqual([]);
    expect(first.mode).toBe('full');
    const numberings = async (): Promise<number[]> => {
      const generation = (await readFile(join(stateDir, 'CURRENT'), 'utf8')).trim();
      const db = new Database(join(stateDir, generation, 'state.sqlite'), { readonly: true });
      try {
        return db
          .prepare('SELECT DISTINCT numbering FROM docs ORDER BY 1')
          .pluck()
          .all() as number[];
      } finally {
        db.close();
      }
    };
    expect(await numberings()).toEqual([0, 1]);

    for (let k = 1; k <= 2; k++) {
      const at = new Date(base + k * hour).toISOString();
      for (const doc of corpus.values()) {
        if (doc.deletedAt !== undefined) continue;
        const choice = random();
        if (choice < 0.04) {
          corpus.set(doc._id, { ...doc, text: words(doc.lang), updatedAt: at });
        } else if (choice < 0.06) {
          const lang = LANGS[(LANGS.indexOf(doc.lang) + 1) % LANGS.length]!;
          corpus.set(doc._id, { ...doc, lang, text: words(lang), updatedAt: at });
        } else if (choice < 0.08) {
          corpus.set(doc._id, { ...doc, updatedAt: at, deletedAt: at });
        } else if (choice < 0.09) {
          // The same version again: counted as unchanged, stored with the dictionary's ids.
          corpus.set(doc._id, { ...doc, updatedAt: at });
        }
      }
      await writeCorpus(source, [...corpus.values()]);
      const delta = await run(cfg, new Date(base + (k + 1) * hour));
      expect(delta.errors, `delta ${k}`).toEqual([]);
      expect(delta.mode).toBe('delta');
      expect(delta.state?.unchanged, `delta ${k}`).toBeGreaterThan(0);
    }
    // Some documents are still in the second worker's numbering, others were rewritten.
    expect(await numberings()).toEqual([0, 1]);
    const fullState = join(dir, 'two-workers-full');
    const recount = await run(
      config('two-full', fullState, source, 2),
      new Date(base + 3 * hour),
      true,
    );
    expect(recount.errors).toEqual([]);
    expect(await stateTables(stateDir)).toEqual(await stateTables(fullState));
    expect(await liveLists(client, 'two')).toEqual(await liveLists(client, 'two-full'));
    for (const path of [stateDir, fullState, source])
      await rm(path, { recursive: true, force: true });
  }, 300_000);
});

describe('a run that read its state and waits for Redis', () => {
  it('holds its state directory: another run on it exits 3 at once, and the first stays exact', async () => {
    const random = prng(91);
    const stateDir = join(dir, 'overtaken');
    const source = join(dir, 'overtaken.ndjson');
    const base = Date.UTC(2026, 10, 1);
    const hour = 3_600_000;
    const corpus = new Map<string, Doc>();
    const at = (k: number): string => new Date(base + k * hour - 1).toISOString();
    for (let i = 0; i < 60; i++) {
      const lang = LANGS[i % LANGS.length]!;
      corpus.set(`d${i}`, { _id: `d${i}`, lang, text: text(random, lang), updatedAt: at(1) });
    }
    // Changes in the second hour, which the other run applies, and in the third.
    for (const k of [2, 3]) {
      for (const doc of [...corpus.values()]) {
        if (random() < 0.3)
          corpus.set(doc._id, { ...doc, text: text(random, doc.lang), updatedAt: at(k) });
      }
      corpus.set(`n${k}`, {
        _id: `n${k}`,
        lang: 'en',
        text: 'the cat and the dog',
        updatedAt: at(k),
      });
    }
    await writeCorpus(source, [...corpus.values()]);
    const cfg = config('overtaken', stateDir, source);
    expect((await run(cfg, new Date(base + hour))).errors).toEqual([]);

    // This run's Redis connection is held at a proxy: it reads its state, then waits there.
    let open = (): void => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let reached = false;
    const sockets: Socket[] = [];
    const proxy = createServer((socket) => {
      reached = true;
      sockets.push(socket);
      void gate.then(() => {
        const upstream = connect(redis.port, '127.0.0.1');
        sockets.push(upstream);
        socket.pipe(upstream);
        upstream.pipe(socket);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as AddressInfo).port;
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    try {
      const waiting = runJob({
        config: { ...cfg, redis: { ...cfg.redis, url: `redis://127.0.0.1:${port}` } },
        env: {},
        dryRun: false,
        full: false,
        until: new Date(base + 3 * hour),
        logger,
        progress: noProgress,
        signal: new AbortController().signal,
      });
      while (!reached) await new Promise((resolve) => setTimeout(resolve, 10));
      // Its plan (a delta from the first hour's checkpoint) is made by now: the state is tiny.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const tablesBefore = await stateTables(stateDir);
      const versionBefore = await client.hGet('overtaken:meta', 'version');
      expect(versionBefore).not.toBeNull();
      // Meanwhile another run on the same state directory, with Redis free to it, gives up.
      const other = await run(cfg, new Date(base + 2 * hour));
      expect(other.exitCode).toBe(3);
      expect(other.published).toBe(false);
      expect(other.errors.join(' ')).toMatch(
        /^another run holds the lock of the state directory .*overtaken: run [^ ]+ on .* \(pid \d+\) since .*; this run did nothing$/,
      );
      expect(await stateTables(stateDir)).toEqual(tablesBefore);
      expect(await client.hGet('overtaken:meta', 'version')).toBe(versionBefore);
      expect(await client.exists('overtaken:lock')).toBe(0);
      open();
      const result = await waiting;
      expect(result.errors).toEqual([]);
      expect(result.mode).toBe('delta');
      expect(result.window.from).toBe(new Date(base + hour).toISOString());
      expect(lines.join('')).not.toContain('reading the state again');
    } finally {
      open();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
    const fullState = join(dir, 'overtaken-full');
    const recount = await run(
      config('overtaken-full', fullState, source),
      new Date(base + 3 * hour),
      true,
    );
    expect(recount.errors).toEqual([]);
    expect(await stateTables(stateDir)).toEqual(await stateTables(fullState));
    for (const path of [stateDir, fullState, source])
      await rm(path, { recursive: true, force: true });
  }, 60_000);
});
