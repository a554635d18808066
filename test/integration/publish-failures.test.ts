import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/publish/connection.js';
import {
  RedisUnavailableError,
  StagingMissingError,
  StaleFenceError,
} from '../../src/publish/errors.js';
import { PublishKeys } from '../../src/publish/keys.js';
import { stagePublish } from '../../src/publish/prepare.js';
import { redactUrl } from '../../src/publish/redact-url.js';
import { RedisPublisher } from '../../src/publish/redis-publisher.js';
import { commitSwap } from '../../src/publish/swap.js';
import type { PublisherOptions, WordList } from '../../src/publish/types.js';
import { type RedisServer, refusedPort, startRedis } from '../support/redis-server.js';

/** What happens when runs stall, staging expires, or Redis is not there; and who hears of a swap. */

let server: RedisServer;
let admin: ReturnType<typeof rawClient>;
let prefix: string;
const opened: { close(): Promise<void> }[] = [];

function rawClient(url: string) {
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => {});
  return client;
}

beforeAll(async () => {
  server = await startRedis();
  admin = rawClient(server.url);
  await admin.connect();
});

afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

beforeEach(() => {
  prefix = `{sw-${randomBytes(4).toString('hex')}}`;
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((resource) => resource.close()));
  for (const key of await keysOf(prefix)) await admin.unlink(key);
});

function options(overrides: Partial<PublisherOptions> = {}): PublisherOptions {
  return {
    url: server.url,
    keyPrefix: prefix,
    keepVersions: 10,
    connectTimeoutSeconds: 1,
    stagingTtlSeconds: 60,
    ...overrides,
  };
}

async function connect(opts: PublisherOptions): Promise<RedisPublisher> {
  const publisher = await RedisPublisher.connect(opts);
  opened.push(publisher);
  return publisher;
}

function words(entries: Record<string, string>): WordList {
  return new Map(Object.entries(entries));
}

function lists(spec: Record<string, Record<string, string>>): Map<string, WordList> {
  return new Map(Object.entries(spec).map(([lang, list]) => [lang, words(list)]));
}

async function keysOf(keyPrefix: string | undefined): Promise<string[]> {
  if (keyPrefix === undefined) return [];
  const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  return (await admin.sendCommand(['KEYS', pattern])) as string[];
}

const publishedAt = new Date('2026-11-30T02:00:00.000Z');
const v1 = lists({
  en: { the: '0.9123', of: '0.8', and: '0.75' },
  de: { der: '0.88', und: '0.7' },
});

describe('fencing and staging', () => {
  it('refuses a swap whose token is older than the one live (a stalled run)', async () => {
    const opts = options();
    const publisher = await connect(opts);
    const conn = await RedisConnection.open(server.url, 1);
    opened.push(conn);
    const keys = new PublishKeys(prefix);

    const stalled = await stagePublish(conn, keys, 60, {
      runId: 'slow',
      lists: v1,
      analyzerVersion: 't',
      publishedAt,
    });
    const newer = lists({ en: { newer: '1' } });
    await publisher.publish({ runId: 'fast', lists: newer, analyzerVersion: 't', publishedAt });

    const error = await commitSwap(conn, keys, stalled).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StaleFenceError);
    expect(error).toMatchObject({ code: 'STALE_FENCE', token: 1, liveFence: 2 });
    const live = await publisher.readLive();
    expect(live).toMatchObject({ version: 2, fence: 2, languages: ['en'] });
    expect(live.lists).toEqual(newer);
  });

  it('lets the staging of a run that never swapped expire without touching live', async () => {
    const publisher = await connect(options({ stagingTtlSeconds: 1 }));
    await publisher.publish({ runId: 'ok', lists: v1, analyzerVersion: 't', publishedAt });
    const conn = await RedisConnection.open(server.url, 1);
    opened.push(conn);
    const keys = new PublishKeys(prefix);

    const abandoned = await stagePublish(conn, keys, 1, {
      runId: 'dead',
      lists: lists({ en: { x: '1' }, it: { il: '1' } }),
      analyzerVersion: 't',
      publishedAt,
    });
    const leftovers = [
      keys.staging('dead', 'en'),
      keys.staging('dead', 'it'),
      keys.versionCopy(2, 'en'),
      keys.versionCopy(2, 'it'),
      keys.versionMeta(2),
    ];
    for (const key of leftovers) {
      const ttl = await admin.pTTL(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(1000);
    }
    expect((await publisher.readLive()).lists).toEqual(v1);

    const deadline = performance.now() + 10_000;
    while ((await admin.exists(leftovers)) > 0 && performance.now() < deadline) await sleep(100);
    expect(await admin.exists(leftovers)).toBe(0);
    await expect(commitSwap(conn, keys, abandoned)).rejects.toBeInstanceOf(StagingMissingError);

    const live = await publisher.readLive();
    expect(live).toMatchObject({ version: 1, languages: ['de', 'en'] });
    expect(live.lists).toEqual(v1);
    expect((await publisher.listVersions()).map((v) => v.version)).toEqual([1]);
    // The number the dead run took is never reused.
    expect(
      (await publisher.publish({ runId: 'next', lists: v1, analyzerVersion: 't', publishedAt }))
        .version,
    ).toBe(3);
  });
});

describe('updates channel', () => {
  it('announces every swap on P:updates', async () => {
    const publisher = await connect(options());
    const subscriber = rawClient(server.url);
    await subscriber.connect();
    opened.push(subscriber);
    const messages: unknown[] = [];
    await subscriber.subscribe(`${prefix}:updates`, (message) =>
      messages.push(JSON.parse(message)),
    );

    await publisher.publish({ runId: 'a', lists: v1, analyzerVersion: 't', publishedAt });
    await publisher.publish({
      runId: 'b',
      lists: lists({ en: { a: '1' } }),
      analyzerVersion: 't',
      publishedAt,
    });
    await publisher.rollback({ runId: 'c', to: 1 });
    const deadline = performance.now() + 5_000;
    while (messages.length < 3 && performance.now() < deadline) await sleep(20);
    expect(messages).toEqual([
      { version: 1, languages: ['de', 'en'] },
      { version: 2, languages: ['en'] },
      { version: 1, languages: ['de', 'en'] },
    ]);
  });
});

describe('connection', () => {
  it('fails fast with RedisUnavailableError when nothing listens, password redacted', async () => {
    const port = await refusedPort();
    const started = performance.now();
    const error = await RedisPublisher.connect({
      ...options(),
      url: `redis://reader:s3cr%23t@127.0.0.1:${port}`,
    }).catch((err: unknown) => err);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    const message = (error as Error).message;
    expect(message).toBe(
      `cannot reach Redis at redis://reader:***@127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(message).not.toContain('s3cr');
  });

  it('gives up on an unroutable address within about twice the connect timeout', async () => {
    const started = performance.now();
    await expect(
      RedisPublisher.connect({
        ...options(),
        url: 'redis://10.255.255.1:6379',
        connectTimeoutSeconds: 0.5,
      }),
    ).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(performance.now() - started).toBeLessThan(2_500);
  });

  it('gives up on a server that accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = performance.now();
      const error = await RedisPublisher.connect({
        ...options(),
        url: `redis://127.0.0.1:${port}`,
        connectTimeoutSeconds: 0.5,
      }).catch((err: unknown) => err);
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect((error as Error).message).toBe(
        `cannot reach Redis at redis://127.0.0.1:${port} (no answer within 1000 ms)`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('fails commands after the server goes away instead of hanging, and closes twice', async () => {
    const own = await startRedis();
    try {
      const publisher = await RedisPublisher.connect({ ...options(), url: own.url });
      await publisher.publish({ runId: 'a', lists: v1, analyzerVersion: 't', publishedAt });
      await own.stop();
      const started = performance.now();
      await expect(publisher.readLive()).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(
        publisher.publish({ runId: 'b', lists: v1, analyzerVersion: 't', publishedAt }),
      ).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(performance.now() - started).toBeLessThan(5_000);
      await publisher.close();
      await publisher.close();
    } finally {
      await own.stop();
    }
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('redis://:hunter2@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactUrl('rediss://app:p%40ss@cache')).toBe('rediss://app:***@cache');
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379');
    expect(redactUrl('redis://user:pa ss@[bad')).not.toContain('pa ss');
  });
});
