// @ts-check
/**
 * Query evaluation of the MongoDB test server. Filters, projections and aggregation stages are
 * evaluated by mingo, except for the simple filters and projections of paging queries, which
 * are evaluated here for speed; sorting (in `find` and in every `$sort` stage) uses the server's
 * BSON comparison order from compare.mjs instead of mingo's. Errors from mingo become
 * `BadValue` command errors carrying mingo's message.
 */
import { Aggregator, Query } from 'mingo';
import { canonicalKey, canonicalRank, compareValues, sortBySpec } from './compare.mjs';
import { badValue, CommandError } from './errors.mjs';

/** @typedef {Record<string, unknown>} Doc */

/** Plain (JSON-like) object, not a BSON value class. */
export function isPlainObject(/** @type {unknown} */ v) {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

/** Runs `fn`, turning evaluator exceptions into `BadValue` command errors. */
export function evaluating(/** @type {() => any} */ fn) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw badValue(err instanceof Error ? err.message : String(err));
  }
}

/**
 * A predicate for a query filter.
 * @param {unknown} filter
 * @returns {((doc: Doc) => boolean) | null} null when the filter matches everything
 */
export function compileFilter(filter) {
  if (filter === undefined || filter === null) return null;
  if (!isPlainObject(filter)) throw new CommandError(14, 'filter must be an object');
  if (Object.keys(/** @type {Doc} */ (filter)).length === 0) return null;
  const query = evaluating(() => new Query(/** @type {Doc} */ (filter), {}));
  const slow = (/** @type {Doc} */ doc) => evaluating(() => query.test(doc));
  const fast = compileSimpleFilter(/** @type {Doc} */ (filter));
  if (fast === null) return slow;
  return (/** @type {Doc} */ doc) => {
    const result = fast(doc);
    return result === undefined ? slow(doc) : result;
  };
}

/** @typedef {(doc: Doc) => boolean | undefined} Tristate undefined: ask mingo */

const SIMPLE_OPERATORS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte']);

/** Operands the fast path compares itself: non-null scalars of one BSON type. */
function simpleOperand(/** @type {unknown} */ v) {
  if (typeof v === 'number') return !Number.isNaN(v);
  if (typeof v === 'string' || typeof v === 'boolean' || v instanceof Date) return true;
  return /** @type {{ _bsontype?: string }} */ (v)?._bsontype === 'ObjectId';
}

/**
 * The filters paging queries use (`$and`/`$or` of equality and range conditions on scalar
 * values) evaluated without mingo, which costs about a microsecond a document. A document
 * whose value on a filtered path is, or passes through, an array is left to mingo, as is any
 * other filter shape (null is returned for those).
 * @param {Doc} filter
 * @returns {Tristate | null}
 */
function compileSimpleFilter(filter) {
  /** @type {Tristate[]} */
  const parts = [];
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(cond) || cond.length === 0) return null;
      const subs = cond.map((c) =>
        isPlainObject(c) ? compileSimpleFilter(/** @type {Doc} */ (c)) : null,
      );
      if (subs.some((f) => f === null)) return null;
      parts.push(combine(/** @type {Tristate[]} */ (subs), key === '$and'));
      continue;
    }
    if (key.startsWith('$')) return null;
    /** @type {Array<[string, unknown]>} */
    let tests;
    if (simpleOperand(cond)) tests = [['$eq', cond]];
    else if (isPlainObject(cond)) {
      tests = Object.entries(/** @type {Doc} */ (cond));
      if (
        tests.length === 0 ||
        tests.some(([op, v]) => !SIMPLE_OPERATORS.has(op) || !simpleOperand(v))
      ) {
        return null;
      }
    } else return null;
    parts.push(fieldTest(key.split('.'), tests));
  }
  return combine(parts, true);
}

/** @param {Tristate[]} parts @param {boolean} all @returns {Tristate} */
function combine(parts, all) {
  return (doc) => {
    let unknown = false;
    for (const part of parts) {
      const r = part(doc);
      if (r === undefined) unknown = true;
      else if (r !== all) return r;
    }
    return unknown ? undefined : all;
  };
}

/** @param {string[]} path @param {Array<[string, unknown]>} tests @returns {Tristate} */
function fieldTest(path, tests) {
  const ranked = tests.map(([op, operand]) => ({ op, operand, rank: canonicalRank(operand) }));
  return (doc) => {
    /** @type {unknown} */
    let v = doc;
    for (const part of path) {
      if (Array.isArray(v)) return undefined;
      if (v === null || typeof v !== 'object') {
        v = undefined;
        break;
      }
      v = /** @type {Doc} */ (v)[part];
    }
    if (Array.isArray(v)) return undefined;
    const rank = canonicalRank(v);
    for (const { op, operand, rank: r } of ranked) {
      // Type bracketing: a comparison only matches values of the operand's BSON type.
      if (v === undefined || rank !== r) return false;
      const c = compareValues(v, operand);
      const ok =
        op === '$eq'
          ? c === 0
          : op === '$gt'
            ? c > 0
            : op === '$gte'
              ? c >= 0
              : op === '$lt'
                ? c < 0
                : c <= 0;
      if (!ok) return false;
    }
    return true;
  };
}

/**
 * The `_id` a filter pins down by equality (`{ _id: 5 }`), so a lookup can replace a scan.
 * @param {unknown} filter
 * @returns {string | null} the canonical key of that `_id`
 */
export function idEqualityKey(filter) {
  if (!isPlainObject(filter)) return null;
  const keys = Object.keys(/** @type {Doc} */ (filter));
  if (keys.length !== 1 || keys[0] !== '_id') return null;
  const id = /** @type {Doc} */ (filter)._id;
  if (id === null || id === undefined || id instanceof RegExp || Array.isArray(id)) return null;
  if (isPlainObject(id)) return null;
  return canonicalKey(id);
}

/**
 * Parses a sort specification into [path, direction] pairs, with the server's validation.
 * @param {unknown} sort
 * @returns {Array<[string, number]>}
 */
export function parseSort(sort) {
  if (sort === undefined || sort === null) return [];
  if (!isPlainObject(sort)) throw new CommandError(14, 'Expected field sort to be of type object');
  /** @type {Array<[string, number]>} */
  const spec = [];
  for (const [path, dir] of Object.entries(/** @type {Doc} */ (sort))) {
    if (path === '$natural') continue;
    const n = typeof dir === 'number' ? dir : Number(/** @type {any} */ (dir)?.valueOf?.());
    if (n !== 1 && n !== -1) {
      throw new CommandError(
        15975,
        '$sort key ordering must be 1 (for ascending) or -1 (for descending)',
      );
    }
    spec.push([path, n]);
  }
  return spec;
}

/**
 * A function applying a find projection to a batch of documents, or null for no projection.
 * @param {unknown} projection
 * @returns {((docs: Doc[]) => Doc[]) | null}
 */
export function compileProjection(projection) {
  if (projection === undefined || projection === null) return null;
  if (!isPlainObject(projection)) throw new CommandError(14, 'projection must be an object');
  if (Object.keys(/** @type {Doc} */ (projection)).length === 0) return null;
  const simple = simpleProjection(/** @type {Doc} */ (projection));
  if (simple) return (docs) => docs.map(simple);
  const query = new Query({}, {});
  // Validate now, so a bad projection fails the find rather than a later getMore.
  evaluating(() => query.find([{}], /** @type {Doc} */ (projection)).all());
  return (docs) => evaluating(() => query.find(docs, /** @type {Doc} */ (projection)).all());
}

/**
 * Inclusion or exclusion of top-level fields (`{ a: 1, b: 1 }`, `{ text: 0 }`), done here
 * because mingo's general projection is slow on large pages; null for any other projection.
 * Fields keep their document order; `_id` is included unless excluded.
 * @param {Doc} projection
 * @returns {((doc: Doc) => Doc) | null}
 */
function simpleProjection(projection) {
  let includeId = true;
  /** @type {Set<string>} */
  const fields = new Set();
  /** @type {boolean | null} */
  let inclusion = null;
  for (const [field, value] of Object.entries(projection)) {
    if (typeof value !== 'number' && typeof value !== 'boolean') return null;
    if (field.includes('.') || field.startsWith('$')) return null;
    const on = Boolean(value);
    if (field === '_id') {
      includeId = on;
      continue;
    }
    if (inclusion !== null && inclusion !== on) return null;
    inclusion = on;
    fields.add(field);
  }
  if (inclusion === null) inclusion = includeId; // only _id given: { _id: 1 } keeps only _id
  const keep = inclusion;
  return (doc) => {
    /** @type {Doc} */
    const out = {};
    for (const key of Object.keys(doc)) {
      const wanted = key === '_id' ? includeId : fields.has(key) === keep;
      if (wanted) out[key] = doc[key];
    }
    return out;
  };
}

const UNSUPPORTED_STAGES = new Set([
  '$out',
  '$merge',
  '$changeStream',
  '$currentOp',
  '$listSessions',
]);

/**
 * Runs an aggregation pipeline over documents. `$sort` stages are done here, the other stages
 * by mingo in runs between them.
 * @param {Doc[]} docs
 * @param {unknown[]} pipeline
 * @param {(name: string) => Doc[]} resolveCollection for `$lookup`, `$unionWith`, `$graphLookup`
 * @returns {Doc[]}
 */
export function runPipeline(docs, pipeline, resolveCollection) {
  /** @type {Doc[]} */
  let current = docs;
  /** @type {Doc[]} */
  let pending = [];
  let mutates = false;
  const flush = () => {
    if (pending.length === 0) return;
    const stages = pending;
    pending = [];
    // Stages that set fields may write into nested objects they share with their input.
    const processingMode = mutates ? 1 : 0;
    mutates = false;
    current = evaluating(() =>
      new Aggregator(stages, { processingMode, collectionResolver: resolveCollection }).run(
        current,
      ),
    );
  };
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(/** @type {Doc} */ (stage)).length !== 1) {
      throw new CommandError(
        40323,
        'A pipeline stage specification object must contain exactly one field.',
      );
    }
    const name = /** @type {string} */ (Object.keys(/** @type {Doc} */ (stage))[0]);
    if (UNSUPPORTED_STAGES.has(name)) {
      throw new CommandError(115, `${name} is not supported by this test server`);
    }
    if (name === '$sort') {
      flush();
      const spec = parseSort(/** @type {Doc} */ (stage).$sort);
      if (spec.length === 0)
        throw new CommandError(15976, '$sort stage must have at least one sort key');
      current = sortBySpec(current === docs ? docs.slice() : current, spec, (d) => d);
      continue;
    }
    if (!name.startsWith('$')) {
      throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
    }
    if (
      !['$match', '$limit', '$skip', '$count', '$group', '$project', '$sortByCount'].includes(name)
    ) {
      mutates = true;
    }
    pending.push(/** @type {Doc} */ (stage));
  }
  flush();
  return current === docs ? docs.slice() : current;
}
