/**
 * Exactness of incremental runs: random histories of inserts, text updates, language changes,
 * tombstones, re-deliveries (a run whose commit was lost, redone) and equal timestamps, applied
 * as a chain of delta runs, must leave exactly the document frequencies, collection frequencies
 * (occurrences, which the ranking uses) and lists of a full recount of the final corpus. Runs the real pipeline (the built job, piscina, SQLite state, a
 * real redis-server) in this process.
 */
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import type { JobResult } from '../../src/job/result.js';
import { prng, writeCorpus } from '../support/corpus.js';
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

function config(prefix: string, stateDir: string, source: string): Config {
  return loadConfig({
    file: null,
    env: {},
    overrides: {
      source: { uri: `file:${source}`, safetyLagSeconds: 0 },
      redis: { url: redis.url, keyPrefix: prefix },
      state: { dir: stateDir },
      analysis: {
        workers: 1,
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
