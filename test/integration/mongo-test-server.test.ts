import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  Binary,
  BSON,
  type Collection,
  type Db,
  type Document,
  Long,
  MongoBulkWriteError,
  MongoClient,
  type MongoClientOptions,
  MongoNetworkError,
  MongoServerError,
  ObjectId,
} from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MongoTestServer } from '../support/mongo/server.mjs';
import { freePort } from '../support/redis-server.js';

/**
 * The MongoDB test server (test/support/mongo) driven by the official driver. The first suite
 * is plain driver behaviour and runs against a real mongod instead when TEST_MONGODB_URI is
 * set; the others exercise what only the test server has: authentication users, fault
 * injection, counters, raw protocol corners, the 100K-document paging budget and the CLI.
 */

const EXTERNAL_URI = process.env['TEST_MONGODB_URI'];
const CLI = join(import.meta.dirname, '../support/mongo/cli.mjs');
const clients: MongoClient[] = [];

async function connect(uri: string, options: MongoClientOptions = {}): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, ...options });
  clients.push(client);
  await client.connect();
  return client;
}

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** Documents whose `_id` is not necessarily an ObjectId. */
type AnyDoc = Document & { _id: ObjectId | number | string };

const base = Date.parse('2026-11-01T00:00:00.000Z');

/** Documents with repeated updatedAt values, so (updatedAt, _id) ordering has ties to break. */
function corpus(n: number): AnyDoc[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: new ObjectId(),
    lang: ['en', 'de', 'fr'][i % 3],
    text: `paragraph ${i} ${'lorem ipsum '.repeat(5)}`,
    n: i,
    updatedAt: new Date(base + Math.floor(i / 3) * 1000),
  }));
}

/** The order a server must return for sort { updatedAt: 1, _id: 1 }. */
function byUpdatedAtThenId(a: Document, b: Document): number {
  const d = (a['updatedAt'] as Date).getTime() - (b['updatedAt'] as Date).getTime();
  if (d !== 0) return d;
  return Buffer.compare((a['_id'] as ObjectId).id, (b['_id'] as ObjectId).id);
}

describe(`driver behaviour against ${EXTERNAL_URI ? 'TEST_MONGODB_URI' : 'the test server'}`, () => {
  let server: MongoTestServer | undefined;
  let client: MongoClient;
  let db: Db;
  const dbName = `mts_${randomBytes(4).toString('hex')}`;
  const commands: string[] = [];

  beforeAll(async () => {
    let uri = EXTERNAL_URI;
    if (!uri) {
      server = await new MongoTestServer().start();
      uri = server.uri;
    }
    client = await connect(uri, { monitorCommands: true });
    client.on('commandStarted', (event) => commands.push(event.commandName));
    db = client.db(dbName);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await server?.stop();
  });

  function coll(name: string): Collection<AnyDoc> {
    return db.collection<AnyDoc>(name);
  }

  it('handshakes like a standalone and answers ping and hello', async () => {
    expect(await db.admin().command({ ping: 1 })).toMatchObject({ ok: 1 });
    const hello = await db.admin().command({ hello: 1 });
    expect(hello['isWritablePrimary']).toBe(true);
    expect(hello['maxWireVersion']).toBeGreaterThanOrEqual(8);
    expect(hello['maxBsonObjectSize']).toBe(16 * 1024 * 1024);
    expect(hello['logicalSessionTimeoutMinutes']).toBeTypeOf('number');
    expect(hello['localTime']).toBeInstanceOf(Date);
    expect(Math.abs((hello['localTime'] as Date).getTime() - Date.now())).toBeLessThan(5000);
  });

  it('stores dates and ObjectIds as BSON types and sorts (updatedAt, _id) with ties', async () => {
    const docs = corpus(30);
    const c = coll('sorted');
    await c.insertMany(docs.slice().reverse());
    const found = await c
      .find({ updatedAt: { $gte: new Date(base + 2000), $lt: new Date(base + 7000) } })
      .sort({ updatedAt: 1, _id: 1 })
      .project({ text: 0 })
      .toArray();
    const expected = docs
      .filter((d) => {
        const t = (d['updatedAt'] as Date).getTime();
        return t >= base + 2000 && t < base + 7000;
      })
      .sort(byUpdatedAtThenId);
    expect(found.map((d) => d['n'])).toEqual(expected.map((d) => d['n']));
    expect(found[0]?.['_id']).toBeInstanceOf(ObjectId);
    expect(found[0]?.['updatedAt']).toBeInstanceOf(Date);
    expect(Object.keys(found[0] ?? {})).toEqual(['_id', 'lang', 'n', 'updatedAt']);
  });

  it('returns raw BSON buffers across several getMore batches with limit', async () => {
    const c = coll('batches');
    const docs = corpus(25);
    await c.insertMany(docs);
    const before = commands.filter((n) => n === 'getMore').length;
    const raw = await c
      .find({}, { raw: true, sort: { n: 1 }, batchSize: 4, limit: 19, projection: { n: 1 } })
      .toArray();
    expect(raw).toHaveLength(19);
    expect(Buffer.isBuffer(raw[0])).toBe(true);
    const decoded = raw.map((b) => BSON.deserialize(b as unknown as Uint8Array));
    expect(decoded.map((d) => d['n'])).toEqual(docs.slice(0, 19).map((d) => d['n']));
    expect(decoded[0]?.['_id']).toEqual(docs[0]?.['_id']);
    expect(commands.filter((n) => n === 'getMore').length - before).toBeGreaterThanOrEqual(4);
  });

  it('pages with the keyset continuation filter exactly once per document', async () => {
    const c = coll('keyset');
    const docs = corpus(50);
    await c.insertMany(docs);
    const B = new Date(base + 15_000);
    const expected = docs.filter((d) => (d['updatedAt'] as Date) < B).sort(byUpdatedAtThenId);
    const seen: Document[] = [];
    let filter: Document = { updatedAt: { $gte: new Date(base), $lt: B } };
    for (;;) {
      const page = await c
        .find(filter, { sort: { updatedAt: 1, _id: 1 }, limit: 7, batchSize: 7 })
        .project({ updatedAt: 1 })
        .toArray();
      seen.push(...page);
      const last = page[page.length - 1];
      if (page.length < 7 || !last) break;
      filter = {
        $or: [
          { updatedAt: { $gt: last['updatedAt'], $lt: B } },
          { updatedAt: last['updatedAt'], _id: { $gt: last['_id'] } },
        ],
      };
    }
    expect(seen.map((d) => String(d['_id']))).toEqual(expected.map((d) => String(d['_id'])));
  });

  it('orders mixed types by the BSON comparison order', async () => {
    const c = coll('mixed');
    const oid = new ObjectId();
    const date = new Date(base);
    await c.insertMany([
      { _id: 1, v: date },
      { _id: 2, v: true },
      { _id: 3, v: oid },
      { _id: 4, v: { a: 1 } },
      { _id: 5, v: 'a' },
      { _id: 6, v: 2.5 },
      { _id: 7, v: null },
      { _id: 8, v: Long.fromNumber(-3) },
      { _id: 9 },
    ]);
    const found = await c.find({}, { sort: { v: 1, _id: 1 } }).toArray();
    expect(found.map((d) => d['_id'])).toEqual([7, 9, 8, 6, 5, 4, 3, 2, 1]);
    const desc = await c.find({ v: { $gt: 'Z' } }, { sort: { v: -1 } }).toArray();
    expect(desc.map((d) => d['_id'])).toEqual([5]);
  });

  it('counts documents both ways and aggregates', async () => {
    const c = coll('counts');
    await c.insertMany(corpus(12));
    expect(await c.countDocuments()).toBe(12);
    expect(await c.countDocuments({ lang: 'en' })).toBe(4);
    expect(await c.estimatedDocumentCount()).toBe(12);
    const perLang = await c
      .aggregate([
        { $match: { n: { $gte: 3 } } },
        { $group: { _id: '$lang', docs: { $sum: 1 }, maxN: { $max: '$n' } } },
        { $sort: { _id: 1 } },
        { $project: { _id: 0, lang: '$_id', docs: 1, maxN: 1 } },
      ])
      .toArray();
    expect(perLang).toEqual([
      { docs: 3, maxN: 10, lang: 'de' },
      { docs: 3, maxN: 9, lang: 'en' },
      { docs: 3, maxN: 11, lang: 'fr' },
    ]);
    const counted = await c
      .aggregate([{ $sort: { n: -1 } }, { $skip: 2 }, { $limit: 5 }, { $count: 'total' }], {
        cursor: { batchSize: 1 },
      })
      .toArray();
    expect(counted).toEqual([{ total: 5 }]);
  });

  it('updates with $set and $currentDate, upserts, and deletes', async () => {
    const c = coll('updates');
    await c.insertMany(corpus(6));
    const before = Date.now();
    const res = await c.updateOne(
      { n: 2 },
      { $set: { text: 'changed' }, $currentDate: { updatedAt: true } },
    );
    expect(res).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    const updated = await c.findOne({ n: 2 });
    expect(updated?.['text']).toBe('changed');
    expect(updated?.['updatedAt']).toBeInstanceOf(Date);
    const at = (updated?.['updatedAt'] as Date | undefined)?.getTime() ?? 0;
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);

    expect(await c.updateOne({ n: 2 }, { $set: { text: 'changed' } })).toMatchObject({
      matchedCount: 1,
      modifiedCount: 0,
    });
    const many = await c.updateMany({ lang: 'en' }, { $inc: { n: 100 }, $unset: { text: '' } });
    expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    expect(await c.countDocuments({ n: { $gte: 100 }, text: { $exists: false } })).toBe(2);

    const up = await c.updateOne(
      { _id: 'new-doc', lang: 'nl' },
      { $set: { text: 'hallo' }, $setOnInsert: { n: -1 } },
      { upsert: true },
    );
    expect(up).toMatchObject({ upsertedCount: 1, upsertedId: 'new-doc' });
    expect(await c.findOne({ _id: 'new-doc' })).toEqual({
      _id: 'new-doc',
      lang: 'nl',
      text: 'hallo',
      n: -1,
    });

    expect((await c.deleteMany({ lang: { $in: ['de', 'fr'] } })).deletedCount).toBe(4);
    expect((await c.deleteOne({})).deletedCount).toBe(1);
    expect(await c.countDocuments()).toBe(2);
  });

  it('applies a bulk write sent as OP_MSG document sequences', async () => {
    const c = coll('bulk');
    await c.insertMany([
      { _id: 1, n: 1 },
      { _id: 2, n: 2 },
      { _id: 3, n: 3 },
    ]);
    const result = await c.bulkWrite([
      { insertOne: { document: { _id: 4, n: 4 } } },
      { updateOne: { filter: { _id: 1 }, update: { $inc: { n: 10 } } } },
      { updateMany: { filter: { n: { $gte: 3 } }, update: { $set: { big: true } } } },
      { replaceOne: { filter: { _id: 2 }, replacement: { n: 20 } } },
      { updateOne: { filter: { _id: 5 }, update: { $set: { n: 5 } }, upsert: true } },
      { deleteOne: { filter: { _id: 3 } } },
    ]);
    expect(result).toMatchObject({
      insertedCount: 1,
      matchedCount: 5,
      modifiedCount: 5,
      upsertedCount: 1,
      deletedCount: 1,
    });
    expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
      { _id: 1, n: 11, big: true },
      { _id: 2, n: 20 },
      { _id: 4, n: 4, big: true },
      { _id: 5, n: 5 },
    ]);
  });

  it('creates, lists and drops indexes, and enforces unique keys', async () => {
    const c = coll('indexed');
    await c.insertOne({ _id: 1, key: 'a', updatedAt: new Date(base) });
    expect(await c.createIndex({ updatedAt: 1, _id: 1 })).toBe('updatedAt_1__id_1');
    expect(await c.createIndex({ key: 1 }, { unique: true, name: 'key_unique' })).toBe(
      'key_unique',
    );
    const indexes = await c.listIndexes().toArray();
    expect(indexes.map((i) => i['name'])).toEqual(['_id_', 'updatedAt_1__id_1', 'key_unique']);
    expect(indexes[0]?.['key']).toEqual({ _id: 1 });
    expect(indexes[2]?.['unique']).toBe(true);

    const dup = await c.insertOne({ _id: 2, key: 'a' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(MongoServerError);
    expect((dup as MongoServerError).code).toBe(11000);
    expect((dup as MongoServerError)['keyValue']).toEqual({ key: 'a' });

    const hinted = await c.find({}).hint({ updatedAt: 1, _id: 1 }).toArray();
    expect(hinted).toHaveLength(1);
    const badHint = await c
      .find({})
      .hint('no_such_index')
      .toArray()
      .catch((e: unknown) => e);
    expect(badHint).toMatchObject({ code: 2, codeName: 'BadValue' });
    expect((badHint as MongoServerError).message).toContain('hint provided does not correspond');

    await c.dropIndex('updatedAt_1__id_1');
    expect((await c.listIndexes().toArray()).map((i) => i['name'])).toEqual(['_id_', 'key_unique']);
    const missing = await coll('no_such_coll')
      .listIndexes()
      .toArray()
      .catch((e: unknown) => e);
    expect((missing as MongoServerError).code).toBe(26);
  });

  it('reports a duplicate _id as write error 11000', async () => {
    const c = coll('dups');
    const id = new ObjectId();
    await c.insertOne({ _id: id });
    const single = await c.insertOne({ _id: id }).catch((e: unknown) => e);
    expect(single).toBeInstanceOf(MongoServerError);
    expect((single as MongoServerError).code).toBe(11000);
    expect((single as MongoServerError).message).toContain('E11000 duplicate key error');
    const bulk = await c
      .insertMany([{ _id: new ObjectId() }, { _id: id }, { _id: new ObjectId() }])
      .catch((e: unknown) => e);
    expect(bulk).toBeInstanceOf(MongoBulkWriteError);
    expect((bulk as MongoBulkWriteError).code).toBe(11000);
    expect((bulk as MongoBulkWriteError).insertedCount).toBe(1);
    expect(await c.countDocuments()).toBe(2);
  });

  it('answers unknown commands and cursors with the server error codes', async () => {
    const unknown = await db.command({ noSuchCommand: 1 }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(MongoServerError);
    expect(unknown).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
    const cursor = await db
      .command({ getMore: Long.fromString('1234567890123'), collection: 'sorted' })
      .catch((e: unknown) => e);
    expect(cursor).toMatchObject({ code: 43, codeName: 'CursorNotFound' });
    const killed = await db.command({ killCursors: 'sorted', cursors: [Long.fromNumber(99)] });
    expect(killed['cursorsNotFound']).toHaveLength(1);
    expect(killed['cursorsKilled']).toEqual([]);
  });

  it('lists and drops collections', async () => {
    await coll('to_drop').insertOne({ _id: 1, a: 1 });
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).toContain('to_drop');
    expect(await coll('to_drop').drop()).toBe(true);
    const after = (await db.listCollections({ name: 'to_drop' }).toArray()).map((c) => c.name);
    expect(after).toEqual([]);
  });
});

function text(payload: Binary): string {
  return Buffer.from(payload.buffer.subarray(0, payload.position)).toString();
}

describe('authentication', () => {
  let server: MongoTestServer;
  const user = 'reader';
  const password = 'pa55-w0rd';

  beforeAll(async () => {
    server = await new MongoTestServer({ users: [{ user, password }] }).start();
    server.seed('app', 'docs', [{ _id: 1, lang: 'en' }]);
  });

  afterAll(async () => {
    await server.stop();
  });

  /** Users live in the admin database, as with `--user` on the command line. */
  function uriWith(u: string, p: string, options = ''): string {
    const credentials = `${encodeURIComponent(u)}:${encodeURIComponent(p)}`;
    return `mongodb://${credentials}@${server.host}:${server.port}/app?authSource=admin${options}`;
  }

  it('authenticates with SCRAM-SHA-256 through the speculative handshake', async () => {
    server.resetCounters();
    const client = await connect(uriWith(user, password), { maxPoolSize: 1 });
    expect(await client.db('app').collection('docs').countDocuments()).toBe(1);
    const status = await client.db('admin').command({ connectionStatus: 1 });
    expect(status['authInfo']['authenticatedUsers']).toEqual([{ user, db: 'admin' }]);
    expect(server.commandCounts['saslStart']).toBeUndefined();
    expect(server.commandCounts['saslContinue']).toBeGreaterThanOrEqual(1);
  });

  it('authenticates with SCRAM-SHA-1 when asked', async () => {
    const client = await connect(uriWith(user, password, '&authMechanism=SCRAM-SHA-1'));
    expect(await client.db('app').collection('docs').findOne({})).toEqual({ _id: 1, lang: 'en' });
  });

  it('runs a plain saslStart/saslContinue conversation', async () => {
    const client = await connect(`${server.uri}/app`, { maxPoolSize: 1 });
    const nonce = randomBytes(18).toString('base64');
    const first = `n=${user},r=${nonce}`;
    const start = await client.db('admin').command({
      saslStart: 1,
      mechanism: 'SCRAM-SHA-256',
      payload: new Binary(Buffer.from(`n,,${first}`)),
      options: { skipEmptyExchange: true },
    });
    const serverFirst = text(start['payload'] as Binary);
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    expect(attrs['r']?.startsWith(nonce)).toBe(true);
    expect(Number(attrs['i'])).toBeGreaterThanOrEqual(4096);
    const salted = pbkdf2Sync(
      password,
      Buffer.from(attrs['s'] ?? '', 'base64'),
      Number(attrs['i']),
      32,
      'sha256',
    );
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs['r']}`;
    const authMessage = `${first},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] ?? 0))).toString('base64');
    const done = await client.db('admin').command({
      saslContinue: 1,
      conversationId: start['conversationId'],
      payload: new Binary(Buffer.from(`${withoutProof},p=${proof}`)),
    });
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    const expected = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    expect(done['done']).toBe(true);
    expect(text(done['payload'] as Binary)).toBe(`v=${expected}`);
    expect(await client.db('app').collection('docs').countDocuments()).toBe(1);
  });

  it('refuses a wrong password with code 18 and an unknown user the same way', async () => {
    for (const [u, p] of [
      [user, 'wrong'],
      ['nobody', password],
    ] as const) {
      const err = await connect(uriWith(u, p)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect(err).toMatchObject({
        code: 18,
        codeName: 'AuthenticationFailed',
        errmsg: 'Authentication failed.',
      });
    }
  });

  it('lets an unauthenticated client ping but not read (code 13)', async () => {
    const client = await connect(`${server.uri}/app`);
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    const err = await client
      .db('app')
      .collection('docs')
      .find({})
      .toArray()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({
      code: 13,
      codeName: 'Unauthorized',
      errmsg: 'Command find requires authentication',
    });
  });
});

describe('fault injection and counters', () => {
  let server: MongoTestServer;
  let client: MongoClient;
  const docs = corpus(20);

  beforeAll(async () => {
    server = await new MongoTestServer().start();
    server.seed('db', 'docs', docs);
    client = await connect(`${server.uri}/db`);
  });

  afterEach(() => server.clearFaults());

  afterAll(async () => {
    await server.stop();
  });

  const docsColl = () => client.db('db').collection('docs');

  it('drops the connection once a reply would pass the document budget', async () => {
    server.resetCounters();
    server.dropConnectionAfterDocuments(5);
    const cursor = docsColl().find({}, { batchSize: 2, sort: { n: 1 } });
    const got: unknown[] = [];
    const err = await (async () => {
      for await (const doc of cursor) got.push(doc);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoNetworkError);
    expect(got).toHaveLength(4);
    expect(server.documentsSent).toBe(4);
    await cursor.close().catch(() => undefined);
    expect(await docsColl().find({}).toArray()).toHaveLength(20);
    expect(server.documentsSent).toBe(24);
  });

  it('fails the next getMore with CursorNotFound, then getMores work again', async () => {
    server.failNextGetMore();
    const cursor = docsColl().find({}, { batchSize: 3 });
    expect(await cursor.next()).not.toBeNull();
    const err = await cursor.toArray().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 43, codeName: 'CursorNotFound' });
    const before = server.commandCounts['getMore'] ?? 0;
    expect(await docsColl().find({}, { batchSize: 3 }).toArray()).toHaveLength(20);
    expect((server.commandCounts['getMore'] ?? 0) - before).toBe(6);
  });

  it('fails a getMore with another code when asked', async () => {
    server.failNextGetMore(11600);
    const err = await docsColl()
      .find({}, { batchSize: 5 })
      .toArray()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11600, codeName: 'InterruptedAtShutdown' });
  });

  it('answers reads with NotPrimaryNoSecondaryOk; the driver retries one', async () => {
    const finds = () => server.commandCounts['find'] ?? 0;
    let before = finds();
    server.notPrimary(1);
    expect(await docsColl().find({ n: 1 }).toArray()).toHaveLength(1);
    expect(finds() - before).toBe(2);

    before = finds();
    server.notPrimary(2);
    const err = await docsColl()
      .find({})
      .toArray()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({
      code: 13435,
      codeName: 'NotPrimaryNoSecondaryOk',
      errmsg: 'not primary and secondaryOk=false',
    });
    expect(finds() - before).toBe(2);

    server.notPrimary(2);
    const agg = await docsColl()
      .aggregate([{ $count: 'n' }])
      .toArray()
      .catch((e: unknown) => e);
    expect(agg).toMatchObject({ code: 13435 });
    expect(await docsColl().countDocuments()).toBe(20);
  });

  it('keeps seeded documents with _id first and counts commands by name', () => {
    const stored = server.documents('db', 'docs');
    expect(stored).toHaveLength(20);
    expect(Object.keys(server.documents('db', 'docs')[0] ?? {})[0]).toBe('_id');
    expect(server.commandCounts['ismaster']).toBeGreaterThanOrEqual(1);
    expect(server.connectionCount).toBeGreaterThanOrEqual(1);
  });
});

/** One request over a raw socket: returns the reply's opcode, flags and first document. */
async function rawRequest(
  port: number,
  message: Buffer,
): Promise<{ opCode: number; doc: Document }> {
  const socket = createConnection({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  return await new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('connect', () => socket.write(message));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length < 4 || all.length < all.readInt32LE(0)) return;
      socket.destroy();
      const opCode = all.readInt32LE(12);
      const docAt = opCode === 1 ? 36 : 21;
      resolve({ opCode, doc: BSON.deserialize(all.subarray(docAt)) });
    });
  });
}

function header(length: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(7, 4);
  h.writeInt32LE(opCode, 12);
  return h;
}

describe('wire protocol corners', () => {
  let server: MongoTestServer;

  beforeAll(async () => {
    server = await new MongoTestServer().start();
  });

  afterAll(async () => {
    await server.stop();
  });

  function opQuery(cmd: Document): Buffer {
    const body = Buffer.from(BSON.serialize(cmd));
    const ns = Buffer.from('admin.$cmd\0');
    const fields = Buffer.alloc(8);
    fields.writeInt32LE(-1, 4);
    const length = 16 + 4 + ns.length + 8 + body.length;
    return Buffer.concat([header(length, 2004), Buffer.alloc(4), ns, fields, body]);
  }

  it('answers a legacy OP_QUERY isMaster with OP_REPLY', async () => {
    const reply = await rawRequest(server.port, opQuery({ isMaster: 1, helloOk: true }));
    expect(reply.opCode).toBe(1);
    expect(reply.doc).toMatchObject({ ismaster: true, helloOk: true, maxWireVersion: 21, ok: 1 });
  });

  it('refuses other commands over OP_QUERY like mongod 6+', async () => {
    const reply = await rawRequest(server.port, opQuery({ find: 'x' }));
    expect(reply.doc).toMatchObject({ ok: 0, code: 352, codeName: 'UnsupportedOpQueryCommand' });
  });

  it('accepts an OP_MSG with the checksum flag and a document sequence', async () => {
    const body = Buffer.from(BSON.serialize({ insert: 'seq', $db: 'wire' }));
    const docs = [{ _id: 1 }, { _id: 2 }].map((d) => Buffer.from(BSON.serialize(d)));
    const id = Buffer.from('documents\0');
    const seqSize = Buffer.alloc(4);
    seqSize.writeInt32LE(4 + id.length + docs[0]!.length + docs[1]!.length, 0);
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(1, 0);
    const parts = [
      flags,
      Buffer.from([0]),
      body,
      Buffer.from([1]),
      seqSize,
      id,
      ...docs,
      Buffer.alloc(4),
    ];
    const length = 16 + parts.reduce((n, p) => n + p.length, 0);
    const reply = await rawRequest(server.port, Buffer.concat([header(length, 2013), ...parts]));
    expect(reply.opCode).toBe(2013);
    expect(reply.doc).toEqual({ n: 2, ok: 1 });
    expect(server.documents('wire', 'seq')).toEqual([{ _id: 1 }, { _id: 2 }]);
  });

  it('splits a result larger than 16 MiB across batches', async () => {
    const big = 'x'.repeat(1024 * 1024);
    server.seed(
      'wire',
      'big',
      Array.from({ length: 20 }, (_, i) => ({ _id: i, big })),
    );
    const client = await connect(`${server.uri}/wire`, { monitorCommands: true });
    const batches: number[] = [];
    client.on('commandSucceeded', (e) => {
      const cursor = (e.reply as Document | undefined)?.['cursor'];
      if (cursor) batches.push((cursor['firstBatch'] ?? cursor['nextBatch']).length);
    });
    const docs = await client.db('wire').collection('big').find({}, { batchSize: 1000 }).toArray();
    expect(docs).toHaveLength(20);
    expect(batches).toEqual([15, 5]);
  });
});

describe('100K documents', () => {
  let server: MongoTestServer;

  beforeAll(async () => {
    server = await new MongoTestServer().start();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('inserts in batches and pages through in 10K pages within a few seconds', async () => {
    const client = await connect(`${server.uri}/perf`);
    const c = client.db('perf').collection<AnyDoc>('docs');
    const docs = corpus(100_000);
    const t0 = performance.now();
    for (let i = 0; i < docs.length; i += 10_000) await c.insertMany(docs.slice(i, i + 10_000));
    const insertMs = performance.now() - t0;

    const A = new Date(base);
    const B = new Date(base + 40_000 * 1000);
    const t1 = performance.now();
    let filter: Document = { updatedAt: { $gte: A, $lt: B } };
    let total = 0;
    let pages = 0;
    let previous: Document | undefined;
    for (;;) {
      const page = await c
        .find(filter, {
          sort: { updatedAt: 1, _id: 1 },
          limit: 10_000,
          batchSize: 10_000,
          projection: { lang: 1, text: 1, updatedAt: 1 },
          raw: true,
        })
        .toArray();
      if (page.length === 0) break;
      pages += 1;
      total += page.length;
      const first = BSON.deserialize(page[0] as unknown as Uint8Array);
      if (previous) expect(byUpdatedAtThenId(previous, first)).toBeLessThan(0);
      const last = BSON.deserialize(page[page.length - 1] as unknown as Uint8Array);
      previous = last;
      filter = {
        $or: [
          { updatedAt: { $gt: last['updatedAt'], $lt: B } },
          { updatedAt: last['updatedAt'], _id: { $gt: last['_id'] } },
        ],
      };
    }
    const scanMs = performance.now() - t1;
    console.info(
      `mongo test server: insertMany 100K in ${insertMs.toFixed(0)} ms, ` +
        `${pages} pages / ${total} documents in ${scanMs.toFixed(0)} ms`,
    );
    expect(total).toBe(100_000);
    expect(pages).toBe(10);
    expect(insertMs).toBeLessThan(15_000);
    expect(scanMs).toBeLessThan(10_000);
  });
});

describe('standalone command line', () => {
  let child: ChildProcess | undefined;
  let dir: string;

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves a seeded corpus with authentication until SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mongo-test-server-'));
    const seedFile = join(dir, 'corpus.ndjson');
    await writeFile(
      seedFile,
      [
        '{"_id":"en-1","lang":"en","text":"the cat","updatedAt":"2026-11-01T00:00:00.000Z"}',
        '{"_id":"de-1","lang":"de","text":"der Hund","updatedAt":"2026-11-02T00:00:00Z"}',
        'not json',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        CLI,
        '--port',
        String(port),
        '--user',
        'ops:secret',
        '--seed-file',
        seedFile,
        '--db',
        'corpus',
        '--collection',
        'documents',
        '--date-fields',
        'updatedAt',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) =>
      child?.once('exit', (code) => resolve(code)),
    );
    const stdout = createInterface({ input: child.stdout! });
    const uri = await new Promise<string>((resolve, reject) => {
      stdout.once('line', resolve);
      child?.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    expect(uri).toBe(`mongodb://127.0.0.1:${port}`);

    const client = await connect(`mongodb://ops:secret@127.0.0.1:${port}/corpus?authSource=admin`);
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    const stored = await client
      .db('corpus')
      .collection('documents')
      .find({}, { sort: { _id: 1 } })
      .toArray();
    expect(stored.map((d) => d['_id'])).toEqual(['de-1', 'en-1']);
    expect(stored[0]?.['updatedAt']).toEqual(new Date('2026-11-02T00:00:00Z'));
    await client.close();

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
