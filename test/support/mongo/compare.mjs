// @ts-check
/**
 * BSON value comparison as the server does it (the "BSON comparison order" of the MongoDB
 * manual): values of different types order by canonical type (MinKey < null < numbers <
 * strings < objects < arrays < binData < ObjectId < booleans < dates < timestamps < regexes <
 * MaxKey); numbers compare by value across int/long/double; strings compare by UTF-8 bytes (the
 * simple collation); ObjectIds by their 12 bytes. mingo orders ObjectIds after dates and knows
 * nothing of Long/Timestamp/Binary, so every sort in this server goes through `compareValues`.
 *
 * Also here: sort-key extraction with the server's array rules, and the canonical key used for
 * `_id` and unique-index lookups.
 */

/** @typedef {Record<string, unknown>} Doc */

/** Canonical type ranks of the server (BSONElement::canonicalType). */
const RANK = {
  minKey: -1,
  undefined: 0,
  null: 5,
  number: 10,
  string: 15,
  object: 20,
  array: 25,
  binData: 30,
  objectId: 35,
  bool: 40,
  date: 45,
  timestamp: 47,
  regex: 50,
  dbPointer: 55,
  code: 60,
  codeWScope: 65,
  maxKey: 127,
};

/** @param {unknown} v */
export function canonicalRank(v) {
  if (v === null || v === undefined) return RANK.null;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return RANK.number;
    case 'string':
      return RANK.string;
    case 'boolean':
      return RANK.bool;
    case 'object':
      break;
    default:
      return RANK.maxKey;
  }
  if (v instanceof Date) return RANK.date;
  if (Array.isArray(v)) return RANK.array;
  if (v instanceof RegExp) return RANK.regex;
  switch (/** @type {{ _bsontype?: string }} */ (v)._bsontype) {
    case 'ObjectId':
      return RANK.objectId;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return RANK.number;
    case 'Binary':
      return RANK.binData;
    case 'Timestamp':
      return RANK.timestamp;
    case 'BSONSymbol':
      return RANK.string;
    case 'BSONRegExp':
      return RANK.regex;
    case 'MinKey':
      return RANK.minKey;
    case 'MaxKey':
      return RANK.maxKey;
    case 'Code':
      return /** @type {{ scope?: unknown }} */ (v).scope ? RANK.codeWScope : RANK.code;
    default:
      return RANK.object;
  }
}

/** @param {number} a @param {number} b */
const sign = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A number-typed value as a JS number or, for integers beyond 2^53, a bigint.
 * @param {unknown} v
 * @returns {number | bigint}
 */
function numeric(v) {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  const t = /** @type {{ _bsontype?: string, toString(): string, valueOf(): unknown }} */ (v);
  if (t._bsontype === 'Long') {
    const big = BigInt(t.toString());
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }
  if (t._bsontype === 'Decimal128') return Number.parseFloat(t.toString());
  return Number(t.valueOf());
}

/** @param {number | bigint} a @param {number | bigint} b */
function compareNumeric(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    // The server orders NaN below every other number and equal to itself.
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
    if (Number.isNaN(b)) return 1;
    return sign(a, b);
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const [x, y] = [a, b].map((n) => (typeof n === 'number' && Number.isInteger(n) ? BigInt(n) : n));
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  return compareNumeric(Number(a), Number(b));
}

/** Strings in UTF-8 byte order, which is code point order (JS `<` compares UTF-16 units). */
export function compareStrings(/** @type {string} */ a, /** @type {string} */ b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const pa = ca >= 0xd800 && ca <= 0xdbff ? /** @type {number} */ (a.codePointAt(i)) : ca;
    const pb = cb >= 0xd800 && cb <= 0xdbff ? /** @type {number} */ (b.codePointAt(i)) : cb;
    return sign(pa, pb);
  }
  return sign(a.length, b.length);
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function compareBytes(a, b) {
  return Buffer.compare(a, b);
}

/**
 * Orders two BSON values like the server's BSONElement comparison (simple collation).
 * @param {unknown} a
 * @param {unknown} b
 * @returns {number} negative, zero or positive
 */
export function compareValues(a, b) {
  // Fast paths for the types paging queries sort on.
  if (typeof a === 'number' && typeof b === 'number') return compareNumeric(a, b);
  if (a instanceof Date && b instanceof Date) return sign(a.getTime(), b.getTime());
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  const ra = canonicalRank(a);
  const rb = canonicalRank(b);
  if (ra !== rb) return sign(ra, rb);
  const x = /** @type {any} */ (a);
  const y = /** @type {any} */ (b);
  switch (ra) {
    case RANK.null:
    case RANK.minKey:
    case RANK.maxKey:
      return 0;
    case RANK.number:
      return compareNumeric(numeric(a), numeric(b));
    case RANK.string:
      return compareStrings(String(x.valueOf?.() ?? x), String(y.valueOf?.() ?? y));
    case RANK.objectId:
      return compareBytes(x.id, y.id);
    case RANK.bool:
      return sign(Number(a), Number(b));
    case RANK.date:
      return sign(x.getTime(), y.getTime());
    case RANK.timestamp:
      return sign(x.high >>> 0, y.high >>> 0) || sign(x.low >>> 0, y.low >>> 0);
    case RANK.binData:
      return (
        sign(x.position, y.position) ||
        sign(x.sub_type, y.sub_type) ||
        compareBytes(x.buffer.subarray(0, x.position), y.buffer.subarray(0, y.position))
      );
    case RANK.regex: {
      const [pa, fa] = x instanceof RegExp ? [x.source, x.flags] : [x.pattern, x.options];
      const [pb, fb] = y instanceof RegExp ? [y.source, y.flags] : [y.pattern, y.options];
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    case RANK.code:
    case RANK.codeWScope:
      return compareStrings(String(x.code), String(y.code));
    case RANK.array: {
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = sign(canonicalRank(x[i]), canonicalRank(y[i])) || compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return sign(x.length, y.length);
    }
    default:
      return compareObjects(x, y);
  }
}

/** Documents compare field by field: type, then name, then value; a prefix sorts first. */
function compareObjects(/** @type {Doc} */ a, /** @type {Doc} */ b) {
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const fa = /** @type {string} */ (ka[i]);
    const fb = /** @type {string} */ (kb[i]);
    const c =
      sign(canonicalRank(a[fa]), canonicalRank(b[fb])) ||
      compareStrings(fa, fb) ||
      compareValues(a[fa], b[fb]);
    if (c !== 0) return c;
  }
  return sign(ka.length, kb.length);
}

/**
 * Every value a dotted path reaches in a document, descending into arrays the way the query
 * system does (a numeric component indexes an array; otherwise each element is visited).
 * @param {unknown} value
 * @param {string[]} parts
 * @param {number} i
 * @param {unknown[]} out
 */
function collectPath(value, parts, i, out) {
  if (i === parts.length) {
    out.push(value);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const part = /** @type {string} */ (parts[i]);
  if (Array.isArray(value)) {
    if (/^\d+$/.test(part) && Number(part) < value.length) {
      collectPath(value[Number(part)], parts, i + 1, out);
    }
    for (const item of value) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        collectPath(item, parts, i, out);
      }
    }
    return;
  }
  const next = /** @type {Doc} */ (value)[part];
  if (next !== undefined) collectPath(next, parts, i + 1, out);
}

/** Marks an empty array reached by a sort path: it sorts before null and missing. */
const EMPTY_ARRAY_KEY = Object.freeze({ _bsontype: 'MinKey' });

/**
 * The sort key of one field: missing is null; an array contributes its smallest element for an
 * ascending sort and its largest for a descending one.
 * @param {Doc} doc
 * @param {string} path
 * @param {number} direction 1 or -1
 */
export function sortKey(doc, path, direction) {
  if (!path.includes('.')) {
    const v = doc[path];
    if (!Array.isArray(v)) return v === undefined ? null : v;
  }
  /** @type {unknown[]} */
  const found = [];
  collectPath(doc, path.split('.'), 0, found);
  /** @type {unknown[]} */
  const values = [];
  let sawEmptyArray = false;
  for (const v of found) {
    if (Array.isArray(v)) {
      if (v.length === 0) sawEmptyArray = true;
      values.push(...v);
    } else values.push(v);
  }
  if (values.length === 0) return sawEmptyArray ? EMPTY_ARRAY_KEY : null;
  let best = values[0];
  for (const v of values) {
    const c = compareValues(v, best);
    if (direction > 0 ? c < 0 : c > 0) best = v;
  }
  return best;
}

/**
 * Sorts `items` in place by a MongoDB sort specification, keeping the incoming order for ties.
 * @template T
 * @param {T[]} items
 * @param {Array<[string, number]>} spec field and direction pairs, in order
 * @param {(item: T) => Doc} docOf
 * @returns {T[]}
 */
export function sortBySpec(items, spec, docOf) {
  if (spec.length === 0) return items;
  const keyed = items.map((item, index) => {
    const doc = docOf(item);
    return { item, index, keys: spec.map(([path, dir]) => sortKey(doc, path, dir)) };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return c * /** @type {[string, number]} */ (spec[i])[1];
    }
    return a.index - b.index;
  });
  for (let i = 0; i < keyed.length; i++) items[i] = /** @type {{ item: T }} */ (keyed[i]).item;
  return items;
}

/**
 * A string that is equal for two values exactly when the server treats them as the same key
 * (numbers of any type by value, ObjectIds by bytes, documents field by field in order).
 * @param {unknown} v
 * @returns {string}
 */
export function canonicalKey(v) {
  if (v === null || v === undefined) return 'n';
  switch (typeof v) {
    case 'number':
      return `N${Object.is(v, -0) ? 0 : v}`;
    case 'string':
      return `S${v}`;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'bigint':
      return `N${v}`;
  }
  if (v instanceof Date) return `D${v.getTime()}`;
  const x = /** @type {any} */ (v);
  switch (x._bsontype) {
    case 'ObjectId':
      return `O${x.toHexString()}`;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return `N${numeric(v)}`;
    case 'Binary':
      return `X${x.sub_type}:${Buffer.from(x.buffer.subarray(0, x.position)).toString('base64')}`;
  }
  if (Array.isArray(v)) return `A[${v.map(canonicalKey).join(',')}]`;
  if (x._bsontype === undefined && !(v instanceof RegExp)) {
    const parts = Object.keys(x)
      .filter((k) => x[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalKey(x[k])}`);
    return `{${parts.join(',')}}`;
  }
  return `?${x._bsontype ?? 'regex'}:${String(x)}`;
}

/**
 * The value at a dotted path without array traversal (used for index keys): undefined if absent.
 * @param {Doc} doc
 * @param {string} path
 */
export function getPath(doc, path) {
  /** @type {unknown} */
  let cur = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = /** @type {Doc} */ (cur)[part];
  }
  return cur;
}
