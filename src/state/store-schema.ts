/**
 * The SQLite schema of the frequency state, its version, the stored checkpoint and the errors a
 * store reports. A store written under another schema version is never read: the run recounts.
 *
 * Version 2 added the collection frequency (`terms.cf`) and term frequencies in the document
 * records (`docs.terms`, see analysis/term-ids.ts); version 1 kept document frequencies only.
 * Version 3 indexed only the terms of df >= 64 by df. Version 4 keeps the terms and their
 * frequencies out of the database, in the generation's dictionary file (term-dictionary.ts), which
 * the meta row `dictionary` names.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

export const STATE_SCHEMA_VERSION = 4;

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
CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT NOT NULL, updated_at INTEGER NOT NULL, terms BLOB NOT NULL)
                   WITHOUT ROWID;
`;

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
