// @ts-check
/**
 * In-memory storage of the MongoDB test server: databases, collections, documents and index
 * specifications. A collection keeps its documents in insertion order (the "natural order" a
 * collection scan returns), keyed by their `_id`; each document is held decoded, for queries,
 * and as BSON, so a document is returned with exactly the bytes it was inserted with until it is
 * updated. Unique indexes are enforced (on whole field values; an array value is one key, not
 * one key per element); other indexes are only recorded so `listIndexes` shows them.
 */
import { ObjectId, serialize, UUID } from 'bson';
import { Query } from 'mingo';
import { canonicalKey, getPath } from './compare.mjs';
import { CommandError } from './errors.mjs';

/** @typedef {Record<string, unknown>} Doc */
/** @typedef {{ doc: Doc, bson: Buffer | null, idKey: string }} StoredRecord */
/**
 * @typedef {{ v: number, key: Record<string, unknown>, name: string, unique?: boolean,
 *   sparse?: boolean, partialFilterExpression?: Doc, [option: string]: unknown }} IndexSpec
 */

/** bson's serialize, typed as the Buffer it returns under Node. */
export function toBson(/** @type {Doc} */ doc) {
  const bytes = serialize(doc);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The BSON of a stored document, serialised on first use. */
export function bsonOf(/** @type {StoredRecord} */ record) {
  if (record.bson === null) record.bson = toBson(record.doc);
  return record.bson;
}

/** Formats a key value like the server's duplicate-key messages: `{ _id: ObjectId('…') }`. */
export function formatKeyValue(/** @type {Doc} */ keyValue) {
  const parts = Object.entries(keyValue).map(([k, v]) => `${k}: ${formatValue(v)}`);
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

/** @param {unknown} v @returns {string} */
function formatValue(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  const x = /** @type {any} */ (v);
  if (x._bsontype === 'ObjectId') return `ObjectId('${x.toHexString()}')`;
  if (Array.isArray(v)) return `[ ${v.map(formatValue).join(', ')} ]`;
  if (x._bsontype === undefined) return formatKeyValue(x);
  return String(v);
}

export class Collection {
  /** @param {string} db @param {string} name */
  constructor(db, name) {
    this.db = db;
    this.name = name;
    this.ns = `${db}.${name}`;
    this.uuid = new UUID();
    /** @type {Map<string, StoredRecord>} canonical `_id` key → record, in insertion order */
    this.records = new Map();
    /** @type {IndexSpec[]} */
    this.indexes = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
    /** @type {Map<string, Map<string, string>>} unique index name → key → record `_id` key */
    this.uniqueKeys = new Map();
  }

  /** The key of `doc` in a unique index, or null when the index does not cover it. */
  uniqueKey(/** @type {IndexSpec} */ spec, /** @type {Doc} */ doc) {
    const values = Object.keys(spec.key).map((path) => getPath(doc, path));
    if (spec.sparse && values.every((v) => v === undefined)) return null;
    if (spec.partialFilterExpression) {
      const filter = new Query(spec.partialFilterExpression, {});
      if (!filter.test(doc)) return null;
    }
    return values.map((v) => canonicalKey(v ?? null)).join('|');
  }

  /** @param {IndexSpec} spec @param {Doc} doc @returns {CommandError} */
  duplicateKeyError(spec, doc) {
    /** @type {Doc} */
    const keyValue = {};
    for (const path of Object.keys(spec.key)) keyValue[path] = getPath(doc, path) ?? null;
    return new CommandError(
      11000,
      `E11000 duplicate key error collection: ${this.ns} index: ${spec.name} dup key: ${formatKeyValue(keyValue)}`,
      { keyPattern: spec.key, keyValue },
    );
  }

  /** Throws the duplicate-key error if `doc` (stored under `idKey`) breaks a unique index. */
  checkUnique(/** @type {Doc} */ doc, /** @type {string} */ idKey) {
    for (const spec of this.indexes) {
      if (!spec.unique) continue;
      const key = this.uniqueKey(spec, doc);
      const owner = key === null ? undefined : this.uniqueKeys.get(spec.name)?.get(key);
      if (owner !== undefined && owner !== idKey) throw this.duplicateKeyError(spec, doc);
    }
  }

  /** @param {Doc} doc @param {string} idKey @param {1 | -1} delta add or remove the keys */
  indexUnique(doc, idKey, delta) {
    for (const spec of this.indexes) {
      if (!spec.unique) continue;
      const key = this.uniqueKey(spec, doc);
      if (key === null) continue;
      const keys = this.uniqueKeys.get(spec.name);
      if (delta > 0) keys?.set(key, idKey);
      else if (keys?.get(key) === idKey) keys.delete(key);
    }
  }

  /**
   * Stores a new document (which must have an `_id`). Throws the duplicate-key error.
   * @param {Doc} doc
   * @param {Buffer | null} bson its exact BSON, when known
   */
  insert(doc, bson) {
    const idKey = canonicalKey(doc._id);
    if (this.records.has(idKey)) {
      throw this.duplicateKeyError(/** @type {IndexSpec} */ (this.indexes[0]), doc);
    }
    this.checkUnique(doc, idKey);
    const record = { doc, bson, idKey };
    this.records.set(idKey, record);
    this.indexUnique(doc, idKey, 1);
    return record;
  }

  /**
   * Replaces a stored document with its updated version (same `_id`).
   * @param {StoredRecord} record
   * @param {Doc} doc
   * @param {Buffer | null} bson
   */
  replace(record, doc, bson) {
    this.checkUnique(doc, record.idKey);
    this.indexUnique(record.doc, record.idKey, -1);
    const next = { doc, bson, idKey: record.idKey };
    this.records.set(record.idKey, next);
    this.indexUnique(doc, record.idKey, 1);
    return next;
  }

  remove(/** @type {StoredRecord} */ record) {
    this.indexUnique(record.doc, record.idKey, -1);
    this.records.delete(record.idKey);
  }

  /** Adds an index; builds (and checks) its unique keys first. */
  addIndex(/** @type {IndexSpec} */ spec) {
    if (spec.unique) {
      /** @type {Map<string, string>} */
      const keys = new Map();
      for (const record of this.records.values()) {
        const key = this.uniqueKey(spec, record.doc);
        if (key === null) continue;
        if (keys.has(key)) throw this.duplicateKeyError(spec, record.doc);
        keys.set(key, record.idKey);
      }
      this.uniqueKeys.set(spec.name, keys);
    }
    this.indexes.push(spec);
  }

  dropIndex(/** @type {string} */ name) {
    this.indexes = this.indexes.filter((spec) => spec.name !== name);
    this.uniqueKeys.delete(name);
  }
}

export class Store {
  constructor() {
    /** @type {Map<string, Map<string, Collection>>} database → collections */
    this.databases = new Map();
  }

  /**
   * @param {string} db
   * @param {string} name
   * @param {boolean} [create] create the collection (and database) if missing, as writes do
   * @returns {Collection | undefined}
   */
  collection(db, name, create = false) {
    let collections = this.databases.get(db);
    if (!collections) {
      if (!create) return undefined;
      collections = new Map();
      this.databases.set(db, collections);
    }
    let coll = collections.get(name);
    if (!coll && create) {
      validateCollectionName(db, name);
      coll = new Collection(db, name);
      collections.set(name, coll);
    }
    return coll;
  }

  /** @param {string} db @param {string} name @returns {Collection | undefined} the dropped one */
  dropCollection(db, name) {
    const collections = this.databases.get(db);
    const coll = collections?.get(name);
    if (!collections || !coll) return undefined;
    collections.delete(name);
    if (collections.size === 0) this.databases.delete(db);
    return coll;
  }

  /** @param {string} db */
  dropDatabase(db) {
    return this.databases.delete(db);
  }
}

/** @param {string} db @param {string} name */
function validateCollectionName(db, name) {
  if (name === '' || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw new CommandError(73, `Invalid collection name: ${db}.${name}`);
  }
  if (db === '' || /[/\\. "$\0]/.test(db)) {
    throw new CommandError(73, `Invalid database name: '${db}'`);
  }
}

/**
 * Makes `_id` the first field, generating an ObjectId if missing, as the server does on insert.
 * @param {Doc} doc
 * @returns {Doc}
 */
export function withId(doc) {
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  if (Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}
