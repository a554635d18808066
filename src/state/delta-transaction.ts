/**
 * A delta run's changes to the frequency state, in one SQLite transaction. Each changed document
 * first gives back what its stored version contributed (1 to the df of each of its terms, its
 * term frequency to their cf, 1 to N), then adds its new version and replaces its record, so a
 * document applied twice changes nothing and a chain of deltas equals a full recount.
 */
import type Database from 'better-sqlite3';
import { ByteWriter, readTermCounts, sortTermCounts } from '../analysis/term-ids.js';
import { insertRows } from './bulk-insert.js';
import { putCheckpoint, StateCorruptError, type StoredCheckpoint } from './store-schema.js';

/** A change of one document, as the analysis produced it. */
export interface DocumentChange {
  readonly id: string;
  readonly updatedAtMs: number;
  readonly deleted: boolean;
  readonly lang: string;
  /** Distinct terms of the new version (empty for a tombstone). */
  readonly terms: readonly string[];
  /** Occurrences of `terms[i]` in the new version, at least 1. */
  readonly tfs: ArrayLike<number>;
}

export interface ApplyStats {
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  stale: number;
  movedLanguage: number;
}

/** Terms looked up per statement. */
const LOOKUP_BATCH = 64;

/** Pending change of one term: documents and occurrences. */
interface TermDelta {
  df: number;
  cf: number;
}

/** Applies document changes exactly; nothing is visible to other readers until `commit`. */
export class DeltaTransaction {
  private readonly termDelta = new Map<string, Map<number, TermDelta>>();
  private readonly nDelta = new Map<string, number>();
  private readonly nextId = new Map<string, number>();
  private readonly termCache = new Map<string, Map<string, number>>();
  private readonly getDoc: Database.Statement;
  private readonly putDoc: Database.Statement;
  private readonly deleteDoc: Database.Statement;
  private readonly lookupTerms: Database.Statement;
  /** Per language, terms first seen by this run: id -> term, inserted by `flush`. */
  private readonly newTerms = new Map<string, Map<number, string>>();
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
    this.lookupTerms = db
      .prepare(
        `SELECT term, id FROM terms WHERE lang = ? AND term IN (${new Array(LOOKUP_BATCH).fill('?').join(', ')})`,
      )
      .raw();
  }

  private bump(lang: string, id: number, df: number, cf: number): void {
    let map = this.termDelta.get(lang);
    if (map === undefined) {
      map = new Map();
      this.termDelta.set(lang, map);
    }
    const pending = map.get(id);
    if (pending === undefined) map.set(id, { df, cf });
    else {
      pending.df += df;
      pending.cf += cf;
    }
  }

  private cacheFor(lang: string): Map<string, number> {
    let cache = this.termCache.get(lang);
    if (cache === undefined) {
      cache = new Map();
      this.termCache.set(lang, cache);
    }
    return cache;
  }

  /**
   * Ids of `terms` in `lang`, in order: from this run's cache, else looked up LOOKUP_BATCH at a
   * time in term order (one statement per batch costs a third of one per term), else new.
   */
  private termIds(lang: string, terms: readonly string[], out: Uint32Array): void {
    const cache = this.cacheFor(lang);
    const missing: string[] = [];
    for (const term of terms) if (!cache.has(term)) missing.push(term);
    if (missing.length > 0) {
      missing.sort();
      const params: string[] = new Array<string>(LOOKUP_BATCH + 1);
      params[0] = lang;
      for (let at = 0; at < missing.length; at += LOOKUP_BATCH) {
        // A short last batch repeats its last term: the statement always takes LOOKUP_BATCH.
        const last = Math.min(at + LOOKUP_BATCH, missing.length) - 1;
        for (let k = 0; k < LOOKUP_BATCH; k++) params[k + 1] = missing[Math.min(at + k, last)]!;
        for (const [term, id] of this.lookupTerms.all(params) as Array<[string, number]>) {
          cache.set(term, id);
        }
      }
      for (const term of missing) if (!cache.has(term)) cache.set(term, this.newTermId(lang, term));
    }
    for (let i = 0; i < terms.length; i++) out[i] = cache.get(terms[i]!)!;
  }

  private newTermId(lang: string, term: string): number {
    let next = this.nextId.get(lang);
    if (next === undefined) {
      const row = this.db.prepare('SELECT next_id FROM langs WHERE lang = ?').pluck().get(lang) as
        | number
        | undefined;
      if (row === undefined)
        this.db.prepare('INSERT INTO langs (lang, n, next_id) VALUES (?, 0, 0)').run(lang);
      next = row ?? 0;
    }
    this.nextId.set(lang, next + 1);
    // Inserted by `flush`, with its counts: one write instead of an insert and an update.
    let added = this.newTerms.get(lang);
    if (added === undefined) {
      added = new Map();
      this.newTerms.set(lang, added);
    }
    added.set(next, term);
    return next;
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
      const { ids, tfs } = readTermCounts(old.terms);
      for (let i = 0; i < ids.length; i++) this.bump(old.lang, ids[i]!, -1, -tfs[i]!);
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
    const count = change.terms.length;
    const ids = new Uint32Array(count);
    const tfs = Uint32Array.from(change.tfs);
    this.termIds(change.lang, change.terms, ids);
    for (let i = 0; i < count; i++) this.bump(change.lang, ids[i]!, 1, tfs[i]!);
    sortTermCounts(ids, tfs, count);
    this.nDelta.set(change.lang, (this.nDelta.get(change.lang) ?? 0) + 1);
    this.writer.reset();
    this.writer.writeTermCounts(ids, tfs, count);
    const record = Buffer.from(this.writer.bytes());
    if (old === undefined) this.stats.inserted++;
    else if (old.lang !== change.lang) this.stats.movedLanguage++;
    else if (Buffer.compare(old.terms, record) === 0) this.stats.unchanged++;
    else this.stats.updated++;
    this.putDoc.run(change.id, change.lang, change.updatedAtMs, record);
  }

  /** Writes the accumulated frequency and N changes; selection reads them afterwards. */
  flush(): void {
    const updateTerm = this.db
      .prepare(
        'UPDATE terms SET df = df + ?, cf = cf + ? WHERE lang = ? AND id = ? RETURNING df, cf',
      )
      .raw();
    const updateN = this.db
      .prepare('UPDATE langs SET n = n + ? WHERE lang = ? RETURNING n')
      .pluck();
    const updateNext = this.db.prepare('UPDATE langs SET next_id = ? WHERE lang = ?');
    // A count below zero, or fewer occurrences than documents, means the stored records do not
    // match what was counted: refuse it.
    const corrupt = (what: string): never => {
      throw new StateCorruptError(`${what}: the state does not match the corpus`);
    };
    for (const [lang, deltas] of this.termDelta) {
      const added = this.newTerms.get(lang);
      const rows: Array<[number, string, number, number]> = [];
      // In id order: the rows are then visited in the table's order, about a quarter faster.
      const ids = Float64Array.from(deltas.keys()).sort();
      for (const id of ids) {
        const delta = deltas.get(id)!;
        const term = added?.get(id);
        if (term !== undefined) {
          // First seen by this run: inserted below with its counts.
          if (delta.df < 0 || delta.cf < delta.df) corrupt('a new term has impossible counts');
          rows.push([id, term, delta.df, delta.cf]);
          added!.delete(id);
          continue;
        }
        if (delta.df === 0 && delta.cf === 0) continue;
        const [df, cf] = updateTerm.get(delta.df, delta.cf, lang, id) as [number, number];
        if (df < 0 || cf < 0) corrupt('a term frequency went negative');
        if (cf < df) corrupt('a term has fewer occurrences than documents');
      }
      insertRows(this.db, 'terms (lang, id, term, df, cf)', 5, rows.length, (i, params, at) => {
        const [id, term, df, cf] = rows[i]!;
        params[at] = lang;
        params[at + 1] = id;
        params[at + 2] = term;
        params[at + 3] = df;
        params[at + 4] = cf;
      });
    }
    // Every new term comes with a document that counted it, so none should be left; one that is
    // is stored with no counts rather than leave its id unnamed.
    for (const [lang, added] of this.newTerms) {
      const left = [...added];
      insertRows(this.db, 'terms (lang, id, term, df, cf)', 5, left.length, (i, params, at) => {
        const [id, term] = left[i]!;
        params[at] = lang;
        params[at + 1] = id;
        params[at + 2] = term;
        params[at + 3] = 0;
        params[at + 4] = 0;
      });
    }
    this.newTerms.clear();
    this.termDelta.clear();
    for (const [lang, delta] of this.nDelta) {
      if (delta !== 0 && (updateN.get(delta, lang) as number) < 0)
        corrupt('a document count went negative');
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
