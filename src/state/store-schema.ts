/**
 * The SQLite schema of the frequency state, its version, the stored checkpoint and the errors a
 * store reports. A store written under another schema version is never read: the run recounts.
 *
 * Version 2 added the collection frequency (`terms.cf`) and term frequencies in the document
 * records (`docs.terms`, see analysis/term-ids.ts); version 1 kept document frequencies only.
 * Version 3 indexes only the terms of df >= INDEXED_DF by df.
 */
import type Database from 'better-sqlite3';

export const STATE_SCHEMA_VERSION = 3;

/**
 * Terms with a document frequency at least this are indexed by df: selection reads only them
 * (and scans the rest of a language only when its own threshold is lower, which happens for
 * languages of a few hundred documents). The long tail of rare terms, most of the vocabulary and
 * most of a night's changes, then costs the index nothing.
 */
export const INDEXED_DF = 64;

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
CREATE TABLE langs (lang TEXT PRIMARY KEY, n INTEGER NOT NULL, next_id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE terms (lang TEXT NOT NULL, id INTEGER NOT NULL, term TEXT NOT NULL, df INTEGER NOT NULL,
                    cf INTEGER NOT NULL, PRIMARY KEY (lang, id)) WITHOUT ROWID;
CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT NOT NULL, updated_at INTEGER NOT NULL, terms BLOB NOT NULL)
                   WITHOUT ROWID;
`;

/** Built after a bulk load, which is much faster than maintaining them row by row. */
export const INDEXES = `
CREATE UNIQUE INDEX terms_by_term ON terms (lang, term);
CREATE INDEX terms_by_df ON terms (lang, df) WHERE df >= ${INDEXED_DF};
`;

export function putCheckpoint(db: Database.Database, checkpoint: StoredCheckpoint): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run('checkpoint', JSON.stringify(checkpoint));
}
