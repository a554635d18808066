// @ts-check
/**
 * Updates of the MongoDB test server: replacement documents, update-operator documents
 * (applied by mingo, except `$currentDate`, which is done here so `{ $type: 'timestamp' }`
 * gives a BSON timestamp, and `$setOnInsert`, which mingo does not know) and pipeline updates;
 * the `_id` of a document cannot change; an upsert starts from the equality conditions of its
 * filter.
 */
import { Timestamp } from 'bson';
import { updateOne } from 'mingo';
import { canonicalKey } from './compare.mjs';
import { badValue, CommandError } from './errors.mjs';
import { evaluating, isPlainObject } from './query.mjs';

/** @typedef {Record<string, unknown>} Doc */

const UPDATE_OPERATORS = new Set([
  '$addToSet',
  '$bit',
  '$currentDate',
  '$inc',
  '$max',
  '$min',
  '$mul',
  '$pop',
  '$pull',
  '$pullAll',
  '$push',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
]);

/**
 * A deep copy of the plain objects and arrays of a document; BSON values are shared.
 * @param {unknown} v
 * @returns {any}
 */
export function cloneDoc(v) {
  if (Array.isArray(v)) return v.map(cloneDoc);
  if (v instanceof Date) return new Date(v.getTime());
  if (isPlainObject(v)) {
    /** @type {Doc} */
    const out = {};
    for (const [k, x] of Object.entries(/** @type {Doc} */ (v))) out[k] = cloneDoc(x);
    return out;
  }
  return v;
}

let timestampIncrement = 0;

/**
 * Applies the `u` of an update statement to a copy of `doc`.
 * @param {Doc} doc the stored document (not modified)
 * @param {unknown} u replacement document, update-operator document or pipeline
 * @param {{ arrayFilters?: unknown, inserting?: boolean }} options `inserting`: an upsert
 *   is creating this document (so `$setOnInsert` applies)
 * @returns {Doc}
 */
export function applyUpdate(doc, u, options) {
  const arrayFilters = Array.isArray(options.arrayFilters) ? options.arrayFilters : undefined;
  if (Array.isArray(u)) {
    const docs = [cloneDoc(doc)];
    evaluating(() => updateOne(docs, {}, /** @type {any} */ (u), { arrayFilters }));
    return /** @type {Doc} */ (docs[0]);
  }
  if (!isPlainObject(u))
    throw new CommandError(14, 'Update argument must be either an object or an array');
  const update = /** @type {Doc} */ (u);
  const keys = Object.keys(update);
  if (keys.length === 0 || !keys[0]?.startsWith('$')) {
    // A replacement keeps the stored _id (and puts it first).
    const { _id, ...rest } = update;
    if (_id !== undefined && doc._id !== undefined && canonicalKey(_id) !== canonicalKey(doc._id)) {
      throw immutableId();
    }
    return { _id: doc._id ?? _id, ...cloneDoc(rest) };
  }
  /** @type {Doc} */
  const modifier = {};
  for (const op of keys) {
    if (!UPDATE_OPERATORS.has(op)) {
      throw new CommandError(
        9,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    const arg = /** @type {Doc} */ (update[op]);
    if (!isPlainObject(arg)) {
      throw new CommandError(
        9,
        `Modifiers operate on fields but we found type ${typeof arg} instead.`,
      );
    }
    if (op === '$setOnInsert') {
      if (options.inserting)
        modifier.$set = { .../** @type {Doc} */ (modifier.$set ?? {}), ...arg };
    } else if (op === '$currentDate') {
      /** @type {Doc} */
      const set = { .../** @type {Doc} */ (modifier.$set ?? {}) };
      for (const [path, spec] of Object.entries(/** @type {Doc} */ (arg))) {
        const type = isPlainObject(spec) ? /** @type {Doc} */ (spec).$type : 'date';
        if (type === 'timestamp') {
          timestampIncrement = (timestampIncrement + 1) % 0x7fffffff;
          set[path] = new Timestamp({ t: Math.floor(Date.now() / 1000), i: timestampIncrement });
        } else if (type === 'date' || spec === true) set[path] = new Date();
        else
          throw badValue(
            `${path} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
          );
      }
      modifier.$set = set;
    } else {
      modifier[op] = arg;
    }
  }
  const docs = [cloneDoc(doc)];
  if (Object.keys(modifier).length > 0) {
    evaluating(() =>
      updateOne(docs, {}, /** @type {any} */ (modifier), { arrayFilters, cloneMode: 'copy' }),
    );
  }
  const next = /** @type {Doc} */ (docs[0]);
  if (doc._id !== undefined && canonicalKey(next._id) !== canonicalKey(doc._id))
    throw immutableId();
  return next;
}

function immutableId() {
  return new CommandError(
    66,
    "Performing an update on the path '_id' would modify the immutable field '_id'",
  );
}

/**
 * The document an upsert starts from: the equality conditions of its filter.
 * @param {unknown} filter
 * @returns {Doc}
 */
export function upsertSeed(filter) {
  /** @type {Doc} */
  const seed = {};
  const visit = (/** @type {unknown} */ f) => {
    if (!isPlainObject(f)) return;
    for (const [path, cond] of Object.entries(/** @type {Doc} */ (f))) {
      if (path === '$and' && Array.isArray(cond)) {
        for (const part of cond) visit(part);
        continue;
      }
      if (path.startsWith('$')) continue;
      let value = cond;
      if (isPlainObject(cond) && Object.keys(/** @type {Doc} */ (cond))[0]?.startsWith('$')) {
        if (!('$eq' in /** @type {Doc} */ (cond))) continue;
        value = /** @type {Doc} */ (cond).$eq;
      }
      setPath(seed, path, cloneDoc(value));
    }
  };
  visit(filter);
  return seed;
}

/** @param {Doc} doc @param {string} path @param {unknown} value */
function setPath(doc, path, value) {
  const parts = path.split('.');
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(cur[part])) cur[part] = {};
    cur = /** @type {Doc} */ (cur[part]);
  }
  cur[/** @type {string} */ (parts[parts.length - 1])] = value;
}
