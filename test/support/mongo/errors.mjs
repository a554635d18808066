// @ts-check
/**
 * Command errors of the MongoDB test server, in the shape a real mongod answers them:
 * `{ ok: 0, errmsg, code, codeName }`. The codes and names are those of the server's
 * src/mongo/base/error_codes.yml; only the ones this server can produce are listed.
 */

/** @type {Readonly<Record<number, string>>} */
export const CODE_NAMES = Object.freeze({
  1: 'InternalError',
  2: 'BadValue',
  9: 'FailedToParse',
  13: 'Unauthorized',
  14: 'TypeMismatch',
  16: 'InvalidLength',
  17: 'ProtocolError',
  18: 'AuthenticationFailed',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  50: 'MaxTimeMSExpired',
  53: 'InvalidIdField',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  96: 'OperationFailed',
  115: 'CommandNotSupported',
  175: 'QueryPlanKilled',
  189: 'PrimarySteppedDown',
  262: 'ExceededTimeLimit',
  334: 'MechanismUnavailable',
  352: 'UnsupportedOpQueryCommand',
  10107: 'NotWritablePrimary',
  11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown',
  11601: 'Interrupted',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
  13436: 'NotPrimaryOrSecondary',
});

/** The server names codes without an entry in error_codes.yml `Location<code>`. */
export function codeName(/** @type {number} */ code) {
  return CODE_NAMES[code] ?? `Location${code}`;
}

/** A failed command: serialised as the `ok: 0` reply document. */
export class CommandError extends Error {
  /**
   * @param {number} code
   * @param {string} errmsg
   * @param {Record<string, unknown>} [extra] fields appended after codeName (e.g. topologyVersion)
   */
  constructor(code, errmsg, extra) {
    super(errmsg);
    this.code = code;
    this.extra = extra;
  }

  /** @returns {Record<string, unknown>} */
  toReply() {
    return {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: codeName(this.code),
      ...this.extra,
    };
  }
}

/** Shorthand for the common `BadValue` (2) error. */
export function badValue(/** @type {string} */ message) {
  return new CommandError(2, message);
}

/** Shorthand for `TypeMismatch` (14) on a command field, worded like the server's IDL parser. */
export function typeMismatch(
  /** @type {string} */ field,
  /** @type {string} */ expected,
  /** @type {unknown} */ value,
) {
  return new CommandError(
    14,
    `BSON field '${field}' is the wrong type '${bsonTypeName(value)}', expected type '${expected}'`,
  );
}

/** The BSON type alias of a decoded value, as the server prints it in messages. */
export function bsonTypeName(/** @type {unknown} */ value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Date) return 'date';
  if (Array.isArray(value)) return 'array';
  if (value instanceof RegExp) return 'regex';
  const type = /** @type {{ _bsontype?: string }} */ (value)._bsontype;
  switch (type) {
    case 'ObjectId':
      return 'objectId';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case undefined:
      return 'object';
    default:
      return type.toLowerCase();
  }
}
