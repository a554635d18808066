/**
 * The connect phase: Redis, the run lock (not for a dry run) and the live lists. A dry run goes
 * on without Redis, comparing against nothing; a real run fails here, before reading anything.
 */
import { resolveChecked } from '../config/env-refs.js';
import type { Config } from '../config/types.js';
import {
  type LiveState,
  LockHeldError,
  publisherOptions,
  RedisPublisher,
  type RunLock,
} from '../publish/index.js';
import { ConfigError, PublishError } from './errors.js';

export interface Connection {
  readonly publisher: RedisPublisher | null;
  readonly lock: RunLock | null;
  readonly live: LiveState | null;
  /** The Redis server's run_id when the live lists were read. */
  readonly serverRunId: string | null;
  /** Why a dry run has no Redis. */
  readonly warning: string | null;
}

export async function connectRedis(options: {
  config: Config;
  env: NodeJS.ProcessEnv;
  runId: string;
  dryRun: boolean;
  onLockLost: (message: string) => void;
}): Promise<Connection> {
  const { config } = options;
  let publisher: RedisPublisher | null = null;
  let lock: RunLock | null = null;
  try {
    const url = resolveChecked(config.redis.url, 'redis.url', options.env);
    publisher = await RedisPublisher.connect(publisherOptions(config.redis, url));
    if (!options.dryRun) {
      lock = await publisher.acquireLock({
        runId: options.runId,
        ttlSeconds: config.redis.lockTtlSeconds,
        onLost: (error) =>
          options.onLockLost(`the run lock was lost: ${error.message}; nothing was published`),
      });
    }
    const serverRunId = await publisher.serverRunId();
    const live = await publisher.readLive();
    return { publisher, lock, live, serverRunId, warning: null };
  } catch (error) {
    if (error instanceof LockHeldError) {
      await publisher?.close().catch(() => undefined);
      throw error;
    }
    await lock?.release().catch(() => undefined);
    await publisher?.close().catch(() => undefined);
    const failure =
      error instanceof ConfigError
        ? error
        : new PublishError(`Redis: ${error instanceof Error ? error.message : String(error)}`, {
            cause: error,
          });
    if (!options.dryRun) throw failure;
    return {
      publisher: null,
      lock: null,
      live: null,
      serverRunId: null,
      warning: `${failure.message}; the dry run compares against no live lists`,
    };
  }
}
