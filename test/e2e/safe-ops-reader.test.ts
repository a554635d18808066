/**
 * What consumers rely on while versions move both ways: a reader that takes the meta and every
 * list in one MULTI sees one whole version each time, across publishes, in-process rollbacks and
 * rollbacks by the built CLI.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPublisher } from '../../src/publish/redis-publisher.js';
import type { WordList } from '../../src/publish/types.js';
import { runCli } from '../support/cli.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

const LANGUAGES = ['en', 'de', 'fr', 'es'] as const;
const PUBLISHES = 36;
const ROLLBACKS = 18;
/** Every CLI_EVERY-th rollback goes through the built CLI, the others through the publisher. */
const CLI_EVERY = 3;

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

/** Version n's lists: every word carries n, and the language set varies with n. */
function generation(n: number): Map<string, WordList> {
  const sizes: [string, number][] = [['en', 300 + n]];
  sizes.push(n % 2 === 0 ? ['de', 80] : ['fr', 60]);
  if (n % 3 === 0) sizes.push(['es', 20]);
  return new Map(
    sizes.map(([lang, size]) => {
      const list: WordList = new Map();
      for (let k = 0; k < size; k++) list.set(`g${n}-${lang}-${k}`, ((k % 10) / 10).toFixed(4));
      return [lang, list];
    }),
  );
}

/** A fixed, varied sequence of swaps: mostly publishes, with rollbacks to older versions mixed in. */
function plan(): Array<{ kind: 'publish' } | { kind: 'rollback'; to: number; viaCli: boolean }> {
  const steps: Array<{ kind: 'publish' } | { kind: 'rollback'; to: number; viaCli: boolean }> = [];
  let published = 0;
  let rollbacks = 0;
  while (published < PUBLISHES || rollbacks < ROLLBACKS) {
    if (
      published < 3 ||
      rollbacks >= ROLLBACKS ||
      (published < PUBLISHES && steps.length % 3 !== 2)
    ) {
      steps.push({ kind: 'publish' });
      published++;
    } else {
      const to = 1 + ((rollbacks * 7) % published);
      steps.push({ kind: 'rollback', to, viaCli: rollbacks % CLI_EVERY === 0 });
      rollbacks++;
    }
  }
  return steps;
}

describe('a concurrent reader', () => {
  it(`sees only whole versions across ${PUBLISHES} publishes and ${ROLLBACKS} rollbacks`, async () => {
    const prefix = `{rd-${randomBytes(4).toString('hex')}}`;
    const publisher = await RedisPublisher.connect({
      url: redis.url,
      keyPrefix: prefix,
      keepVersions: 100,
      connectTimeoutSeconds: 1,
      stagingTtlSeconds: 600,
    });
    const reader = createClient({ url: redis.url, RESP: 2 });
    reader.on('error', () => {});
    await reader.connect();

    let stop = false;
    let reads = 0;
    const observed = new Set<number>();
    const problems: string[] = [];
    const readLoop = (async () => {
      while (!stop) {
        const [meta, ...lists] = (await reader
          .multi()
          .hGetAll(`${prefix}:meta`)
          .hGetAll(`${prefix}:en`)
          .hGetAll(`${prefix}:de`)
          .hGetAll(`${prefix}:fr`)
          .hGetAll(`${prefix}:es`)
          .exec()) as unknown as Array<Record<string, string>>;
        if (meta?.version === undefined) continue;
        reads++;
        const version = Number(meta.version);
        observed.add(version);
        const languages = JSON.parse(meta.languages ?? '[]') as string[];
        const counts = JSON.parse(meta.counts ?? '{}') as Record<string, number>;
        LANGUAGES.forEach((lang, i) => {
          const words = Object.keys(lists[i] ?? {});
          if (!languages.includes(lang)) {
            if (words.length > 0) problems.push(`v${version}: ${lang} live but not in meta`);
            return;
          }
          if (words.length !== counts[lang]) {
            problems.push(
              `v${version}: ${lang} has ${words.length} words, meta says ${counts[lang]}`,
            );
          }
          const strangers = words.filter((w) => !w.startsWith(`g${version}-${lang}-`));
          if (strangers.length > 0) {
            problems.push(`v${version}: ${lang} holds words of another version (${strangers[0]})`);
          }
        });
        const expected = [...generation(version).keys()].sort();
        if (JSON.stringify(languages) !== JSON.stringify(expected)) {
          problems.push(`v${version}: meta languages ${languages} but the version has ${expected}`);
        }
      }
    })();

    let published = 0;
    let viaCli = 0;
    try {
      for (const step of plan()) {
        if (step.kind === 'publish') {
          published++;
          const swapped = await publisher.publish({
            runId: `run-${published}`,
            lists: generation(published),
            analyzerVersion: 'test',
            publishedAt: new Date(),
          });
          // A fresh prefix numbers versions 1, 2, …: the words of version n carry n.
          expect(swapped.version).toBe(published);
        } else if (step.viaCli) {
          viaCli++;
          const run = await runCli(['rollback', '--to', String(step.to), '--redis', redis.url], {
            env: {
              STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
              // As deep as the publisher's, or the CLI's swap would trim what later steps roll back to.
              STOPWORD_REFRESH_REDIS_KEEP_VERSIONS: '100',
              STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
            },
          });
          expect(run.code, run.stderr).toBe(0);
          expect(run.json?.version).toBe(step.to);
        } else {
          const lock = await publisher.acquireLock({ runId: `rollback-${step.to}` });
          try {
            const swapped = await publisher.rollback({
              runId: `rb-${randomBytes(3).toString('hex')}`,
              to: step.to,
            });
            expect(swapped.version).toBe(step.to);
          } finally {
            await lock.release();
          }
        }
      }
    } finally {
      stop = true;
      await readLoop;
      await reader.close();
      await publisher.close();
    }

    expect(problems).toEqual([]);
    expect(published).toBe(PUBLISHES);
    expect(viaCli).toBeGreaterThanOrEqual(5);
    expect(reads).toBeGreaterThan(200);
    expect(observed.size).toBeGreaterThanOrEqual(20);
  }, 240_000);
});
