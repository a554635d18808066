/**
 * A delta run's changes to the frequency state, in one SQLite transaction. Each changed document
 * first gives back what its stored version contributed (1 to the df of each of its terms, its
 * term frequency to their cf, 1 to N), then adds its new version and replaces its record, so a
 * document applied twice changes nothing and a chain of deltas equals a full recount.
 *
 * The term frequencies change in the dictionary in memory; `commit` writes it to a new file and
 * names that file in the same database transaction as the documents, N and the checkpoint.
 *
 * A stored record may hold the ids of the full count's worker that counted it (`docs.numbering`
 * other than 0): they are read through that worker's numbering (`numberings`). Every record this
 * writes holds the dictionary's ids.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import {
  ByteWriter,
  encodeTermCounts,
  getVarint,
  sortTermCounts,
  varintEnd,
} from '../analysis/term-ids.js';
import type { SharedTerms } from '../analysis/term-table.js';
import {
  newDictionaryName,
  numberingIds,
  putCheckpoint,
  putMeta,
  StateCorruptError,
  type StoredCheckpoint,
} from './store-schema.js';
import type { TermDictionary } from './term-dictionary.js';

/** A change of one document, as the analysis produced it. */
export interface DocumentChange {
  readonly id: string;
  readonly updatedAtMs: number;
  readonly deleted: boolean;
  readonly lang: string;
  /**
   * Distinct terms of the new version found in the dictionary's shared terms
   * (`TermDictionary.shared`), as pairs (id, occurrences), ascending by id (in any other order
   * they are sorted here); absent when none were looked up.
   */
  readonly known?: Uint32Array;
  /** The other distinct terms of the new version (all of them for a tombstone: none). */
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

const NONE = new Uint32Array(0);

/** A count below zero, or fewer occurrences than documents: the records do not match the counts. */
function corrupt(what: string): never {
  throw new StateCorruptError(`${what}: the state does not match the corpus`);
}

/** Applies document changes exactly; nothing is visible to other readers until `commit`. */
export class DeltaTransaction {
  private readonly nDelta = new Map<string, number>();
  private readonly getDoc: Database.Statement;
  private readonly putDoc: Database.Statement;
  private readonly deleteDoc: Database.Statement;
  private readonly writer = new ByteWriter(4096);
  private ids = new Uint32Array(1024);
  private tfs = new Uint32Array(1024);
  /** A stored record in a worker's numbering, with the dictionary's ids (`subtract`). */
  private readonly mapped = { ids: new Uint32Array(1024), tfs: new Uint32Array(1024), count: 0 };
  /** Numberings read so far, by `numbering:lang`. */
  private readonly numberings = new Map<string, Uint32Array>();
  private readonly getNumbering: Database.Statement;
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
    private readonly dictionary: TermDictionary,
    private readonly dir: string,
    /** When the database passed its integrity check in this run, written at commit (or null). */
    private readonly soundAt: string | null,
    /** Called once the transaction ends: with the new dictionary file, or null when rolled back. */
    private readonly onEnd: (dictionaryFile: string | null) => void,
  ) {
    this.getDoc = db.prepare(
      'SELECT lang, updated_at AS updatedAt, numbering, terms FROM docs WHERE id = ?',
    );
    this.putDoc = db.prepare(
      'INSERT INTO docs (id, lang, updated_at, numbering, terms) VALUES (?, ?, ?, 0, ?) ON CONFLICT (id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at, numbering = 0, terms = excluded.terms',
    );
    this.deleteDoc = db.prepare('DELETE FROM docs WHERE id = ?');
    this.getNumbering = db
      .prepare('SELECT ids FROM numberings WHERE numbering = ? AND lang = ?')
      .pluck();
  }

  /**
   * The dictionary's terms as they stand, for analysis workers to look the changed documents'
   * terms up in (`DocumentChange.known`); unchanged while the transaction lasts.
   */
  sharedTerms(): SharedTerms[] {
    return this.dictionary.shared();
  }

  /** Numbering `numbering` of `lang` (not 0): the dictionary's id of each of its ids. */
  private numbering(numbering: number, lang: string): Uint32Array {
    const key = `${numbering}:${lang}`;
    let ids = this.numberings.get(key);
    if (ids === undefined) {
      const bytes = this.getNumbering.get(numbering, lang) as Buffer | undefined;
      if (bytes === undefined)
        corrupt(
          `a document's term ids are in numbering ${numbering} of ${lang}, which the state lacks`,
        );
      try {
        ids = numberingIds(bytes);
      } catch (error) {
        corrupt(`numbering ${numbering} of ${lang}: ${(error as Error).message}`);
      }
      this.numberings.set(key, ids);
    }
    return ids;
  }

  /**
   * Gives back what a stored record contributed, decoding it in place (the record format of
   * `ByteWriter.writeTermCounts`, with gaps); its ids are the dictionary's, or mapped to them by
   * `numbering`. With `mapped`, keeps the dictionary's ids and their frequencies there.
   */
  private subtract(
    lang: string,
    record: Uint8Array,
    numbering: Uint32Array | null,
    mapped: { ids: Uint32Array; tfs: Uint32Array; count: number } | null,
  ): void {
    const end = record.length;
    if (end === 0) corrupt('a document record is empty');
    const count = getVarint(record, 0);
    let pos = varintEnd;
    if (mapped !== null) {
      if (mapped.ids.length < count) {
        mapped.ids = new Uint32Array(count * 2);
        mapped.tfs = new Uint32Array(count * 2);
      }
      mapped.count = count;
    }
    if (count === 0) return;
    const terms = this.dictionary.get(lang);
    if (terms === undefined) corrupt(`a document counts terms of ${lang}, which has none`);
    const { counts, size } = terms;
    let previous = -1;
    for (let i = 0; i < count; i++) {
      if (pos >= end) corrupt('a document record is cut short');
      const value = getVarint(record, pos);
      pos = varintEnd;
      let tf = 1;
      if (value % 2 === 1) {
        if (pos >= end) corrupt('a document record is cut short');
        tf = getVarint(record, pos) + 2;
        pos = varintEnd;
      }
      const stored = previous + (value - (value % 2)) / 2 + 1;
      previous = stored;
      let id = stored;
      if (numbering !== null) {
        if (!(stored < numbering.length)) corrupt('a document record names an unknown term');
        id = numbering[stored]!;
      }
      if (!(id < size)) corrupt('a document record names an unknown term');
      if (mapped !== null) {
        mapped.ids[i] = id;
        mapped.tfs[i] = tf;
      }
      const at = 2 * id;
      const df = counts[at]! - 1;
      const cf = counts[at + 1]! - tf;
      if (df < 0) corrupt('a term frequency went negative');
      if (cf < df) corrupt('a term has fewer occurrences than documents');
      counts[at] = df;
      counts[at + 1] = cf;
    }
    if (pos !== end) corrupt('a document record does not end with its terms');
  }

  /** Applies one change. A version older than the stored one is ignored (re-delivery). */
  apply(change: DocumentChange): void {
    // Outside the transaction SQLite would write each change on its own, for good.
    if (!this.open) throw new Error('transaction already ended');
    const old = this.getDoc.get(change.id) as
      | { lang: string; updatedAt: number; numbering: number; terms: Buffer }
      | undefined;
    if (old !== undefined && change.updatedAtMs < old.updatedAt) {
      this.stats.stale++;
      return;
    }
    if (old !== undefined) {
      if (old.numbering === 0) {
        this.subtract(old.lang, old.terms, null, null);
      } else {
        // Kept in the dictionary's ids, to be compared with the new record.
        this.subtract(old.lang, old.terms, this.numbering(old.numbering, old.lang), this.mapped);
      }
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
    const known = change.known ?? NONE;
    const count = known.length / 2 + change.terms.length;
    if (this.ids.length < count) {
      this.ids = new Uint32Array(count * 2);
      this.tfs = new Uint32Array(count * 2);
    }
    const ids = this.ids;
    const tfs = this.tfs;
    const terms = this.dictionary.language(change.lang);
    let n = 0;
    let counts = terms.counts;
    let ascending = true;
    for (let i = 0; i < known.length; i += 2) {
      const id = known[i]!;
      const tf = known[i + 1]!;
      if (id >= terms.size) throw new Error(`${change.lang} has no term id ${id}`);
      if (n > 0 && id <= ids[n - 1]!) ascending = false;
      ids[n] = id;
      tfs[n++] = tf;
      counts[2 * id]!++;
      counts[2 * id + 1]! += tf;
    }
    const knownCount = n;
    for (let i = 0; i < change.terms.length; i++) {
      const id = terms.idOrAdd(change.terms[i]!);
      const tf = change.tfs[i]!;
      ids[n] = id;
      tfs[n++] = tf;
      // Read after idOrAdd, which may have grown the array.
      counts = terms.counts;
      counts[2 * id]!++;
      counts[2 * id + 1]! += tf;
    }
    // Known ids come sorted from the workers, and every term they did not know has a larger id
    // (the dictionary's own, or one the run added): only those need sorting, as a rule.
    if (ascending && knownCount < count) {
      sortTermCounts(
        ids.subarray(knownCount, count),
        tfs.subarray(knownCount, count),
        count - knownCount,
      );
      if (knownCount > 0 && ids[knownCount]! <= ids[knownCount - 1]!) ascending = false;
    }
    if (!ascending) sortTermCounts(ids, tfs, count);
    this.nDelta.set(change.lang, (this.nDelta.get(change.lang) ?? 0) + 1);
    this.writer.reset();
    this.writer.writeTermCounts(ids, tfs, count);
    // A view of the writer's buffer, bound (and so copied) by SQLite before the next change.
    const record = this.writer.bytes();
    if (old === undefined) this.stats.inserted++;
    else if (old.lang !== change.lang) this.stats.movedLanguage++;
    else if (this.sameRecord(old.numbering, old.terms, record, count)) this.stats.unchanged++;
    else this.stats.updated++;
    this.putDoc.run(change.id, change.lang, change.updatedAtMs, record);
  }

  /**
   * Whether a stored record holds the same terms and frequencies as `record`, the new one of
   * `count` terms in the dictionary's ids. A record in a worker's numbering, already read into
   * `mapped` by `subtract`, is encoded in the dictionary's ids only when it has as many terms:
   * an update that changes the number of distinct terms, the common case, costs no encoding.
   */
  private sameRecord(numbering: number, stored: Uint8Array, record: Uint8Array, count: number) {
    if (numbering === 0) return Buffer.compare(stored, record) === 0;
    const mapped = this.mapped;
    if (mapped.count !== count) return false;
    const encoded = encodeTermCounts(
      mapped.ids.subarray(0, mapped.count),
      mapped.tfs.subarray(0, mapped.count),
    );
    return Buffer.compare(encoded, record) === 0;
  }

  /** Writes the accumulated N changes; selection reads the frequencies afterwards. */
  flush(): void {
    const updateN = this.db
      .prepare(
        'INSERT INTO langs (lang, n) VALUES (?, ?) ON CONFLICT (lang) DO UPDATE SET n = n + excluded.n RETURNING n',
      )
      .pluck();
    for (const [lang, delta] of this.nDelta) {
      if (delta !== 0 && (updateN.get(lang, delta) as number) < 0) {
        corrupt('a document count went negative');
      }
    }
    this.nDelta.clear();
  }

  writeCheckpoint(checkpoint: StoredCheckpoint): void {
    putCheckpoint(this.db, checkpoint);
  }

  /** Writes the dictionary to a new file, then commits the database naming it. */
  commit(): void {
    if (!this.open) throw new Error('transaction already ended');
    this.flush();
    const name = newDictionaryName();
    const path = join(this.dir, name);
    try {
      this.dictionary.write(path);
      putMeta(this.db, 'dictionary', name);
      if (this.soundAt !== null) putMeta(this.db, 'soundAt', this.soundAt);
      this.db.exec('COMMIT');
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
    this.open = false;
    this.onEnd(name);
  }

  rollback(): void {
    if (!this.open) return;
    this.db.exec('ROLLBACK');
    this.open = false;
    this.onEnd(null);
  }
}
