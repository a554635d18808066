import { RedisConnection } from './connection.js';
import { InvalidPublishInputError, PublisherError } from './errors.js';
import { PublishKeys } from './keys.js';
import { readLive } from './live.js';
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
