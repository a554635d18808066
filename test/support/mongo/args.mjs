// @ts-check
/**
 * Reading command arguments with the server's validation and error wording, and the context
 * every command handler receives.
 */
import { CommandError, typeMismatch } from './errors.mjs';

/** @typedef {Record<string, unknown>} Doc */

/**
 * @typedef {object} CommandContext
 * @property {import('./store.mjs').Store} store
 * @property {import('./cursors.mjs').CursorRegistry} cursors
 * @property {import('./faults.mjs').Faults} faults
 * @property {string} db the command's `$db`
 * @property {Map<string, Buffer[]>} sequences OP_MSG document sequences, still as BSON
 * @property {() => Doc} stepDownAndUp plays a step-down and re-election, returns the
 *   topology version of the moment the node was not primary
 */

/** The collection a command names in its first field. */
export function collectionName(/** @type {Doc} */ cmd, /** @type {string} */ command) {
  const name = cmd[command];
  if (typeof name !== 'string') {
    throw new CommandError(
      73,
      `collection name has invalid type ${name === null ? 'null' : Array.isArray(name) ? 'array' : typeof name}`,
    );
  }
  if (name === '') throw new CommandError(73, `Invalid namespace specified '${cmd.$db}.'`);
  return name;
}

/** A whole number from a decoded BSON int, long or double. */
function toInteger(/** @type {unknown} */ value) {
  if (typeof value === 'number') return value;
  const x = /** @type {{ _bsontype?: string, toNumber?: () => number }} */ (value);
  if (x !== null && typeof x === 'object' && x._bsontype === 'Long' && x.toNumber)
    return x.toNumber();
  return undefined;
}

/**
 * An optional non-negative integer argument (`limit`, `skip`, `batchSize`), checked like the
 * server's IDL validators.
 * @param {Doc} doc
 * @param {string} field
 * @returns {number | undefined}
 */
export function nonNegative(doc, field) {
  const raw = doc[field];
  if (raw === undefined || raw === null) return undefined;
  const n = toInteger(raw);
  if (n === undefined) throw typeMismatch(field, 'long', raw);
  if (n < 0) {
    throw new CommandError(51024, `BSON field '${field}' value must be >= 0, actual value '${n}'`);
  }
  return Math.trunc(n);
}

/** An optional boolean argument. */
export function bool(/** @type {Doc} */ doc, /** @type {string} */ field, fallback = false) {
  const v = doc[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  throw typeMismatch(field, 'bool', v);
}

/** A cursor id (int64) as a bigint. */
export function cursorId(/** @type {unknown} */ value, /** @type {string} */ field) {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  const x = /** @type {{ _bsontype?: string }} */ (value);
  if (x !== null && typeof x === 'object' && x._bsontype === 'Long') return BigInt(String(x));
  throw typeMismatch(field, 'long', value);
}

/**
 * The documents of an array argument that drivers send as an OP_MSG document sequence.
 * @param {Doc} cmd
 * @param {string} command
 * @param {string} field
 * @returns {Doc[]}
 */
export function documentList(cmd, command, field) {
  const value = cmd[field];
  if (value === undefined) {
    throw new CommandError(
      40414,
      `BSON field '${command}.${field}' is missing but a required field`,
    );
  }
  if (!Array.isArray(value)) throw typeMismatch(field, 'array', value);
  return value;
}
