// @ts-check
/**
 * Query and write commands of the MongoDB test server: find, getMore, killCursors, aggregate,
 * count, distinct, insert, update, delete. Replies and errors follow mongod 7.0: write errors
 * are reported per statement in `writeErrors` with `ok: 1`; an ordered write stops at the first
 * error; `n` counts the documents inserted, matched (plus upserted) or deleted.
 */
import { deserialize, ObjectId } from 'bson';
import { bool, collectionName, cursorId, documentList, nonNegative } from './args.mjs';
import { canonicalKey, getPath, sortBySpec } from './compare.mjs';
import { CommandError, codeName, typeMismatch } from './errors.mjs';
import {
  compileFilter,
  compileProjection,
  idEqualityKey,
  isPlainObject,
  parseSort,
  runPipeline,
} from './query.mjs';
import { bsonOf, toBson, withId } from './store.mjs';
import { applyUpdate, upsertSeed } from './update.mjs';

/** @typedef {Record<string, unknown>} Doc */
/** @typedef {import('./args.mjs').CommandContext} CommandContext */
/** @typedef {import('./store.mjs').StoredRecord} StoredRecord */
/** @typedef {import('./store.mjs').Collection} Collection */

const MAX_WRITE_BATCH_SIZE = 100_000;

/**
 * The stored records a filter selects, in natural order.
 * @param {Collection | undefined} coll
 * @param {unknown} filter
 * @param {number} [max] stop after this many
 * @returns {StoredRecord[]}
 */
export function matchRecords(coll, filter, max = Number.POSITIVE_INFINITY) {
  if (!coll) return [];
  const key = idEqualityKey(filter);
  if (key !== null) {
    const record = coll.records.get(key);
    return record ? [record] : [];
  }
  const test = compileFilter(filter);
  /** @type {StoredRecord[]} */
  const out = [];
  for (const record of coll.records.values()) {
    if (test === null || test(record.doc)) {
      out.push(record);
      if (out.length >= max) break;
    }
  }
  return out;
}

/**
 * A `hint` must name an existing index (by name or key pattern) or be `{ $natural: ±1 }`;
 * the hinted index is not otherwise used.
 * @param {Collection | undefined} coll
 * @param {unknown} hint
 */
function checkHint(coll, hint) {
  if (hint === undefined || hint === null || !coll) return;
  if (isPlainObject(hint)) {
    const keys = Object.keys(/** @type {Doc} */ (hint));
    if (keys.length === 0 || (keys.length === 1 && keys[0] === '$natural')) return;
    const pattern = toBson(/** @type {Doc} */ (hint));
    if (coll.indexes.some((spec) => toBson(spec.key).equals(pattern))) return;
  } else if (typeof hint === 'string') {
    if (hint === '' || coll.indexes.some((spec) => spec.name === hint)) return;
  } else {
    throw new CommandError(9, 'hint must be a string or an object');
  }
  throw new CommandError(
    2,
    'error processing query: planner returned error :: caused by :: hint provided does not correspond to an existing index',
  );
}

/** The error a read answers while the server plays a node that is no longer primary. */
function checkPrimary(/** @type {CommandContext} */ ctx) {
  if (!ctx.faults.takeNotPrimary()) return;
  // The error carries the topology version of the moment the node was not primary.
  throw new CommandError(13435, 'not primary and secondaryOk=false', {
    topologyVersion: ctx.stepDownAndUp(),
  });
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function find(cmd, ctx) {
  const name = collectionName(cmd, 'find');
  checkPrimary(ctx);
  const sort = parseSort(cmd.sort);
  const project = compileProjection(cmd.projection);
  const skip = nonNegative(cmd, 'skip') ?? 0;
  const limit = nonNegative(cmd, 'limit') ?? 0;
  const batchSize = nonNegative(cmd, 'batchSize');
  const singleBatch = bool(cmd, 'singleBatch');
  if (cmd.tailable)
    throw new CommandError(
      2,
      'error processing query: tailable cursor requested on non capped collection',
    );
  const coll = ctx.store.collection(ctx.db, name);
  checkHint(coll, cmd.hint);
  let records = matchRecords(coll, cmd.filter);
  if (sort.length > 0) sortBySpec(records, sort, (r) => r.doc);
  if (skip > 0 || limit > 0) records = records.slice(skip, limit > 0 ? skip + limit : undefined);
  return ctx.cursors.open({
    ns: `${ctx.db}.${name}`,
    items: records,
    records: true,
    batchSize: limit > 0 && batchSize === undefined ? Math.min(limit, 101) : batchSize,
    singleBatch,
    project,
  });
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function getMore(cmd, ctx) {
  const id = cursorId(cmd.getMore, 'getMore');
  const collection = cmd.collection;
  if (typeof collection !== 'string') throw typeMismatch('collection', 'string', collection);
  const batchSize = nonNegative(cmd, 'batchSize');
  const cursor = ctx.cursors.cursors.get(id);
  const injected = ctx.faults.takeGetMoreFailure();
  if (injected !== null) {
    // A getMore that fails kills its cursor on a real server too.
    ctx.cursors.cursors.delete(id);
    throw new CommandError(
      injected,
      injected === 43 ? `cursor id ${id} not found` : codeName(injected),
    );
  }
  if (!cursor) throw new CommandError(43, `cursor id ${id} not found`);
  const ns = `${ctx.db}.${collection}`;
  if (cursor.ns !== ns && !cursor.ns.startsWith(`${ctx.db}.$cmd`)) {
    throw new CommandError(
      13,
      `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
    );
  }
  return ctx.cursors.more(cursor, batchSize === 0 ? undefined : batchSize);
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function killCursors(cmd, ctx) {
  collectionName(cmd, 'killCursors');
  const ids = documentList(cmd, 'killCursors', 'cursors');
  /** @type {unknown[]} */
  const killed = [];
  /** @type {unknown[]} */
  const notFound = [];
  for (const raw of ids) {
    const id = cursorId(raw, 'cursors');
    (ctx.cursors.cursors.delete(id) ? killed : notFound).push(raw);
  }
  return {
    cursorsKilled: killed,
    cursorsNotFound: notFound,
    cursorsAlive: [],
    cursorsUnknown: [],
    ok: 1,
  };
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function aggregate(cmd, ctx) {
  const target = cmd.aggregate;
  const pipeline = cmd.pipeline;
  if (!Array.isArray(pipeline)) throw typeMismatch('pipeline', 'array', pipeline);
  if (cmd.explain) throw new CommandError(115, 'explain is not supported by this test server');
  if (!isPlainObject(cmd.cursor)) {
    throw new CommandError(
      9,
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  checkPrimary(ctx);
  const batchSize = nonNegative(/** @type {Doc} */ (cmd.cursor), 'batchSize');
  /** @type {Doc[]} */
  let input = [];
  let ns = `${ctx.db}.$cmd.aggregate`;
  if (target !== 1) {
    const name = collectionName(cmd, 'aggregate');
    ns = `${ctx.db}.${name}`;
    const coll = ctx.store.collection(ctx.db, name);
    checkHint(coll, cmd.hint);
    input = coll ? Array.from(coll.records.values(), (r) => r.doc) : [];
  }
  const resolve = (/** @type {string} */ other) => {
    const coll = ctx.store.collection(ctx.db, other);
    return coll ? Array.from(coll.records.values(), (r) => r.doc) : [];
  };
  const results = runPipeline(input, pipeline, resolve);
  return ctx.cursors.open({ ns, items: results, records: false, batchSize });
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function count(cmd, ctx) {
  const name = collectionName(cmd, 'count');
  const skip = nonNegative(cmd, 'skip') ?? 0;
  const rawLimit = typeof cmd.limit === 'number' ? Math.abs(cmd.limit) : 0;
  const coll = ctx.store.collection(ctx.db, name);
  checkHint(coll, cmd.hint);
  const query = cmd.query;
  let n =
    query === undefined ||
    (isPlainObject(query) && Object.keys(/** @type {Doc} */ (query)).length === 0)
      ? (coll?.records.size ?? 0)
      : matchRecords(coll, query).length;
  n = Math.max(0, n - skip);
  if (rawLimit > 0) n = Math.min(n, rawLimit);
  return { n, ok: 1 };
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function distinct(cmd, ctx) {
  const name = collectionName(cmd, 'distinct');
  const key = cmd.key;
  if (typeof key !== 'string') throw typeMismatch('key', 'string', key);
  /** @type {Map<string, unknown>} */
  const values = new Map();
  for (const record of matchRecords(ctx.store.collection(ctx.db, name), cmd.query)) {
    const v = getPath(record.doc, key);
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item !== undefined) values.set(canonicalKey(item), item);
    }
  }
  return { values: [...values.values()], ok: 1 };
}

/**
 * Records a statement's failure as a write error; true if an ordered batch must stop.
 * @param {unknown} err
 * @param {number} index
 * @param {Doc[]} writeErrors
 * @param {boolean} ordered
 */
function writeError(err, index, writeErrors, ordered) {
  if (!(err instanceof CommandError)) throw err;
  writeErrors.push({ index, code: err.code, errmsg: err.message, ...err.extra });
  return ordered;
}

/** @param {number} n */
function checkBatchSize(n) {
  if (n < 1 || n > MAX_WRITE_BATCH_SIZE) {
    throw new CommandError(
      16,
      `Write batch sizes must be between 1 and ${MAX_WRITE_BATCH_SIZE}. Got ${n} operations.`,
    );
  }
}

/** @param {Doc} doc */
function checkId(doc) {
  const id = doc._id;
  if (Array.isArray(id)) throw new CommandError(53, "The '_id' value cannot be of type array");
  if (id instanceof RegExp) throw new CommandError(53, "can't use a regex for _id");
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function insert(cmd, ctx) {
  const name = collectionName(cmd, 'insert');
  const docs = documentList(cmd, 'insert', 'documents');
  checkBatchSize(docs.length);
  const raw = ctx.sequences.get('documents');
  const ordered = bool(cmd, 'ordered', true);
  const coll = /** @type {Collection} */ (ctx.store.collection(ctx.db, name, true));
  /** @type {Doc[]} */
  const writeErrors = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    let doc = /** @type {Doc} */ (docs[i]);
    // A view into the request message: the stored bytes are exactly those the client sent.
    let bson = raw?.[i] ?? null;
    try {
      // mongod stores _id as the first field (drivers append the _id they generate).
      const withFirstId = withId(doc);
      if (withFirstId !== doc) {
        doc = withFirstId;
        bson = null;
      }
      checkId(doc);
      coll.insert(doc, bson);
      n += 1;
    } catch (err) {
      if (writeError(err, i, writeErrors, ordered)) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function update(cmd, ctx) {
  const name = collectionName(cmd, 'update');
  const statements = documentList(cmd, 'update', 'updates');
  checkBatchSize(statements.length);
  const ordered = bool(cmd, 'ordered', true);
  /** @type {Doc[]} */
  const writeErrors = [];
  /** @type {Doc[]} */
  const upserted = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < statements.length; i++) {
    const st = /** @type {Doc} */ (statements[i]);
    try {
      const multi = bool(st, 'multi');
      const upsert = bool(st, 'upsert');
      const u = st.u;
      const replacement =
        isPlainObject(u) && !Object.keys(/** @type {Doc} */ (u))[0]?.startsWith('$');
      if (multi && replacement) {
        throw new CommandError(9, 'multi update is not supported for replacement-style update');
      }
      const coll = ctx.store.collection(ctx.db, name);
      const matched = matchRecords(coll, st.q, multi ? undefined : 1);
      for (const record of matched) {
        const next = applyUpdate(record.doc, u, { arrayFilters: st.arrayFilters });
        const bson = toBson(next);
        if (!bson.equals(bsonOf(record))) {
          /** @type {Collection} */ (coll).replace(record, next, bson);
          nModified += 1;
        }
        n += 1;
      }
      if (matched.length === 0 && upsert) {
        const seed = upsertSeed(st.q);
        const built = replacement
          ? applyUpdate({ _id: seed._id }, u, {})
          : applyUpdate(seed, u, { arrayFilters: st.arrayFilters, inserting: true });
        const { _id, ...rest } = built;
        const doc = { _id: _id ?? new ObjectId(), ...rest };
        checkId(doc);
        /** @type {Collection} */ (ctx.store.collection(ctx.db, name, true)).insert(doc, null);
        upserted.push({ index: i, _id: doc._id });
        n += 1;
      }
    } catch (err) {
      if (writeError(err, i, writeErrors, ordered)) break;
    }
  }
  /** @type {Doc} */
  const reply = { n };
  if (upserted.length > 0) reply.upserted = upserted;
  reply.nModified = nModified;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
}

/** @param {Doc} cmd @param {CommandContext} ctx */
export function remove(cmd, ctx) {
  const name = collectionName(cmd, 'delete');
  const statements = documentList(cmd, 'delete', 'deletes');
  checkBatchSize(statements.length);
  const ordered = bool(cmd, 'ordered', true);
  /** @type {Doc[]} */
  const writeErrors = [];
  let n = 0;
  for (let i = 0; i < statements.length; i++) {
    const st = /** @type {Doc} */ (statements[i]);
    try {
      const limit = st.limit;
      if (limit !== 0 && limit !== 1) {
        throw new CommandError(
          9,
          `The limit field in delete objects must be 0 or 1. Got ${String(limit)}`,
        );
      }
      const coll = ctx.store.collection(ctx.db, name);
      for (const record of matchRecords(coll, st.q, limit === 1 ? 1 : undefined)) {
        /** @type {Collection} */ (coll).remove(record);
        n += 1;
      }
    } catch (err) {
      if (writeError(err, i, writeErrors, ordered)) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

/** Decodes OP_MSG document sequences into the command, as the server's parser merges them. */
export function mergeSequences(
  /** @type {Doc} */ cmd,
  /** @type {Map<string, Buffer[]>} */ sequences,
) {
  for (const [field, docs] of sequences) {
    if (field in cmd) {
      throw new CommandError(40413, `Duplicate field '${field}' in command and document sequence`);
    }
    cmd[field] = docs.map((d) => deserialize(d));
  }
  return cmd;
}
