/**
 * The state directory's lock: one holder at a time, in this process or another; the holder
 * named to whoever finds it held; and no stale lock after its holder is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateLock, StateLockError, StateLockHeldError } from '../../src/state/state-lock.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'state-lock-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const owner = (runId: string) => ({
  runId,
  host: 'host-a',
  pid: 4242,
  now: () => new Date('2026-11-30T02:00:00.000Z'),
});

/** A process that takes the lock of `at` as SQLite does and holds it until killed. */
function holdInChild(at: string): Promise<ChildProcess> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Database = require(${JSON.stringify(driver)});
    const db = new Database(${JSON.stringify(join(at, 'run.lock'))}, { timeout: 0 });
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the holder exited (${code})`)));
    child.stdout?.once('data', () => resolve(child));
  });
}

describe('StateLock', () => {
  it('has one holder at a time, names it, and is free again once released', async () => {
    const at = await mkdtemp(join(dir, 'one-'));
    const first = StateLock.acquire(at, owner('run-1'));
    expect(first.held).toBe(true);
    let refused: unknown;
    try {
      StateLock.acquire(at, owner('run-2'));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(StateLockHeldError);
    expect((refused as StateLockHeldError).holder).toEqual({
      runId: 'run-1',
      host: 'host-a',
      pid: 4242,
      acquiredAt: '2026-11-30T02:00:00.000Z',
    });
    expect((refused as Error).message).toBe(
      `another run holds the lock of the state directory ${at}: run run-1 on host-a (pid 4242) since 2026-11-30T02:00:00.000Z`,
    );
    first.release();
    first.release();
    expect(first.held).toBe(false);
    // Nothing is left beside the lock file: no journal, no holder.
    expect(await readdir(at)).toEqual(['run.lock']);
    const second = StateLock.acquire(at, owner('run-2'));
    expect(JSON.parse(await readFile(join(at, 'run.lock.json'), 'utf8')).runId).toBe('run-2');
    second.release();
  });

  it('is refused while another process holds it, and free once that process is killed', async () => {
    const at = await mkdtemp(join(dir, 'child-'));
    const child = await holdInChild(at);
    try {
      // The child wrote no holder file: the message says so rather than guess.
      expect(() => StateLock.acquire(at, owner('run-3'))).toThrow(
        `another run holds the lock of the state directory ${at}: another process`,
      );
    } finally {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    // The kernel dropped the dead holder's lock: no stale lock to clear by hand.
    const lock = StateLock.acquire(at, owner('run-4'));
    expect(lock.held).toBe(true);
    lock.release();
  });

  it('releases without throwing when its holder file cannot be removed', async () => {
    const at = await mkdtemp(join(dir, 'stuck-'));
    const lock = StateLock.acquire(at, owner('run-6'));
    // A directory where the holder file was: removing it as a file fails.
    await rm(join(at, 'run.lock.json'));
    await mkdir(join(at, 'run.lock.json'));
    expect(() => lock.release()).not.toThrow();
    expect(lock.held).toBe(false);
    const next = StateLock.acquire(at, owner('run-7'));
    next.release();
  });

  it('fails with a clear error when the directory cannot hold the lock file', () => {
    expect(() => StateLock.acquire(join(dir, 'missing', 'deeper'), owner('run-5'))).toThrow(
      StateLockError,
    );
    expect(() => StateLock.acquire(join(dir, 'missing', 'deeper'), owner('run-5'))).toThrow(
      /cannot open the lock file of the state directory .*missing\/deeper/,
    );
  });
});
