/**
 * The document-frequency state: per language N and term -> df, and per document the term ids it
 * contributed, so that a night's changes can be applied exactly. One SQLite database; a run's
 * changes and its checkpoint are committed in one transaction, only after the publish.
 *
 * Term ids are ranked by document frequency when a full count builds the store (common words get
 * small ids, so a document's gap-encoded id set is mostly one byte per term); terms first seen by
 * a delta run get the next free id of their language.
 */
import Database from 'better-sqlite3';
import { ByteWriter, readIdSet } from '../analysis/term-ids.js';

export const STATE_SCHEMA_VERSION = 1;

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
export class CheckpointCorruptError extends Error {}

export interface LanguageTotals {
  readonly lang: string;
  readonly n: number;
}

/** A change of one document, as the analysis produced it. */
export interface DocumentChange {
  readonly id: string;
  readonly updatedAtMs: number;
  readonly deleted: boolean;
  readonly lang: string;
  /** Distinct terms of the new version (empty for a tombstone). */
  readonly terms: readonly string[];
}

export interface ApplyStats {
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  stale: number;
  movedLanguage: number;
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE langs (lang TEXT PRIMARY KEY, n INTEGER NOT NULL, next_id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE terms (lang TEXT NOT NULL, id INTEGER NOT NULL, term TEXT NOT NULL, df INTEGER NOT NULL,
                    PRIMARY KEY (lang, id)) WITHOUT ROWID;
CREATE TABLE docs (id TEXT PRIMARY KEY, lang TEXT NOT NULL, updated_at INTEGER NOT NULL, terms BLOB NOT NULL)
                   WITHOUT ROWID;
`;
// Built after a bulk load, which is much faster than maintaining them row by row.
const INDEXES = `
CREATE UNIQUE INDEX terms_by_term ON terms (lang, term);
CREATE INDEX terms_by_df ON terms (lang, df);
`;

function putCheckpoint(db: Database.Database, checkpoint: StoredCheckpoint): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run('checkpoint', JSON.stringify(checkpoint));
}

export class DfStore {
  private readonly db: Database.Database;
  private inTransaction = false;

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
        throw new Error(`schema version ${String(version)}, expected ${STATE_SCHEMA_VERSION}`);
      }
    } catch (error) {
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

  /** Terms of `lang` with df >= minDf, for selection. */
  termsAtLeast(lang: string, minDf: number): Map<string, number> {
    const rows = this.db
      .prepare('SELECT term, df FROM terms WHERE lang = ? AND df >= ? AND df > 0')
      .raw()
      .all(lang, minDf) as Array<[string, number]>;
    return new Map(rows);
  }

  /** Every language's N and non-zero document frequencies: for verification and tests. */
  exportTables(): Map<string, { n: number; df: Map<string, number> }> {
    const out = new Map<string, { n: number; df: Map<string, number> }>();
    for (const { lang, n } of this.languages()) {
      if (n === 0) continue;
      out.set(lang, { n, df: this.termsAtLeast(lang, 1) });
    }
    return out;
  }

  /** Bytes of the database file and of the per-document term sets. */
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

  /** Loads one language's ranked dictionary: `terms[i]` gets id i with document frequency `df[i]`. */
  loadLanguage(lang: string, n: number, terms: readonly string[], df: ArrayLike<number>): void {
    const insertTerm = this.db.prepare(
      'INSERT INTO terms (lang, id, term, df) VALUES (?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO langs (lang, n, next_id) VALUES (?, ?, ?)')
        .run(lang, n, terms.length);
      for (let i = 0; i < terms.length; i++) insertTerm.run(lang, i, terms[i], df[i]);
    })();
  }

  /** Loads documents: `records` holds id sets back to back, `ends[i]` the end of document i's. */
  loadDocuments(
    ids: readonly string[],
    langs: readonly string[],
    langOf: Uint16Array,
    updatedAt: Float64Array,
    records: Uint8Array,
    ends: Uint32Array,
  ): void {
    const insert = this.db.prepare(
      'INSERT INTO docs (id, lang, updated_at, terms) VALUES (?, ?, ?, ?)',
    );
    const buffer = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
    this.db.transaction(() => {
      let start = 0;
      for (let i = 0; i < ids.length; i++) {
        const end = ends[i]!;
        insert.run(ids[i], langs[langOf[i]!], updatedAt[i], buffer.subarray(start, end));
        start = end;
      }
    })();
  }

  finishLoad(checkpoint: StoredCheckpoint): void {
    this.db.exec(INDEXES);
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

/** Applies document changes exactly; nothing is visible to other readers until `commit`. */
export class DeltaTransaction {
  private readonly dfDelta = new Map<string, Map<number, number>>();
  private readonly nDelta = new Map<string, number>();
  private readonly nextId = new Map<string, number>();
  private readonly termCache = new Map<string, Map<string, number>>();
  private readonly getDoc: Database.Statement;
  private readonly putDoc: Database.Statement;
  private readonly deleteDoc: Database.Statement;
  private readonly getTermId: Database.Statement;
  private readonly insertTerm: Database.Statement;
  private readonly writer = new ByteWriter(4096);
  private open = true;
  readonly stats: ApplyStats = {
    inserted: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    stale: 0,
    movedLanguage: 0,
  };

  constructor(
    private readonly db: Database.Database,
    private readonly onEnd: () => void,
  ) {
    this.getDoc = db.prepare('SELECT lang, updated_at AS updatedAt, terms FROM docs WHERE id = ?');
    this.putDoc = db.prepare(
      'INSERT INTO docs (id, lang, updated_at, terms) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at, terms = excluded.terms',
    );
    this.deleteDoc = db.prepare('DELETE FROM docs WHERE id = ?');
    this.getTermId = db.prepare('SELECT id FROM terms WHERE lang = ? AND term = ?').pluck();
    this.insertTerm = db.prepare('INSERT INTO terms (lang, id, term, df) VALUES (?, ?, ?, 0)');
  }

  private bump(lang: string, id: number, by: number): void {
    let map = this.dfDelta.get(lang);
    if (map === undefined) {
      map = new Map();
      this.dfDelta.set(lang, map);
    }
    map.set(id, (map.get(id) ?? 0) + by);
  }

  private termId(lang: string, term: string): number {
    let cache = this.termCache.get(lang);
    if (cache === undefined) {
      cache = new Map();
      this.termCache.set(lang, cache);
    }
    const cached = cache.get(term);
    if (cached !== undefined) return cached;
    let id = this.getTermId.get(lang, term) as number | undefined;
    if (id === undefined) {
      let next = this.nextId.get(lang);
      if (next === undefined) {
        const row = this.db.prepare('SELECT next_id FROM langs WHERE lang = ?').pluck().get(lang) as
          | number
          | undefined;
        if (row === undefined)
          this.db.prepare('INSERT INTO langs (lang, n, next_id) VALUES (?, 0, 0)').run(lang);
        next = row ?? 0;
      }
      id = next;
      this.nextId.set(lang, next + 1);
      this.insertTerm.run(lang, id, term);
    }
    cache.set(term, id);
    return id;
  }

  /** Applies one change. A version older than the stored one is ignored (re-delivery). */
  apply(change: DocumentChange): void {
    const old = this.getDoc.get(change.id) as
      | { lang: string; updatedAt: number; terms: Buffer }
      | undefined;
    if (old !== undefined && change.updatedAtMs < old.updatedAt) {
      this.stats.stale++;
      return;
    }
    if (old !== undefined) {
      const { ids } = readIdSet(old.terms);
      for (const id of ids) this.bump(old.lang, id, -1);
      this.nDelta.set(old.lang, (this.nDelta.get(old.lang) ?? 0) - 1);
    }
    if (change.deleted) {
      if (old !== undefined) {
        this.deleteDoc.run(change.id);
        this.stats.deleted++;
      } else {
        this.stats.unchanged++;
      }
      return;
    }
    const ids = new Uint32Array(change.terms.length);
    for (let i = 0; i < change.terms.length; i++)
      ids[i] = this.termId(change.lang, change.terms[i]!);
    ids.sort();
    for (const id of ids) this.bump(change.lang, id, 1);
    this.nDelta.set(change.lang, (this.nDelta.get(change.lang) ?? 0) + 1);
    this.writer.reset();
    this.writer.writeIdSet(ids, ids.length);
    const record = Buffer.from(this.writer.bytes());
    if (old === undefined) this.stats.inserted++;
    else if (old.lang !== change.lang) this.stats.movedLanguage++;
    else if (Buffer.compare(old.terms, record) === 0) this.stats.unchanged++;
    else this.stats.updated++;
    this.putDoc.run(change.id, change.lang, change.updatedAtMs, record);
  }

  /** Writes the accumulated document-frequency and N changes; selection reads them afterwards. */
  flush(): void {
    const updateDf = this.db
      .prepare('UPDATE terms SET df = df + ? WHERE lang = ? AND id = ? RETURNING df')
      .pluck();
    const updateN = this.db
      .prepare('UPDATE langs SET n = n + ? WHERE lang = ? RETURNING n')
      .pluck();
    const updateNext = this.db.prepare('UPDATE langs SET next_id = ? WHERE lang = ?');
    // A count below zero means the stored term sets do not match what was counted: refuse it.
    const corrupt = (): never => {
      throw new StateCorruptError(
        'a document frequency went negative: the state does not match the corpus',
      );
    };
    for (const [lang, deltas] of this.dfDelta) {
      for (const [id, delta] of deltas) {
        if (delta !== 0 && (updateDf.get(delta, lang, id) as number) < 0) corrupt();
      }
    }
    this.dfDelta.clear();
    for (const [lang, delta] of this.nDelta) {
      if (delta !== 0 && (updateN.get(delta, lang) as number) < 0) corrupt();
    }
    this.nDelta.clear();
    for (const [lang, next] of this.nextId) updateNext.run(next, lang);
  }

  writeCheckpoint(checkpoint: StoredCheckpoint): void {
    putCheckpoint(this.db, checkpoint);
  }

  commit(): void {
    if (!this.open) throw new Error('transaction already ended');
    this.db.exec('COMMIT');
    this.open = false;
    this.onEnd();
  }

  rollback(): void {
    if (!this.open) return;
    this.db.exec('ROLLBACK');
    this.open = false;
    this.onEnd();
  }
}
