// @ts-check
/**
 * Catalogue and administrative commands of the MongoDB test server: ping, buildInfo,
 * getParameter, endSessions, listDatabases, listCollections, create, drop, dropDatabase,
 * createIndexes, listIndexes, dropIndexes. Replies follow mongod 7.0 (e.g. dropping a
 * collection that does not exist succeeds, as it does since 7.0).
 */
import { collectionName, nonNegative } from './args.mjs';
import { CommandError, typeMismatch } from './errors.mjs';
import { compileFilter, isPlainObject } from './query.mjs';
import { toBson } from './store.mjs';

/** @typedef {Record<string, unknown>} Doc */
/** @typedef {import('./args.mjs').CommandContext} CommandContext */
/** @typedef {import('./store.mjs').IndexSpec} IndexSpec */

export const SERVER_VERSION = '7.0.0';

export function ping() {
  return { ok: 1 };
}

export function buildInfo() {
  return {
    version: SERVER_VERSION,
    gitVersion: 'stopword-refresh-mongo-test-server',
    modules: [],
    allocator: 'system',
    javascriptEngine: 'none',
    sysInfo: 'deprecated',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['inMemory'],
    ok: 1,
  };
}

/** @param {Doc} cmd */
export function getParameter(cmd) {
  /** @type {Doc} */
  const known = {
    featureCompatibilityVersion: { version: '7.0' },
    authenticationMechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
    cursorTimeoutMillis: 600000,
  };
  const all =
    cmd.getParameter === '*' ||
    (isPlainObject(cmd.getParameter) && /** @type {Doc} */ (cmd.getParameter).allParameters);
  /** @type {Doc} */
  const reply = {};
  for (const [name, value] of Object.entries(known)) {
    if (all || name in cmd) reply[name] = value;
  }
  if (Object.keys(reply).length === 0) throw new CommandError(72, 'no option found to get');
  return { ...reply, ok: 1 };
}

export function endSessions() {
  return { ok: 1 };
}

/** @param {Doc} _cmd @param {CommandContext} ctx */
export function listDatabases(_cmd, ctx) {
  if (ctx.db !== 'admin') {
    throw new CommandError(13, 'listDatabases may only be run against the admin database.');
  }
  const databases = [];
  let totalSize = 0;
  for (const [name, collections] of ctx.store.databases) {
    let sizeOnDisk = 0;
    for (const coll of collections.values()) {
      for (const record of coll.records.values()) sizeOnDisk += record.bson?.length ?? 0;
    }
    totalSize += sizeOnDisk;
    databases.push({ name, sizeOnDisk, empty: false });
  }
  return { databases, totalSize, totalSizeMb: Math.floor(totalSize / 1024 / 1024), ok: 1 };
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function listCollections(cmd, ctx) {
  const nameOnly = cmd.nameOnly === true;
  const test = compileFilter(cmd.filter);
  const infos = [];
  for (const coll of ctx.store.databases.get(ctx.db)?.values() ?? []) {
    /** @type {Doc} */
    const info = nameOnly
      ? { name: coll.name, type: 'collection' }
      : {
          name: coll.name,
          type: 'collection',
          options: {},
          info: { readOnly: false, uuid: coll.uuid },
          idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
        };
    if (test === null || test(info)) infos.push(info);
  }
  const cursor = isPlainObject(cmd.cursor) ? /** @type {Doc} */ (cmd.cursor) : {};
  return ctx.cursors.open({
    ns: `${ctx.db}.$cmd.listCollections`,
    items: infos,
    records: false,
    batchSize: nonNegative(cursor, 'batchSize'),
  });
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function create(cmd, ctx) {
  const name = collectionName(cmd, 'create');
  if (ctx.store.collection(ctx.db, name)) {
    throw new CommandError(48, `Collection ${ctx.db}.${name} already exists.`);
  }
  ctx.store.collection(ctx.db, name, true);
  return { ok: 1 };
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function drop(cmd, ctx) {
  const name = collectionName(cmd, 'drop');
  const dropped = ctx.store.dropCollection(ctx.db, name);
  if (!dropped) return { ok: 1 };
  return { nIndexesWas: dropped.indexes.length, ns: dropped.ns, ok: 1 };
}

/** @param {Doc} _cmd @param {CommandContext} ctx */
export function dropDatabase(_cmd, ctx) {
  return ctx.store.dropDatabase(ctx.db) ? { dropped: ctx.db, ok: 1 } : { ok: 1 };
}

/** Key patterns compare by field order and value. */
function sameKey(/** @type {Doc} */ a, /** @type {Doc} */ b) {
  return toBson(a).equals(toBson(b));
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function createIndexes(cmd, ctx) {
  const name = collectionName(cmd, 'createIndexes');
  const specs = cmd.indexes;
  if (!Array.isArray(specs)) throw typeMismatch('indexes', 'array', specs);
  if (specs.length === 0) throw new CommandError(2, 'Must specify at least one index to create');
  const existed = ctx.store.collection(ctx.db, name) !== undefined;
  const coll = /** @type {import('./store.mjs').Collection} */ (
    ctx.store.collection(ctx.db, name, true)
  );
  const before = coll.indexes.length;
  for (const raw of specs) {
    if (!isPlainObject(raw)) throw typeMismatch('indexes', 'object', raw);
    const { key, name: indexName, v: _v, ns: _ns, ...options } = /** @type {Doc} */ (raw);
    if (!isPlainObject(key) || Object.keys(/** @type {Doc} */ (key)).length === 0) {
      throw new CommandError(
        67,
        "Error in specification { } :: caused by :: The 'key' field must be a non-empty object",
      );
    }
    if (typeof indexName !== 'string' || indexName === '') {
      throw new CommandError(
        9,
        "Error in specification :: caused by :: The 'name' field is a required property of an index specification",
      );
    }
    const keyDoc = /** @type {Doc} */ (key);
    const sameName = coll.indexes.find((s) => s.name === indexName);
    const sameKeys = coll.indexes.find((s) => sameKey(s.key, keyDoc));
    if (sameName) {
      if (sameKey(sameName.key, keyDoc)) continue;
      throw new CommandError(
        86,
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: { v: 2, key: ${JSON.stringify(keyDoc)}, name: "${indexName}" }, existing index: { v: 2, key: ${JSON.stringify(sameName.key)}, name: "${sameName.name}" }`,
      );
    }
    if (sameKeys && Boolean(sameKeys.unique) === Boolean(options.unique)) {
      throw new CommandError(85, `Index already exists with a different name: ${sameKeys.name}`);
    }
    /** @type {IndexSpec} */
    const spec = { v: 2, key: keyDoc, name: indexName, ...options };
    coll.addIndex(spec);
  }
  /** @type {Doc} */
  const reply = { numIndexesBefore: before, numIndexesAfter: coll.indexes.length };
  if (coll.indexes.length === before) reply.note = 'all indexes already exist';
  else reply.createdCollectionAutomatically = !existed;
  reply.ok = 1;
  return reply;
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function listIndexes(cmd, ctx) {
  const name = collectionName(cmd, 'listIndexes');
  const coll = ctx.store.collection(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  const cursor = isPlainObject(cmd.cursor) ? /** @type {Doc} */ (cmd.cursor) : {};
  return ctx.cursors.open({
    ns: coll.ns,
    items: coll.indexes.map((spec) => ({ ...spec })),
    records: false,
    batchSize: nonNegative(cursor, 'batchSize'),
  });
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function dropIndexes(cmd, ctx) {
  const name = collectionName(cmd, 'dropIndexes');
  const coll = ctx.store.collection(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns not found ${ctx.db}.${name}`);
  const nIndexesWas = coll.indexes.length;
  const index = cmd.index;
  if (index === '*') {
    for (const spec of coll.indexes.slice(1)) coll.dropIndex(spec.name);
    return { nIndexesWas, msg: 'non-_id indexes dropped for collection', ok: 1 };
  }
  /** @type {string[]} */
  const names = [];
  for (const target of Array.isArray(index) ? index : [index]) {
    const spec =
      typeof target === 'string'
        ? coll.indexes.find((s) => s.name === target)
        : isPlainObject(target)
          ? coll.indexes.find((s) => sameKey(s.key, /** @type {Doc} */ (target)))
          : undefined;
    if (!spec) {
      const what =
        typeof target === 'string'
          ? `with name [${target}]`
          : `with key pattern ${JSON.stringify(target)}`;
      throw new CommandError(27, `index not found ${what}`);
    }
    if (spec.name === '_id_') throw new CommandError(72, 'cannot drop _id index');
    names.push(spec.name);
  }
  for (const n of names) coll.dropIndex(n);
  return { nIndexesWas, ok: 1 };
}
