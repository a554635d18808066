/**
 * The frequency state: per language N and, per term, its document frequency df and collection
 * frequency cf (occurrences); per document the term ids it contributed with their frequencies, so
 * that a night's changes can be applied exactly (delta-transaction.ts). One SQLite database
 * (store-schema.ts); a run's changes and its checkpoint are committed in one transaction, only
 * after the publish.
 *
 * Term ids are ranked by document frequency when a full count builds the store (common words get
 * small ids, so a document's gap-encoded record is mostly one byte per term); terms first seen by
 * a delta run get the next free id of their language.
 */
import Database from 'better-sqlite3';
import { insertRows } from './bulk-insert.js';
import { DeltaTransaction } from './delta-transaction.js';
import {
  CheckpointCorruptError,
  INDEXED_DF,
  INDEXES,
  putCheckpoint,
  SCHEMA,
  STATE_SCHEMA_VERSION,
  StateCorruptError,
  StateSchemaError,
  type StoredCheckpoint,
} from './store-schema.js';

export type { ApplyStats, DeltaTransaction, DocumentChange } from './delta-transaction.js';
export {
  CheckpointCorruptError,
  STATE_SCHEMA_VERSION,
  StateCorruptError,
  StateSchemaError,
  type StoredCheckpoint,
} from './store-schema.js';

export interface LanguageTotals {
  readonly lang: string;
  readonly n: number;
}

/** One language's stored frequencies: term -> df and term -> cf, same keys. */
export interface StoredTerms {
  readonly df: Map<string, number>;
  readonly cf: Map<string, number>;
}

export class DfStore {
  private readonly db: Database.Database;
  private inTransaction = false;
  private termsIndexed = false;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens an existing store; throws StateCorruptError when it is not a readable store. */
  static open(path: string): DfStore {
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true });
      db.pragma('journal_mode = DELETE');
      db.pragma('synchronous = FULL');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`);
      const version = db
        .prepare("SELECT value FROM meta WHERE key = 'schemaVersion'")
        .pluck()
        .get();
      if (version !== String(STATE_SCHEMA_VERSION)) {
        db.close();
        const found = typeof version === 'string' ? version : null;
        throw new StateSchemaError(
          `state ${path} has schema version ${String(found)}; this version reads ${STATE_SCHEMA_VERSION}`,
          found,
        );
      }
    } catch (error) {
      if (error instanceof StateSchemaError) throw error;
      throw new StateCorruptError(`state ${path} is unreadable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new DfStore(db);
  }

  /** Creates an empty store for a full count. */
  static create(path: string): DfStore {
    const db = new Database(path);
    // A fresh file is only made live by the caller's rename, so the load need not be durable
    // row by row; it is synced once when closed.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(
      'schemaVersion',
      String(STATE_SCHEMA_VERSION),
    );
    return new DfStore(db);
  }

  readCheckpoint(): StoredCheckpoint | null {
    const text = this.db.prepare("SELECT value FROM meta WHERE key = 'checkpoint'").pluck().get() as
      | string
      | undefined;
    if (text === undefined) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CheckpointCorruptError('the checkpoint in the state is not valid JSON');
    }
    const c = value as Partial<StoredCheckpoint> | null;
    if (
      c === null ||
      typeof c !== 'object' ||
      c.schemaVersion !== STATE_SCHEMA_VERSION ||
      typeof c.windowEnd !== 'string' ||
      !Number.isFinite(Date.parse(c.windowEnd)) ||
      typeof c.analysisKey !== 'string' ||
      typeof c.runId !== 'string'
    ) {
      throw new CheckpointCorruptError('the checkpoint in the state is malformed');
    }
    return c as StoredCheckpoint;
  }

  writeCheckpoint(checkpoint: StoredCheckpoint): void {
    putCheckpoint(this.db, checkpoint);
  }

  languages(): LanguageTotals[] {
    return this.db.prepare('SELECT lang, n FROM langs ORDER BY lang').all() as LanguageTotals[];
  }

  /** Terms of `lang` with df >= minDf and their frequencies, for selection. */
  termsAtLeast(lang: string, minDf: number): StoredTerms {
    // The literal bound lets SQLite use the partial index, whose condition it implies.
    const sql =
      minDf >= INDEXED_DF
        ? `SELECT term, df, cf FROM terms WHERE lang = ? AND df >= ? AND df >= ${INDEXED_DF}`
        : 'SELECT term, df, cf FROM terms WHERE lang = ? AND df >= ? AND df > 0';
    const rows = this.db.prepare(sql).raw().all(lang, minDf) as Array<[string, number, number]>;
    const df = new Map<string, number>();
    const cf = new Map<string, number>();
    for (const [term, d, c] of rows) {
      df.set(term, d);
      cf.set(term, c);
    }
    return { df, cf };
  }

  /** Every language's N and non-zero frequencies: for verification and tests. */
  exportTables(): Map<string, { n: number } & StoredTerms> {
    const out = new Map<string, { n: number } & StoredTerms>();
    for (const { lang, n } of this.languages()) {
      if (n === 0) continue;
      out.set(lang, { n, ...this.termsAtLeast(lang, 1) });
    }
    return out;
  }

  /** Bytes of the database file and of the per-document term records. */
  sizes(): { fileBytes: number; recordBytes: number; documents: number; termOccurrences: number } {
    const pageCount = this.db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const row = this.db
      .prepare(
        'SELECT count(*) AS documents, coalesce(sum(length(terms)), 0) AS recordBytes FROM docs',
      )
      .get() as { documents: number; recordBytes: number };
    const occurrences = this.db
      .prepare('SELECT coalesce(sum(df), 0) FROM terms')
      .pluck()
      .get() as number;
    return {
      fileBytes: pageCount * pageSize,
      recordBytes: row.recordBytes,
      documents: row.documents,
      termOccurrences: occurrences,
    };
  }

  // ---- full count: bulk load -------------------------------------------------------------

  /** Loads one language's ranked dictionary: `terms[i]` gets id i, df `df[i]` and cf `cf[i]`. */
  loadLanguage(
    lang: string,
    n: number,
    terms: readonly string[],
    df: ArrayLike<number>,
    cf: ArrayLike<number>,
  ): void {
    if (this.termsIndexed) throw new Error('the terms are already indexed');
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO langs (lang, n, next_id) VALUES (?, ?, ?)')
        .run(lang, n, terms.length);
      insertRows(this.db, 'terms (lang, id, term, df, cf)', 5, terms.length, (i, params, at) => {
        params[at] = lang;
        params[at + 1] = i;
        params[at + 2] = terms[i];
        params[at + 3] = df[i];
        params[at + 4] = cf[i];
      });
    })();
  }

  /**
   * Builds the term indexes once every language is loaded. Optional (`finishLoad` builds them
   * otherwise): called early, it overlaps the work with the loading of the documents.
   */
  indexTerms(): void {
    if (this.termsIndexed) return;
    this.db.exec(INDEXES);
    this.termsIndexed = true;
  }

  /** Loads documents: `records` holds term records back to back, `ends[i]` the end of document i's. */
  loadDocuments(
    ids: readonly string[],
    langs: readonly string[],
    langOf: Uint16Array,
    updatedAt: Float64Array,
    records: Uint8Array,
    ends: Uint32Array,
  ): void {
    const buffer = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
    this.db.transaction(() => {
      insertRows(this.db, 'docs (id, lang, updated_at, terms)', 4, ids.length, (i, params, at) => {
        params[at] = ids[i];
        params[at + 1] = langs[langOf[i]!];
        params[at + 2] = updatedAt[i];
        params[at + 3] = buffer.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!);
      });
    })();
  }

  finishLoad(checkpoint: StoredCheckpoint): void {
    this.indexTerms();
    this.writeCheckpoint(checkpoint);
    this.db.pragma('synchronous = FULL');
  }

  // ---- delta: one transaction ------------------------------------------------------------

  begin(): DeltaTransaction {
    if (this.inTransaction) throw new Error('a transaction is already open');
    this.db.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
    return new DeltaTransaction(this.db, () => {
      this.inTransaction = false;
    });
  }

  close(): void {
    if (this.inTransaction) {
      this.db.exec('ROLLBACK');
      this.inTransaction = false;
    }
    if (this.db.open) this.db.close();
  }
}
