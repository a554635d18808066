/**
 * The run lock `P:lock` (DESIGN §6): one run (or rollback) at a time, across hosts.
 *
 * Taken with SET NX PX under a value that carries a random token and says who holds it; renewed by
 * a timer while the owner lives; released by compare-and-delete. A run that crashes stops renewing,
 * so its lock expires within the TTL and the next night's run is not blocked for good.
 *
 * The lock alone does not make a stale owner harmless (a process paused for longer than the TTL
 * wakes up believing it still holds it): the swap's fencing token covers that. What the lock adds
 * is that a second run gives up at once instead of doing an hour of work to be refused at the end,
 * and that an owner learns, through `signal`, that it lost the lock and must not publish.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisConnection } from './connection.js';
import { InvalidPublishInputError, PublisherError, RedisCommandError } from './errors.js';
import { assertRunId, type PublishKeys } from './keys.js';
import { RELEASE_LOCK_SCRIPT, RENEW_LOCK_SCRIPT } from './lock-scripts.js';

/**
 * Long enough that a few missed renewals (a slow Redis, a long GC pause) do not cost a healthy run
 * its lock; short enough that a crashed run blocks a rerun by on-call for two minutes at most.
 */
export const DEFAULT_LOCK_TTL_SECONDS = 120;
/** A failed renewal is retried this soon (or sooner, when the TTL is about to run out). */
const RENEW_RETRY_MS = 2_000;
/** SET NX and the GET that names the holder are two steps; the lock may change hands in between. */
const ACQUIRE_ATTEMPTS = 3;

/** What `P:lock` holds, as a JSON string. */
export interface LockHolder {
  /** Random; only the owner knows it, so only the owner can renew or release. */
  token: string;
  runId: string;
  host: string;
  pid: number;
  /** ISO 8601. */
  acquiredAt: string;
}

export interface LockInfo {
  /** `null` when `P:lock` holds something this program did not write. */
  holder: LockHolder | null;
  /** Until the lock expires unless renewed; `null` when it has no TTL (set by hand). */
  ttlMs: number | null;
}

export interface RunLockOptions {
  /** Shown to whoever finds the lock held. */
  runId: string;
  /** Default `DEFAULT_LOCK_TTL_SECONDS`. */
  ttlSeconds?: number;
  /** Default a third of the TTL, so two renewals in a row may fail before the lock is at risk. */
  renewIntervalMs?: number;
  /** Called once, when renewal finds the lock gone or someone else's, or cannot reach Redis within the TTL. */
  onLost?: (error: LockLostError) => void;
  /** Defaults: this machine's host name and process id, the current time. */
  host?: string;
  pid?: number;
  now?: () => Date;
}

/** Another run holds the lock; this one must not start. */
export class LockHeldError extends PublisherError {
  readonly code = 'LOCK_HELD';
  constructor(
    readonly lockKey: string,
    readonly info: LockInfo,
  ) {
    super(describeHeld(lockKey, info));
  }
}

/** The lock expired or was taken by another run while this one believed it held it. */
export class LockLostError extends PublisherError {
  readonly code = 'LOCK_LOST';
}

export function lockKey(keys: PublishKeys): string {
  return `${keys.prefix}:lock`;
}

/** Takes the lock and starts renewing it, or fails with `LockHeldError` naming the holder. */
export async function acquireRunLock(
  conn: RedisConnection,
  keys: PublishKeys,
  options: RunLockOptions,
): Promise<RunLock> {
  assertRunId(options.runId);
  const ttlMs = lockTtlMs(options.ttlSeconds ?? DEFAULT_LOCK_TTL_SECONDS);
  const intervalMs = options.renewIntervalMs ?? Math.max(1, Math.floor(ttlMs / 3));
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs >= ttlMs) {
    throw new InvalidPublishInputError(
      `lock renewal interval must be a whole number of milliseconds below the TTL (${ttlMs} ms), got ${intervalMs}`,
    );
  }
  const now = options.now ?? (() => new Date());
  const holder: LockHolder = {
    token: randomBytes(16).toString('hex'),
    runId: options.runId,
    host: options.host ?? hostname(),
    pid: options.pid ?? process.pid,
    acquiredAt: now().toISOString(),
  };
  const value = JSON.stringify(holder);
  const key = lockKey(keys);
  for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt += 1) {
    const sentAt = performance.now();
    const reply = await conn.command(['SET', key, value, 'NX', 'PX', String(ttlMs)]);
    if (reply === 'OK') {
      return new RunLock(conn, key, holder, value, ttlMs, intervalMs, sentAt, options.onLost);
    }
    const info = await readLock(conn, keys);
    if (info !== null) throw new LockHeldError(key, info);
  }
  throw new LockHeldError(key, { holder: null, ttlMs: null });
}

/** Who holds the lock now, or `null` when nobody does. */
export async function readLock(conn: RedisConnection, keys: PublishKeys): Promise<LockInfo | null> {
  const key = lockKey(keys);
  const [value, pttl] = await conn.pipeline([
    ['GET', key],
    ['PTTL', key],
  ]);
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || typeof pttl !== 'number') {
    throw new RedisCommandError(`unexpected reply reading ${key}`);
  }
  // -1: no TTL; -2: expired between the GET and the PTTL.
  return { holder: parseHolder(value), ttlMs: pttl === -1 ? null : Math.max(0, pttl) };
}

/**
 * A held run lock. Renews itself every `renewIntervalMs` until `release()`; when a renewal finds
 * the lock lost, `signal` aborts with a `LockLostError` (and `onLost` is called) so the owner stops
 * before publishing. Renewal timers are unref'd: a forgotten lock never keeps the process alive.
 */
export class RunLock {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  /** @internal use `acquireRunLock` or `RedisPublisher.acquireLock`. */
  constructor(
    private readonly conn: RedisConnection,
    readonly key: string,
    readonly holder: LockHolder,
    private readonly value: string,
    readonly ttlMs: number,
    readonly renewIntervalMs: number,
    /** performance.now() when the TTL was last set: the lock is surely held until then + TTL. */
    private confirmedAt: number,
    private readonly onLost: ((error: LockLostError) => void) | undefined,
  ) {
    this.schedule(renewIntervalMs);
  }

  /** Aborted, with a `LockLostError` as its reason, once the lock is known to be lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.controller.signal.aborted;
  }

  get token(): string {
    return this.holder.token;
  }

  /**
   * Resets the TTL now. Throws `LockLostError` (and signals the loss) when the lock is no longer
   * this owner's; a Redis failure is thrown as it is and does not by itself mean the lock is lost.
   */
  async renew(): Promise<void> {
    if (this.released) throw new LockLostError(`the run lock ${this.key} was released`);
    if (this.lost) throw this.controller.signal.reason as LockLostError;
    const sentAt = performance.now();
    const reply = await this.conn.command([
      'EVAL',
      RENEW_LOCK_SCRIPT,
      '1',
      this.key,
      this.value,
      String(this.ttlMs),
    ]);
    if (reply === 1) {
      this.confirmedAt = sentAt;
      return;
    }
    if (reply !== 0) throw new RedisCommandError(`unexpected reply renewing ${this.key}`);
    const error = new LockLostError(
      `the run lock ${this.key} of run ${this.holder.runId} expired or was taken by another run`,
    );
    this.markLost(error);
    throw error;
  }

  /**
   * Checks with Redis that the lock is still this owner's; meant for the moment just before the
   * swap. Throws `LockLostError` when it is not.
   */
  async assertHeld(): Promise<void> {
    await this.renew();
  }

  /**
   * Stops renewing and deletes the lock if it is still this owner's. Returns whether it was.
   * Idempotent (later calls return false). If Redis cannot be reached the error is thrown; the lock
   * then expires by its TTL.
   */
  async release(): Promise<boolean> {
    if (this.released) return false;
    this.released = true;
    clearTimeout(this.timer);
    const reply = await this.conn.command(['EVAL', RELEASE_LOCK_SCRIPT, '1', this.key, this.value]);
    return reply === 1;
  }

  private schedule(delayMs: number): void {
    if (this.released || this.lost) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.renew();
      this.schedule(this.renewIntervalMs);
    } catch (error) {
      if (this.released || this.lost) return;
      // Redis did not answer: the lock may still be ours until the TTL from the last confirmed
      // renewal runs out; past that, another run may have taken it.
      const leftMs = this.ttlMs - (performance.now() - this.confirmedAt);
      if (leftMs <= 0) {
        const reason = error instanceof Error ? error.message : String(error);
        this.markLost(
          new LockLostError(
            `the run lock ${this.key} could not be renewed within its TTL of ${this.ttlMs} ms (${reason}); another run may hold it now`,
            { cause: error },
          ),
        );
        return;
      }
      this.schedule(Math.max(1, Math.min(this.renewIntervalMs, RENEW_RETRY_MS, leftMs)));
    }
  }

  private markLost(error: LockLostError): void {
    if (this.lost) return;
    clearTimeout(this.timer);
    this.controller.abort(error);
    this.onLost?.(error);
  }
}

function lockTtlMs(ttlSeconds: number): number {
  const ms = Math.round(ttlSeconds * 1000);
  if (!Number.isFinite(ttlSeconds) || ms < 10) {
    throw new InvalidPublishInputError(`lock TTL must be at least 0.01 seconds, got ${ttlSeconds}`);
  }
  return ms;
}

function parseHolder(value: string): LockHolder | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const record = parsed as Record<string, unknown>;
  const { token, runId, host, pid, acquiredAt } = record;
  if (
    typeof token !== 'string' ||
    typeof runId !== 'string' ||
    typeof host !== 'string' ||
    typeof pid !== 'number' ||
    typeof acquiredAt !== 'string'
  ) {
    return null;
  }
  return { token, runId, host, pid, acquiredAt };
}

function describeHeld(key: string, info: LockInfo): string {
  const expiry =
    info.ttlMs === null
      ? 'it has no expiry: once no run is going, delete it by hand'
      : `it expires in ${Math.ceil(info.ttlMs / 1000)} s unless its holder renews it`;
  const { holder } = info;
  if (holder === null) {
    return `the run lock ${key} is held, by a value this program did not write; ${expiry}`;
  }
  return `another run holds the run lock ${key}: run ${holder.runId} on ${holder.host} (pid ${holder.pid}) since ${holder.acquiredAt}; ${expiry}`;
}
