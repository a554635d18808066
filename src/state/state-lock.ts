/**
 * The state directory's lock, `run.lock`: one run at a time reads and writes a state directory.
 *
 * The run lock in Redis (`P:lock`) keeps two runs from publishing at once across hosts, but a run
 * learns whether it holds it only once it has connected. A run reads its state while it
 * connects, and the integrity check reads the whole database: a run that did so while another
 * run wrote the same state would hold up that run's writes (SQLite's readers and writers exclude
 * each other) and read a state about to change. So a run takes this lock first, before it reads
 * anything, and a second run on the same directory gives up at once.
 *
 * The lock is an exclusive SQLite transaction on an empty database file: SQLite takes it with
 * POSIX advisory locks, which the kernel drops when the process ends however it ends, so a run
 * that crashes or is killed leaves no stale lock behind. Who holds it is written beside it
 * (`run.lock.json`), for the message of a run that finds it held.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const LOCK_FILE = 'run.lock';
const HOLDER_FILE = 'run.lock.json';

/** What `run.lock.json` says about the run holding the lock. */
export interface StateLockHolder {
  runId: string;
  host: string;
  pid: number;
  /** ISO 8601. */
  acquiredAt: string;
}

/** Another run holds the state directory's lock. */
export class StateLockHeldError extends Error {
  override name = 'StateLockHeldError';
  constructor(
    readonly dir: string,
    /** Null when `run.lock.json` is missing or unreadable. */
    readonly holder: StateLockHolder | null,
  ) {
    const who =
      holder === null
        ? 'another process'
        : `run ${holder.runId} on ${holder.host} (pid ${holder.pid}) since ${holder.acquiredAt}`;
    super(`another run holds the lock of the state directory ${dir}: ${who}`);
  }
}

/** The lock could not be taken for another reason than another run holding it. */
export class StateLockError extends Error {
  override name = 'StateLockError';
}

function readHolder(dir: string): StateLockHolder | null {
  try {
    const value = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as StateLockHolder;
    return typeof value?.runId === 'string' &&
      typeof value.host === 'string' &&
      Number.isSafeInteger(value.pid) &&
      typeof value.acquiredAt === 'string'
      ? value
      : null;
  } catch {
    return null;
  }
}

export class StateLock {
  private constructor(
    private db: Database.Database | null,
    private readonly dir: string,
  ) {}

  /**
   * Takes the lock of `dir` (which must exist) without waiting, or throws StateLockHeldError
   * naming the holder.
   */
  static acquire(
    dir: string,
    owner: { runId: string; host?: string; pid?: number; now?: () => Date },
  ): StateLock {
    let db: Database.Database;
    try {
      db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
    } catch (error) {
      throw new StateLockError(
        `cannot open the lock file of the state directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
    try {
      // Nothing is ever written to the lock's database: no journal file to leave behind.
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StateLockHeldError(dir, readHolder(dir));
      }
      throw new StateLockError(
        `cannot lock the state directory ${dir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const holder: StateLockHolder = {
      runId: owner.runId,
      host: owner.host ?? hostname(),
      pid: owner.pid ?? process.pid,
      acquiredAt: (owner.now?.() ?? new Date()).toISOString(),
    };
    try {
      // Informational only (the lock is the transaction): not synced, and a failure to write it
      // costs nothing but a vaguer message for a run that finds the lock held.
      writeFileSync(join(dir, HOLDER_FILE), `${JSON.stringify(holder)}\n`);
    } catch {
      // A holder file left by an earlier run would name the wrong run.
      try {
        rmSync(join(dir, HOLDER_FILE), { force: true });
      } catch {}
    }
    return new StateLock(db, dir);
  }

  get held(): boolean {
    return this.db !== null;
  }

  /** Releases the lock; a second call does nothing. Never throws: the run is ending. */
  release(): void {
    const db = this.db;
    if (db === null) return;
    this.db = null;
    try {
      rmSync(join(this.dir, HOLDER_FILE), { force: true });
    } catch {
      // A holder file left behind names this run until the next run rewrites it.
    }
    try {
      db.close();
    } catch {
      // The process's end drops the lock in any case.
    }
  }
}
