import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidPublishInputError, UnknownVersionError } from '../../src/publish/errors.js';
import { RedisPublisher } from '../../src/publish/redis-publisher.js';
import type { PublisherOptions, WordList } from '../../src/publish/types.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

/** The Redis layout of DESIGN §6 as publish, rollback and trimming leave it. */

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

/** HGETALL as a Map, straight from the wire, so any word survives the comparison. */
async function hash(key: string): Promise<Map<string, string>> {
  const flat = (await admin.sendCommand(['HGETALL', key])) as string[];
  const map = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i] ?? '', flat[i + 1] ?? '');
  return map;
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

describe('publish', () => {
  it('writes exactly the DESIGN §6 layout and persists what went live', async () => {
    const publisher = await connect(options());
    const result = await publisher.publish({
      runId: 'run-1',
      lists: v1,
      analyzerVersion: 'tok-3',
      publishedAt,
    });
    expect(result).toEqual({ version: 1, fence: 1, removed: [] });

    const P = prefix;
    expect((await keysOf(P)).sort()).toEqual(
      [
        `${P}:de`,
        `${P}:en`,
        `${P}:meta`,
        `${P}:v:1:de`,
        `${P}:v:1:en`,
        `${P}:v:1:meta`,
        `${P}:versions`,
      ].sort(),
    );
    expect(await hash(`${P}:en`)).toEqual(v1.get('en'));
    expect(await hash(`${P}:de`)).toEqual(v1.get('de'));
    expect(await hash(`${P}:v:1:en`)).toEqual(v1.get('en'));
    for (const key of await keysOf(P)) expect(await admin.ttl(key), key).toBe(-1);

    const meta = Object.fromEntries(await hash(`${P}:meta`));
    expect(meta).toMatchObject({
      version: '1',
      fence: '1',
      publishedAt: '2026-11-30T02:00:00.000Z',
      runId: 'run-1',
      languages: '["de","en"]',
      counts: '{"de":2,"en":3}',
      analyzerVersion: 'tok-3',
      versionSeq: '1',
      fenceSeq: '1',
      swapRunId: 'run-1',
    });
    expect(Object.fromEntries(await hash(`${P}:v:1:meta`))).toEqual({
      version: '1',
      publishedAt: '2026-11-30T02:00:00.000Z',
      runId: 'run-1',
      languages: '["de","en"]',
      counts: '{"de":2,"en":3}',
      analyzerVersion: 'tok-3',
    });
    expect(await admin.sendCommand(['ZRANGE', `${P}:versions`, '0', '-1', 'WITHSCORES'])).toEqual([
      '1',
      String(publishedAt.getTime() / 1000),
    ]);

    const live = await publisher.readLive();
    expect(live).toEqual({
      version: 1,
      fence: 1,
      publishedAt: '2026-11-30T02:00:00.000Z',
      runId: 'run-1',
      analyzerVersion: 'tok-3',
      languages: ['de', 'en'],
      lists: v1,
    });
  });

  it('removes languages that vanished (or became empty) and numbers versions upwards', async () => {
    const publisher = await connect(options());
    await publisher.publish({ runId: 'a', lists: v1, analyzerVersion: 't', publishedAt });
    const second = await publisher.publish({
      runId: 'b',
      lists: new Map([
        ['en', words({ the: '1' })],
        ['fr', new Map()],
      ]),
      analyzerVersion: 't',
      publishedAt,
    });
    expect(second).toEqual({ version: 2, fence: 2, removed: ['de'] });
    expect(await admin.exists(`${prefix}:de`)).toBe(0);
    expect(await admin.exists(`${prefix}:fr`)).toBe(0);
    expect(await hash(`${prefix}:en`)).toEqual(words({ the: '1' }));
    const live = await publisher.readLive();
    expect(live.languages).toEqual(['en']);
    expect([...live.lists.keys()]).toEqual(['en']);
    // The previous version stays whole for rollback.
    expect(await hash(`${prefix}:v:1:de`)).toEqual(v1.get('de'));
    expect((await publisher.listVersions()).map((v) => [v.version, v.live])).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it('refuses language codes that could collide with its own keys, before writing anything', async () => {
    const publisher = await connect(options());
    for (const lang of ['meta', 'versions', 'v', 'staging:x', '']) {
      await expect(
        publisher.publish({
          runId: 'r',
          lists: lists({ [lang]: { a: '1' } }),
          analyzerVersion: 't',
          publishedAt,
        }),
      ).rejects.toBeInstanceOf(InvalidPublishInputError);
    }
    expect(await keysOf(prefix)).toEqual([]);
  });
});

describe('rollback', () => {
  it('puts a kept version back byte for byte and leaves the version list alone', async () => {
    const publisher = await connect(options());
    const odd = new Map<string, string>([
      ['l’', '0.5'],
      ["l'", '0.51'],
      ['straße', '0.3'],
      ['日本', '0.2'],
      ['__proto__', '0.1'],
      ['a:b', '0.25'],
      ['', '0.05'],
    ]);
    // Enough words for a hashtable encoding and several HSCAN pages.
    for (let i = 0; i < 1300; i += 1) odd.set(`w${i}`, (i / 1300).toFixed(4));
    const first = new Map([
      ['fr', odd],
      ['en', words({ the: '0.9' })],
    ]);
    await publisher.publish({ runId: 'r1', lists: first, analyzerVersion: 'tok-1', publishedAt });
    await publisher.publish({
      runId: 'r2',
      lists: lists({ en: { a: '1' }, es: { el: '0.9' } }),
      analyzerVersion: 'tok-2',
      publishedAt: new Date(publishedAt.getTime() + 86_400_000),
    });

    const result = await publisher.rollback({ runId: 'rb', to: 1 });
    expect(result).toEqual({ version: 1, fence: 3, removed: ['es'] });
    expect(await hash(`${prefix}:fr`)).toEqual(odd);
    expect(await hash(`${prefix}:en`)).toEqual(first.get('en'));
    expect(await admin.exists(`${prefix}:es`)).toBe(0);
    const meta = Object.fromEntries(await hash(`${prefix}:meta`));
    expect(meta).toMatchObject({
      version: '1',
      fence: '3',
      runId: 'r1',
      analyzerVersion: 'tok-1',
      swapRunId: 'rb',
    });
    expect(await admin.sendCommand(['ZRANGE', `${prefix}:versions`, '0', '-1'])).toEqual([
      '1',
      '2',
    ]);
    expect(await keysOf(`${prefix}:staging`)).toEqual([]);
    expect((await publisher.readLive()).lists).toEqual(first);

    // Rolling back to the live version is a harmless swap; publishing continues after the highest.
    expect(await publisher.rollback({ runId: 'rb2', to: 1 })).toEqual({
      version: 1,
      fence: 4,
      removed: [],
    });
    const next = await publisher.publish({
      runId: 'r3',
      lists: v1,
      analyzerVersion: 't',
      publishedAt,
    });
    expect(next.version).toBe(3);
  });

  it('names the kept versions when the target is unknown', async () => {
    const publisher = await connect(options());
    await publisher.publish({ runId: 'a', lists: v1, analyzerVersion: 't', publishedAt });
    await publisher.publish({ runId: 'b', lists: v1, analyzerVersion: 't', publishedAt });
    const error = await publisher.rollback({ runId: 'c', to: 7 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UnknownVersionError);
    expect(error).toMatchObject({ code: 'UNKNOWN_VERSION', requested: 7, available: [1, 2] });
    expect((error as Error).message).toContain('1, 2');
    expect((await publisher.readLive()).version).toBe(2);
  });
});

describe('version trimming', () => {
  it('keeps the newest keepVersions, and always the live one', async () => {
    const publisher = await connect(options({ keepVersions: 2 }));
    for (let i = 0; i < 4; i += 1) {
      await publisher.publish({ runId: `r${i}`, lists: v1, analyzerVersion: 't', publishedAt });
    }
    expect((await publisher.listVersions()).map((v) => v.version)).toEqual([4, 3]);
    for (const key of [`${prefix}:v:1:en`, `${prefix}:v:1:meta`, `${prefix}:v:2:de`]) {
      expect(await admin.exists(key), key).toBe(0);
    }
    await expect(publisher.rollback({ runId: 'x', to: 1 })).rejects.toBeInstanceOf(
      UnknownVersionError,
    );

    await publisher.rollback({ runId: 'back', to: 3 });
    const narrow = await connect(options({ keepVersions: 1 }));
    await narrow.rollback({ runId: 'again', to: 3 });
    // Only the newest (4) is kept by count; 3 survives because it is live.
    expect((await narrow.listVersions()).map((v) => [v.version, v.live])).toEqual([
      [4, false],
      [3, true],
    ]);
  });
});
