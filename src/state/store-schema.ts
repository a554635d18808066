/**
 * The SQLite schema of the frequency state, its version, the stored checkpoint and the errors a
 * store reports. A store written under another schema version is never read: the run recounts.
 *
 * Version 2 added the collection frequency (`terms.cf`) and term frequencies in the document
 * records (`docs.terms`, see analysis/term-ids.ts); version 1 kept document frequencies only.
 * Version 3 indexed only the terms of df >= 64 by df. Version 4 keeps the terms and their
 * frequencies out of the database, in the generation's dictionary file (term-dictionary.ts), which
 * the meta row `dictionary` names. Version 5 stores a full count's records with the ids of the
 * worker that counted them (`docs.numbering`) and each worker's map to the dictionary's ids
 * (`numberings`), instead of re-encoding them.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

export const STATE_SCHEMA_VERSION = 5;

export interface StoredCheckpoint {
  readonly schemaVersion: number;
  /** End (exclusive) of the last window applied, ISO 8601. */
  readonly windowEnd: string;
  /** Last (updatedAt, id) applied; null when whole windows are applied atomically. */
  readonly lastKey: { readonly updatedAt: string; readonly id: string } | null;
  readonly analysisKey: string;
  readonly runId: string;
  readonly mode: 'delta' | 'full';
  readonly writtenAt: string;
}

export class StateCorruptError extends Error {}

/** A readable store written under another schema version: its counts cannot be reused. */
export class StateSchemaError extends StateCorruptError {
  constructor(
    message: string,
    readonly found: string | null,
  ) {
    super(message);
  }
}

export class CheckpointCorruptError extends Error {}

export const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE langs (lang TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT NOT NULL, updated_at INTEGER NOT NULL,
                   numbering INTEGER NOT NULL, terms BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE numberings (numbering INTEGER NOT NULL, lang TEXT NOT NULL, ids BLOB NOT NULL,
                         PRIMARY KEY (numbering, lang)) WITHOUT ROWID;
`;

/** Whether this machine stores a Uint32Array's elements little-endian, as numberings are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A numbering's ids as stored (`numberings.ids`): the dictionary's id of each of its ids, in
 * order, 32 bits little-endian each.
 */
export function numberingBytes(ids: Uint32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(ids.slice().buffer);
  const bytes = Buffer.allocUnsafe(ids.length * 4);
  for (let i = 0; i < ids.length; i++) bytes.writeUInt32LE(ids[i]!, i * 4);
  return bytes;
}

/**
 * The ids of a stored numbering (`numberingBytes`); throws when `bytes` cannot be one. On a
 * little-endian machine a copy of the bytes: 3 ms for a million ids, against 17-23 ms read one
 * by one.
 */
export function numberingIds(bytes: Uint8Array): Uint32Array {
  if (bytes.length % 4 !== 0) throw new Error(`a numbering of ${bytes.length} bytes`);
  const ids = new Uint32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(ids.buffer).set(bytes);
    return ids;
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < ids.length; i++) ids[i] = view.readUInt32LE(i * 4);
  return ids;
}

/**
 * Keys of the `meta` table. `soundAt`: when the database was last known sound (ISO 8601), built
 * by a full count or having passed SQLite's `quick_check`; absent in states written before it.
 */
export type MetaKey = 'schemaVersion' | 'checkpoint' | 'dictionary' | 'soundAt';

/** The stored value of `key`, as SQLite returns it; undefined when there is none. */
export function getMeta(db: Database.Database, key: MetaKey): unknown {
  return db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key);
}

export function putMeta(db: Database.Database, key: MetaKey, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

export function putCheckpoint(db: Database.Database, checkpoint: StoredCheckpoint): void {
  putMeta(db, 'checkpoint', JSON.stringify(checkpoint));
}

/** Dictionary file names: `dictionary-<random>.bin`. */
export const DICTIONARY_FILE = /^dictionary-[A-Za-z0-9-]+\.bin$/;

/** A fresh name for a dictionary file. */
export function newDictionaryName(): string {
  return `dictionary-${randomUUID()}.bin`;
}
