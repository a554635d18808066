import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LockHeldError, LockLostError, type RunLock } from '../../src/publish/lock.js';
import { RedisPublisher } from '../../src/publish/redis-publisher.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

/** The run lock P:lock against a real redis-server: who gets it, how long it lives, who may free it. */

let server: RedisServer;
let admin: ReturnType<typeof rawClient>;
let prefix: string;
const opened: { close(): Promise<void> }[] = [];
const locks: RunLock[] = [];

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
  prefix = `{lock-${randomBytes(4).toString('hex')}}`;
});

afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release().catch(() => false);
  await Promise.all(opened.splice(0).map((resource) => resource.close()));
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  for (const key of (await admin.sendCommand(['KEYS', pattern])) as string[]) {
    await admin.unlink(key);
  }
});

async function connect(): Promise<RedisPublisher> {
  const publisher = await RedisPublisher.connect({
    url: server.url,
    keyPrefix: prefix,
    keepVersions: 5,
    connectTimeoutSeconds: 1,
    stagingTtlSeconds: 60,
  });
  opened.push(publisher);
  return publisher;
}

async function acquire(
  publisher: RedisPublisher,
  options: Parameters<RedisPublisher['acquireLock']>[0],
): Promise<RunLock> {
  const lock = await publisher.acquireLock(options);
  locks.push(lock);
  return lock;
}

async function lockValue(): Promise<string | null> {
  return (await admin.sendCommand(['GET', `${prefix}:lock`])) as string | null;
}

async function pttl(): Promise<number> {
  return (await admin.sendCommand(['PTTL', `${prefix}:lock`])) as number;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe('acquiring the run lock', () => {
  it('writes the holder as JSON with a TTL, and refuses a second run naming the first', async () => {
    const first = await connect();
    const second = await connect();
    const lock = await acquire(first, { runId: 'run-a', ttlSeconds: 30, host: 'host-a', pid: 42 });

    const stored = JSON.parse((await lockValue()) ?? 'null');
    expect(stored).toEqual({
      token: lock.token,
      runId: 'run-a',
      host: 'host-a',
      pid: 42,
      acquiredAt: lock.holder.acquiredAt,
    });
    expect(lock.token).toMatch(/^[0-9a-f]{32}$/);
    expect(await pttl()).toBeGreaterThan(29_000);
    expect(await pttl()).toBeLessThanOrEqual(30_000);

    const refused = await second.acquireLock({ runId: 'run-b' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    const held = refused as LockHeldError;
    expect(held.code).toBe('LOCK_HELD');
    expect(held.info.holder).toEqual(lock.holder);
    expect(held.info.ttlMs).toBeGreaterThan(25_000);
    expect(held.message).toMatch(
      /run run-a on host-a \(pid 42\) since .*; it expires in (29|30) s unless its holder renews it/,
    );
    expect(JSON.parse((await lockValue()) ?? 'null').runId).toBe('run-a');

    expect(await second.readLock()).toEqual({ holder: lock.holder, ttlMs: expect.any(Number) });
  });

  it('names a holder it did not write, and one without expiry', async () => {
    await admin.sendCommand(['SET', `${prefix}:lock`, 'by hand']);
    const publisher = await connect();
    const refused = await publisher.acquireLock({ runId: 'run-a' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect((refused as LockHeldError).info).toEqual({ holder: null, ttlMs: null });
    expect((refused as LockHeldError).message).toContain('has no expiry');
  });

  it('is free again once released, and reads as free', async () => {
    const publisher = await connect();
    const lock = await acquire(publisher, { runId: 'run-a' });
    expect(await lock.release()).toBe(true);
    expect(await lockValue()).toBeNull();
    expect(await publisher.readLock()).toBeNull();
    expect(await lock.release()).toBe(false);
    const next = await acquire(publisher, { runId: 'run-b' });
    expect(next.holder.runId).toBe('run-b');
  });
});

describe('keeping the run lock', () => {
  it('renews the TTL while the owner lives, well past one TTL', async () => {
    const publisher = await connect();
    const lock = await acquire(publisher, {
      runId: 'run-a',
      ttlSeconds: 0.3,
      renewIntervalMs: 60,
    });
    const value = await lockValue();
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      expect(await lockValue()).toBe(value);
      expect(await pttl()).toBeGreaterThan(150);
    }
    expect(lock.lost).toBe(false);
    expect(await lock.release()).toBe(true);
    expect(await lockValue()).toBeNull();
  });

  it('expires by TTL after its owner dies, and the next run gets it', async () => {
    const crashed = await connect();
    const lost: LockLostError[] = [];
    const lock = await crashed.acquireLock({
      runId: 'crashed',
      ttlSeconds: 0.4,
      renewIntervalMs: 100,
      onLost: (error) => lost.push(error),
    });
    // The owner's link dies: nothing renews the lock any more, nothing releases it.
    await crashed.close();
    const next = await connect();
    await expect(next.acquireLock({ runId: 'next' })).rejects.toBeInstanceOf(LockHeldError);
    await sleep(500);
    expect(await lockValue()).toBeNull();
    const taken = await acquire(next, { runId: 'next' });
    expect(JSON.parse((await lockValue()) ?? 'null').runId).toBe('next');

    // The dead owner learns it can no longer count on the lock.
    await until(() => lock.lost, 1_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.message).toMatch(/could not be renewed within its TTL of 400 ms/);
    expect(taken.lost).toBe(false);
  });
});

describe('losing the run lock', () => {
  it('compare-and-delete leaves someone else’s lock in place', async () => {
    const publisher = await connect();
    const lock = await acquire(publisher, { runId: 'run-a', ttlSeconds: 0.2, renewIntervalMs: 50 });
    // As if run-a stalled past its TTL and run-b took the lock in the meantime.
    await admin.sendCommand(['SET', `${prefix}:lock`, '{"runId":"run-b"}', 'PX', '60000']);
    expect(await lock.release()).toBe(false);
    expect(await lockValue()).toBe('{"runId":"run-b"}');
    expect(await pttl()).toBeGreaterThan(59_000);
  });

  it('signals the owner when renewal finds the lock taken, so it stops before publishing', async () => {
    const publisher = await connect();
    const seen: LockLostError[] = [];
    const lock = await acquire(publisher, {
      runId: 'run-a',
      ttlSeconds: 5,
      renewIntervalMs: 50,
      onLost: (error) => seen.push(error),
    });
    expect(lock.signal.aborted).toBe(false);
    await admin.sendCommand(['SET', `${prefix}:lock`, 'someone else', 'PX', '60000']);

    await until(() => lock.signal.aborted, 1_000);
    const reason: unknown = lock.signal.reason;
    expect(reason).toBeInstanceOf(LockLostError);
    expect((reason as LockLostError).code).toBe('LOCK_LOST');
    expect((reason as LockLostError).message).toMatch(/expired or was taken by another run/);
    expect(lock.lost).toBe(true);
    expect(seen).toEqual([reason]);
    await expect(lock.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    // The other owner's lock is neither renewed nor deleted by the loser.
    await sleep(150);
    expect(await lockValue()).toBe('someone else');
    expect(await pttl()).toBeLessThan(59_900);
    expect(await lock.release()).toBe(false);
    expect(await lockValue()).toBe('someone else');
  });

  it('signals the owner when the lock expired under it (e.g. Redis lost its data)', async () => {
    const publisher = await connect();
    const lock = await acquire(publisher, { runId: 'run-a', ttlSeconds: 5, renewIntervalMs: 50 });
    await lock.assertHeld();
    await admin.sendCommand(['DEL', `${prefix}:lock`]);
    await until(() => lock.lost, 1_000);
    expect(lock.signal.reason).toBeInstanceOf(LockLostError);
    expect(await lockValue()).toBeNull();
  });
});
