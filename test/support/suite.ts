/**
 * What most end-to-end suites start with: a private redis-server, a connected client, and a
 * temporary directory, all removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { type RedisServer, startRedis } from './redis-server.js';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisSuite {
  readonly redis: RedisServer;
  readonly client: RedisClient;
  readonly dir: string;
}

/** `dirPrefix` names the temporary directory, e.g. `swr-crash-`. */
export async function openRedisSuite(dirPrefix: string): Promise<RedisSuite> {
  const redis = await startRedis();
  const client: RedisClient = createClient({ url: redis.url });
  await client.connect();
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  return { redis, client, dir };
}

/** Closes whatever `openRedisSuite` got to open, even when it failed half-way. */
export async function closeRedisSuite(suite: Partial<RedisSuite>): Promise<void> {
  await suite.client?.quit();
  await suite.redis?.stop();
  if (suite.dir !== undefined) await rm(suite.dir, { recursive: true, force: true });
}
