/**
 * MongoSource against a server (the test server, or TEST_MONGODB_URI): pages end early when their
 * documents are large, and every document of the window is read exactly once, in key order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanBsonChunk } from '../../src/analysis/bson-chunk.js';
import { MongoSource } from '../../src/corpus/mongo-source.js';
import {
  insertAll,
  type MongoTarget,
  ON_TEST_SERVER,
  startMongo,
} from '../support/mongo-target.js';

let mongo: MongoTarget;

beforeAll(async () => {
  mongo = await startMongo();
});

afterAll(async () => {
  await mongo?.stop();
});

const FIELDS = {
  id: '_id',
  lang: 'lang',
  text: ['text'],
  updatedAt: 'updatedAt',
  deleted: 'deletedAt',
};

async function readAll(database: string, pageSize: number, pageBytes?: number) {
  const source = await MongoSource.open({
    uri: mongo.uri(database),
    database,
    collection: 'documents',
    fields: FIELDS,
    readPreference: 'primary',
    maxStalenessSeconds: 0,
    connectTimeoutSeconds: 5,
    retries: 0,
    pageSize,
    ...(pageBytes === undefined ? {} : { pageBytes }),
  });
  const ids: string[] = [];
  try {
    for await (const chunk of source.chunks(
      { fromMs: null, toMs: Date.parse('2026-12-01T00:00:00Z') },
      new AbortController().signal,
    )) {
      if (chunk.kind !== 'bson') throw new Error(`unexpected ${chunk.kind} chunk`);
      scanBsonChunk(chunk.bytes, (_index, value) => {
        if (typeof value === 'string') throw new Error(`undecodable document: ${value}`);
        ids.push(String((value.parsed as { _id: unknown })._id));
      });
    }
  } finally {
    await source.close();
  }
  return ids;
}

describe('MongoSource paging', () => {
  it('ends a page early when its documents pass pageBytes, and still reads each once', async () => {
    const database = mongo.database('bigdocs');
    const text = 'x'.repeat(1_000_000);
    const docs = Array.from({ length: 40 }, (_, i) => ({
      _id: `d${String(i).padStart(2, '0')}`,
      lang: 'en',
      text,
      // Four timestamps: page ends fall inside ties.
      updatedAt: new Date(Date.parse('2026-11-01T00:00:00Z') + (i % 4) * 1000),
    }));
    await insertAll(mongo.client, database, 'documents', docs);
    const finds = mongo.server?.commandCounts['find'] ?? 0;
    const ids = await readAll(database, 1000, 8 * 1024 * 1024);
    const expected = [...docs]
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a._id < b._id ? -1 : 1))
      .map((d) => d._id);
    expect(ids).toEqual(expected);
    if (ON_TEST_SERVER) {
      // 40 MB in batches of at most 16 MiB, each page ended after 8 MB: several page queries.
      expect((mongo.server?.commandCounts['find'] ?? 0) - finds).toBeGreaterThanOrEqual(3);
    }
  }, 60_000);

  it('reads a window in pages of one document, in (updatedAt, _id) order', async () => {
    const database = mongo.database('tiny');
    const docs = Array.from({ length: 25 }, (_, i) => ({
      _id: `t${String(24 - i).padStart(2, '0')}`,
      lang: 'en',
      text: 'the text',
      updatedAt: new Date(Date.parse('2026-11-01T00:00:00Z') + (i % 3) * 1000),
    }));
    await insertAll(mongo.client, database, 'documents', docs);
    const ids = await readAll(database, 1);
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
    const expected = [...docs]
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a._id < b._id ? -1 : 1))
      .map((d) => d._id);
    expect(ids).toEqual(expected);
  });
});
