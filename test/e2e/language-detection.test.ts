/**
 * analysis.detectLanguage: documents without a usable language field are filed under the
 * language their text shows, instead of `und`; with detection off they stay under `und`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { liveLists, stateTables } from '../support/state.js';

let redis: RedisServer;
let dir: string;
let corpus: string;
let original: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'swr-detect-'));
  // Real French and German paragraphs from the sample corpus (Debian man pages); a third of
  // them lose their language field, some of those get a malformed one instead.
  const sample = (await readFile(join(ROOT, 'bench/sample/corpus.ndjson'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((d) => (d['lang'] === 'fr' || d['lang'] === 'de') && typeof d['text'] === 'string')
    .filter((d) => (d['text'] as string).length > 200 && d['deletedAt'] === undefined);
  const docs = sample.slice(0, 240).map((d, i) => {
    if (i % 3 !== 0) return d;
    const { lang: _lang, ...rest } = d;
    return i % 2 === 0 ? rest : { ...rest, lang: 'not a language!' };
  });
  corpus = join(dir, 'corpus.ndjson');
  await writeCorpus(corpus, docs);
  original = join(dir, 'original.ndjson');
  await writeCorpus(original, sample.slice(0, 240));
});

afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function run(name: string, detect: 'on' | 'off', file = corpus) {
  const stateDir = join(dir, name);
  const result = await runCli(
    ['run', '--source', `file:${file}`, '--redis', redis.url, '--state-dir', stateDir],
    {
      env: {
        STOPWORD_REFRESH_REDIS_KEY_PREFIX: name,
        STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '20',
        STOPWORD_REFRESH_ANALYSIS_DETECT_LANGUAGE: detect,
      },
    },
  );
  expect(result.code, result.stderr).toBe(0);
  return { result, tables: await stateTables(stateDir) };
}

describe('language detection', () => {
  it('files documents without a usable language under the language of their text', async () => {
    const off = await run('off', 'off');
    const on = await run('on', 'on');
    const offDocs = off.result.json?.['documents'] as Record<string, unknown>;
    const onDocs = on.result.json?.['documents'] as Record<string, unknown>;
    const missing = (offDocs['bad'] as Record<string, number>)['missingLanguage'] ?? 0;
    const invalid = (offDocs['bad'] as Record<string, number>)['invalidLanguage'] ?? 0;
    expect(missing + invalid).toBe(80);
    expect(off.tables['und']?.n).toBe(80);
    expect(offDocs['languagesDetected']).toBeUndefined();

    // Every one of them is real French or German prose: all are detected, none is left in und.
    expect(onDocs['languagesDetected']).toBe(80);
    expect(on.tables['und']).toBeUndefined();
    const n = (tables: typeof on.tables, lang: string) => tables[lang]?.n ?? 0;
    expect(n(on.tables, 'fr') + n(on.tables, 'de')).toBe(240);
    // …each under the language it was written in: the counts equal those of the original.
    const truth = await run('truth', 'off', original);
    expect(n(on.tables, 'fr')).toBe(n(truth.tables, 'fr'));
    expect(on.tables).toEqual(truth.tables);
    // The reasons stay reported: the field was still missing or malformed.
    expect(onDocs['bad']).toEqual(offDocs['bad']);
  });

  it('publishes a configured variant as a list of its own', async () => {
    const docs = makeCorpus({ seed: 12, perLanguage: 60, languages: ['fr'] }).map((d, i) => ({
      ...d,
      lang: i % 2 === 0 ? 'fr-CA' : 'fr-FR',
    }));
    const file = join(dir, 'variants.ndjson');
    await writeCorpus(file, docs);
    const stateDir = join(dir, 'variants');
    const result = await runCli(
      ['run', '--source', `file:${file}`, '--redis', redis.url, '--state-dir', stateDir],
      {
        env: {
          STOPWORD_REFRESH_REDIS_KEY_PREFIX: 'variants',
          STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '20',
          STOPWORD_REFRESH_ANALYSIS_LANGUAGE_VARIANTS: 'fr-CA',
        },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    const tables = await stateTables(stateDir);
    expect(Object.keys(tables).sort()).toEqual(['fr', 'fr-CA']);
    expect(tables['fr-CA']?.n).toBe(30);
    const client: ReturnType<typeof createClient> = createClient({ url: redis.url });
    await client.connect();
    try {
      const lists = await liveLists(client, 'variants');
      expect(Object.keys(lists).sort()).toEqual(['fr', 'fr-CA']);
      expect(Object.keys(lists['fr-CA'] ?? {})).toContain('les');
    } finally {
      await client.quit();
    }
  });
});
