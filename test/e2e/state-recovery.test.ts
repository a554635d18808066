/**
 * A state that is missing, damaged or built differently never gives a wrong answer: the run
 * recounts in full and says why, or (for a damaged checkpoint, by default) stops with a clear error.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';
import { damageTableRoot } from '../support/sqlite-damage.js';

let redis: RedisServer;
let dir: string;
let corpus: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'swr-recovery-'));
  corpus = join(dir, 'corpus.ndjson');
  await writeCorpus(corpus, makeCorpus({ seed: 31, perLanguage: 30 }));
});

afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function env(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
    ...extra,
  };
}

async function databaseOf(stateDir: string): Promise<string> {
  const generation = (await readdir(stateDir)).find((name) => name.startsWith('gen-'));
  if (generation === undefined) throw new Error('no generation');
  return join(stateDir, generation, 'state.sqlite');
}

async function freshState(name: string): Promise<{ stateDir: string; args: string[] }> {
  const stateDir = join(dir, name);
  const args = ['run', '--source', `file:${corpus}`, '--redis', redis.url, '--state-dir', stateDir];
  const first = await runCli(args, { env: env(name) });
  expect(first.code, first.stderr).toBe(0);
  expect(first.json).toMatchObject({ mode: 'full', modeReason: 'noState' });
  const second = await runCli(args, { env: env(name) });
  expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
  expect(second.json).toMatchObject({ mode: 'delta' });
  return { stateDir, args };
}

describe('state recovery', () => {
  it('an unreadable state means a full recount, reported as such', async () => {
    const { stateDir, args } = await freshState('garbled');
    await writeFile(await databaseOf(stateDir), 'this is not a database');
    const run = await runCli(args, { env: env('garbled') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ success: true, mode: 'full', modeReason: 'stateUnreadable' });
    expect(String(run.json?.warnings)).toMatch(/is unreadable: .*; recounting in full/);
    const next = await runCli(args, { env: env('garbled') });
    expect(next.json).toMatchObject({ success: true, mode: 'delta' });
  });

  it('state.integrityCheckHours skips the check after a sound one; by default every run checks', async () => {
    const { stateDir, args } = await freshState('weekly');
    // The delta of freshState checked the database and recorded it sound. Its documents' root
    // page turns to noise: no run reads it (nothing changed), only SQLite's check would see it.
    const path = await databaseOf(stateDir);
    await damageTableRoot(path, 'docs');

    const weekly = env('weekly', { STOPWORD_REFRESH_STATE_INTEGRITY_CHECK_HOURS: '168' });
    const skipped = await runCli(args, { env: weekly });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.json).toMatchObject({ success: true, mode: 'delta' });
    expect(skipped.stderr).toContain(
      'integrity check skipped: the state was known sound within state.integrityCheckHours',
    );
    const checked = await runCli(args, { env: env('weekly') });
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.json).toMatchObject({
      success: true,
      mode: 'full',
      modeReason: 'stateUnreadable',
    });
    expect(String(checked.json?.warnings)).toMatch(/quick_check: \*\*\* in database main/);
  });

  it('a delta whose state fails the check while its changes wait recounts in full, keeping nothing of the delta', async () => {
    const { stateDir, args } = await freshState('checklate');
    await damageTableRoot(await databaseOf(stateDir), 'docs');
    // One document changed since: the delta finds it while the check, on a thread of its own,
    // still runs; it is applied only once the check has passed, which it does not.
    const docs = makeCorpus({ seed: 31, perLanguage: 30 });
    docs[0] = { ...docs[0]!, text: 'the of and to in is that for qnewer.', updatedAt: new Date() };
    const changed = join(dir, 'corpus-checklate.ndjson');
    await writeCorpus(changed, docs);
    const changedArgs = args.map((arg) => (arg === `file:${corpus}` ? `file:${changed}` : arg));
    const now = env('checklate', { STOPWORD_REFRESH_SOURCE_SAFETY_LAG_SECONDS: '0' });
    const run = await runCli(changedArgs, { env: now });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      success: true,
      mode: 'full',
      modeReason: 'stateUnreadable',
      documentsProcessed: 90,
      window: { from: null },
    });
    expect(String(run.json?.warnings)).toMatch(
      /quick_check: \*\*\* in database main[\s\S]*; recounting in full/,
    );
    // It planned the delta first, and turned to the full count when the check failed.
    const logged = run.stderr.split('\n');
    const planned = logged.findIndex((line) => /"mode":"delta".*window fixed/.test(line));
    const failed = logged.findIndex((line) =>
      line.includes('state failed its integrity check; recounting in full'),
    );
    expect(planned).toBeGreaterThanOrEqual(0);
    expect(failed).toBeGreaterThan(planned);
    const next = await runCli(changedArgs, { env: now });
    expect(next.code, next.stderr).toBe(0);
    expect(next.json).toMatchObject({ success: true, mode: 'delta', documentsProcessed: 0 });
  });

  it('a state of an older schema means a full recount, reported as such', async () => {
    const { stateDir, args } = await freshState('oldschema');
    const db = new Database(await databaseOf(stateDir));
    // An older version's state is never reused, however little differs: a recount.
    db.prepare("UPDATE meta SET value = '3' WHERE key = 'schemaVersion'").run();
    db.close();
    const run = await runCli(args, { env: env('oldschema') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ success: true, mode: 'full', modeReason: 'schemaChanged' });
    expect(String(run.json?.warnings)).toMatch(
      /has schema version 3; this version reads 5; recounting in full/,
    );
    const next = await runCli(args, { env: env('oldschema') });
    expect(next.json).toMatchObject({ success: true, mode: 'delta' });
  });

  it('a damaged or missing term dictionary means a full recount, reported as such', async () => {
    const { stateDir, args } = await freshState('dictionary');
    const generation = dirname(await databaseOf(stateDir));
    const dictionary = (await readdir(generation)).find((name) => name.startsWith('dictionary-'));
    if (dictionary === undefined) throw new Error('no dictionary file');
    const bytes = await readFile(join(generation, dictionary));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(join(generation, dictionary), bytes);
    const run = await runCli(args, { env: env('dictionary') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ success: true, mode: 'full', modeReason: 'stateUnreadable' });
    expect(String(run.json?.warnings)).toMatch(/dictionary-.*\.bin is damaged: checksum mismatch/);

    const regenerated = dirname(await databaseOf(stateDir));
    for (const name of await readdir(regenerated)) {
      if (name.startsWith('dictionary-')) await rm(join(regenerated, name));
    }
    const missing = await runCli(args, { env: env('dictionary') });
    expect(missing.json).toMatchObject({
      success: true,
      mode: 'full',
      modeReason: 'stateUnreadable',
    });
    expect(String(missing.json?.warnings)).toMatch(/dictionary-.*\.bin cannot be read: ENOENT/);
    const next = await runCli(args, { env: env('dictionary') });
    expect(next.json).toMatchObject({ success: true, mode: 'delta' });
  });

  it('a damaged checkpoint stops the run with a clear error, or recounts when configured', async () => {
    const { stateDir, args } = await freshState('badcheckpoint');
    const db = new Database(await databaseOf(stateDir));
    db.prepare("UPDATE meta SET value = '{not json' WHERE key = 'checkpoint'").run();
    db.close();

    const refused = await runCli(args, { env: env('badcheckpoint') });
    expect(refused.code).toBe(1);
    expect(String(refused.json?.errors)).toMatch(
      /checkpoint in the state is not valid JSON.*--full.*onCorruptCheckpoint: recount/,
    );

    const recounted = await runCli(args, {
      env: env('badcheckpoint', { STOPWORD_REFRESH_STATE_ON_CORRUPT_CHECKPOINT: 'recount' }),
    });
    expect(recounted.code, recounted.stderr).toBe(0);
    expect(recounted.json).toMatchObject({ mode: 'full', modeReason: 'checkpointCorrupt' });
  });

  it('counts built for other text fields are not reused', async () => {
    const { args } = await freshState('fields');
    const run = await runCli(args, {
      env: env('fields', { STOPWORD_REFRESH_SOURCE_FIELDS_TEXT: 'text,title' }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', modeReason: 'analyzerChanged' });
  });

  it('--full recounts on request, and --until before the checkpoint is refused', async () => {
    const { args } = await freshState('requested');
    const full = await runCli([...args, '--full'], { env: env('requested') });
    expect(full.json).toMatchObject({ success: true, mode: 'full', modeReason: 'requested' });
    const early = await runCli([...args, '--until', '2020-01-01T00:00:00Z'], {
      env: env('requested'),
    });
    expect(early.code).toBe(2);
    expect(String(early.json?.errors)).toMatch(/before the checkpoint/);
  });
});
