// @ts-check
/**
 * Server-side cursors of the MongoDB test server. A query's result is computed when the
 * command runs (as a blocking sort does on a real server) and handed out in batches: the first
 * batch holds `batchSize` documents (101 by default, like mongod), a `getMore` without a
 * batchSize returns everything left, and no batch carries more than 16 MiB of documents (the
 * first document of a batch always goes, as on the server). The cursor closes (id 0) when the
 * last document has been sent, when the limit is reached, or after a single-batch request.
 * Idle cursors are dropped after 10 minutes (mongod's cursorTimeoutMillis).
 */
import { randomBytes } from 'node:crypto';
import { bsonOf, toBson } from './store.mjs';
import { encodeCursorReply } from './wire.mjs';

/** @typedef {Record<string, unknown>} Doc */
/** @typedef {import('./store.mjs').StoredRecord} StoredRecord */

export const MAX_BATCH_BYTES = 16 * 1024 * 1024;
export const DEFAULT_FIRST_BATCH_SIZE = 101;
export const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

/** A reply already encoded as BSON, with the number of documents it carries. */
export class RawReply {
  /** @param {Buffer} body @param {number} documents */
  constructor(body, documents) {
    this.body = body;
    this.documents = documents;
  }
}

/**
 * @typedef {object} ServerCursor
 * @property {bigint} id
 * @property {string} ns
 * @property {Array<StoredRecord | Doc>} items
 * @property {boolean} records whether items are stored records (else plain documents)
 * @property {number} pos
 * @property {((docs: Doc[]) => Doc[]) | null} project
 * @property {number} lastUsed
 */

export class CursorRegistry {
  constructor() {
    /** @type {Map<bigint, ServerCursor>} */
    this.cursors = new Map();
    this.sweeper = setInterval(() => this.sweep(Date.now()), 60_000);
    this.sweeper.unref();
  }

  close() {
    clearInterval(this.sweeper);
    this.cursors.clear();
  }

  /** @param {number} now */
  sweep(now) {
    for (const [id, cursor] of this.cursors) {
      if (now - cursor.lastUsed > CURSOR_TIMEOUT_MS) this.cursors.delete(id);
    }
  }

  newId() {
    for (;;) {
      const id = randomBytes(8).readBigInt64LE(0) & 0x7fffffffffffffffn;
      if (id !== 0n && !this.cursors.has(id)) return id;
    }
  }

  /**
   * Runs a query's first batch; registers a cursor when documents remain.
   * @param {object} options
   * @param {string} options.ns
   * @param {Array<StoredRecord | Doc>} options.items the whole result, after skip and limit
   * @param {boolean} options.records
   * @param {number | undefined} options.batchSize
   * @param {boolean} [options.singleBatch]
   * @param {((docs: Doc[]) => Doc[]) | null} [options.project]
   */
  open(options) {
    /** @type {ServerCursor} */
    const cursor = {
      id: 0n,
      ns: options.ns,
      items: options.items,
      records: options.records,
      pos: 0,
      project: options.project ?? null,
      lastUsed: Date.now(),
    };
    const batch = this.takeBatch(cursor, options.batchSize ?? DEFAULT_FIRST_BATCH_SIZE);
    if (cursor.pos < cursor.items.length && !options.singleBatch) {
      cursor.id = this.newId();
      this.cursors.set(cursor.id, cursor);
    }
    return new RawReply(encodeCursorReply('firstBatch', batch, cursor.id, cursor.ns), batch.length);
  }

  /**
   * The next batch of a registered cursor (the caller has checked it exists).
   * @param {ServerCursor} cursor
   * @param {number | undefined} batchSize
   */
  more(cursor, batchSize) {
    cursor.lastUsed = Date.now();
    const batch = this.takeBatch(cursor, batchSize ?? Number.POSITIVE_INFINITY);
    if (cursor.pos >= cursor.items.length) {
      this.cursors.delete(cursor.id);
      return new RawReply(encodeCursorReply('nextBatch', batch, 0n, cursor.ns), batch.length);
    }
    return new RawReply(encodeCursorReply('nextBatch', batch, cursor.id, cursor.ns), batch.length);
  }

  /**
   * Serialised documents for the next batch, advancing the cursor.
   * @param {ServerCursor} cursor
   * @param {number} maxDocs
   * @returns {Buffer[]}
   */
  takeBatch(cursor, maxDocs) {
    /** @type {Buffer[]} */
    const out = [];
    let bytes = 0;
    while (out.length < maxDocs && cursor.pos < cursor.items.length) {
      const want = Math.min(maxDocs - out.length, 1000, cursor.items.length - cursor.pos);
      const chunk = cursor.items.slice(cursor.pos, cursor.pos + want);
      /** @type {Buffer[]} */
      let encoded;
      if (cursor.project) {
        const docs = cursor.records
          ? chunk.map((r) => /** @type {StoredRecord} */ (r).doc)
          : /** @type {Doc[]} */ (chunk);
        encoded = cursor.project(docs).map((d) => toBson(d));
      } else if (cursor.records) {
        encoded = chunk.map((r) => bsonOf(/** @type {StoredRecord} */ (r)));
      } else {
        encoded = chunk.map((d) => toBson(/** @type {Doc} */ (d)));
      }
      for (const buf of encoded) {
        if (out.length > 0 && bytes + buf.length > MAX_BATCH_BYTES) return out;
        out.push(buf);
        bytes += buf.length;
        cursor.pos += 1;
      }
    }
    return out;
  }
}
