import { RedisConnection } from './connection.js';
import { InvalidPublishInputError, PublisherError, RedisCommandError } from './errors.js';
import { recentRuns, recordRun } from './history.js';
import { PublishKeys } from './keys.js';
import { readLive } from './live.js';
import { type LiveMeta, readLiveMeta } from './live-meta.js';
import {
  acquireRunLock,
  type LockInfo,
  type RunLock,
  type RunLockOptions,
  readLock,
} from './lock.js';
import { stagePublish, stageRollback } from './prepare.js';
import { commitSwap } from './swap.js';
import type {
  LiveState,
  PublisherOptions,
  PublishInput,
  RollbackInput,
  SwapResult,
  VersionInfo,
} from './types.js';
import { listVersions, trimVersions } from './versions.js';

/**
 * Publishes stopword lists to Redis with the layout of DESIGN §6 (see keys.ts). Every failure is
 * a `PublisherError`; a failure before the swap leaves live keys untouched.
 */
export class RedisPublisher {
  private constructor(
    private readonly conn: RedisConnection,
    private readonly keys: PublishKeys,
    private readonly opts: PublisherOptions,
  ) {}

  /** Fails with `RedisUnavailableError` within about `connectTimeoutSeconds * 2`; never retries forever. */
  static async connect(opts: PublisherOptions): Promise<RedisPublisher> {
    assertOptions(opts);
    const keys = new PublishKeys(opts.keyPrefix);
    const conn = await RedisConnection.open(opts.url, opts.connectTimeoutSeconds);
    return new RedisPublisher(conn, keys, opts);
  }

  /** The live meta and every live list, all of one version. */
  readLive(): Promise<LiveState> {
    return readLive(this.conn, this.keys);
  }

  /**
   * Stages the lists as a new version and swaps it live atomically; languages absent from `lists`
   * (or with an empty list) stop being live. Then trims old versions.
   */
  async publish(input: PublishInput): Promise<SwapResult> {
    const prepared = await stagePublish(this.conn, this.keys, this.opts.stagingTtlSeconds, input);
    const result = await commitSwap(this.conn, this.keys, prepared);
    await this.trimAfterSwap();
    return result;
  }

  /** Puts a kept version live again (the live one included, as a no-op swap). */
  async rollback(input: RollbackInput): Promise<SwapResult> {
    const prepared = await stageRollback(this.conn, this.keys, this.opts.stagingTtlSeconds, input);
    const result = await commitSwap(this.conn, this.keys, prepared);
    await this.trimAfterSwap();
    return result;
  }

  /** Kept versions, newest first. */
  listVersions(): Promise<VersionInfo[]> {
    return listVersions(this.conn, this.keys);
  }

  /** `P:meta` only: the live version and how it got there, without its lists. */
  /**
   * The server's `run_id`, which changes whenever Redis restarts. A run compares it before its
   * swap: what it read before a restart (live lists, fence) may no longer be what is there.
   */
  async serverRunId(): Promise<string> {
    const info = String(await this.conn.command(['INFO', 'server']));
    const match = /^run_id:([0-9a-f]+)\s*$/m.exec(info);
    if (match?.[1] === undefined) throw new RedisCommandError('INFO server has no run_id');
    return match[1];
  }

  readLiveMeta(): Promise<LiveMeta> {
    return readLiveMeta(this.conn, this.keys);
  }

  /**
   * Takes the run lock `P:lock` on this connection and keeps renewing it until `release()`.
   * Throws `LockHeldError` (with the holder) when another run has it. See lock.ts.
   */
  acquireLock(options: RunLockOptions): Promise<RunLock> {
    return acquireRunLock(this.conn, this.keys, options);
  }

  /** Who holds the run lock, or `null`. */
  readLock(): Promise<LockInfo | null> {
    return readLock(this.conn, this.keys);
  }

  /** Prepends a JobResult (as JSON) to `P:runs`, keeping the newest `RUN_HISTORY_LIMIT`. */
  recordRun(json: string): Promise<void> {
    return recordRun(this.conn, this.keys, json);
  }

  /** Up to `count` recorded JobResults (JSON strings), newest first. */
  recentRuns(count: number): Promise<string[]> {
    return recentRuns(this.conn, this.keys, count);
  }

  /** Idempotent. */
  close(): Promise<void> {
    return this.conn.close();
  }

  /**
   * The swap has happened and cannot be undone, so failing the whole operation here would
   * misreport it. Every trim considers all versions, so the next swap removes what this one left.
   */
  private async trimAfterSwap(): Promise<void> {
    try {
      await trimVersions(this.conn, this.keys, this.opts.keepVersions);
    } catch (err) {
      if (!(err instanceof PublisherError)) throw err;
    }
  }
}

function assertOptions(opts: PublisherOptions): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(opts.keepVersions) || opts.keepVersions < 1) {
    problems.push(`keepVersions must be an integer >= 1, got ${opts.keepVersions}`);
  }
  if (!Number.isSafeInteger(opts.stagingTtlSeconds) || opts.stagingTtlSeconds < 1) {
    problems.push(`stagingTtlSeconds must be an integer >= 1, got ${opts.stagingTtlSeconds}`);
  }
  if (!(opts.connectTimeoutSeconds > 0)) {
    problems.push(`connectTimeoutSeconds must be > 0, got ${opts.connectTimeoutSeconds}`);
  }
  if (problems.length > 0) throw new InvalidPublishInputError(problems.join('; '));
}
