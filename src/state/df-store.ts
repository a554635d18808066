/**
 * The frequency state: per language N and, per term, its document frequency df and collection
 * frequency cf (occurrences); per document the term ids it contributed with their frequencies, so
 * that a night's changes can be applied exactly (delta-transaction.ts). An SQLite database
 * (store-schema.ts) holds N, the documents and the checkpoint; the terms with their df and cf are
 * in the dictionary file it names (term-dictionary.ts). A run's changes, its dictionary and its
 * checkpoint are committed in one transaction, only after the publish.
 *
 * A full count numbers each language's terms in the order one worker first saw them, then the
 * terms only the others saw (common words come early, so a document's gap-encoded record is
 * mostly one byte per term); terms first seen by a delta run get the next free id of their
 * language. The other workers' documents keep their own ids, in their own first-seen order,
 * with the number of the worker's numbering, which maps them to the dictionary's
 * (`loadNumbering`); a delta run writes the documents it changes with the dictionary's ids.
 */
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { DeltaTransaction } from './delta-transaction.js';
import {
  DocumentWriter,
  DuplicateDocumentError,
  insertDocuments,
  loadWithoutJournal,
} from './document-writer.js';
import { quickCheck, type ReadAhead } from './integrity-check.js';
import {
  CheckpointCorruptError,
  DICTIONARY_FILE,
  getMeta,
  newDictionaryName,
  numberingBytes,
  putCheckpoint,
  putMeta,
  SCHEMA,
  STATE_SCHEMA_VERSION,
  StateCorruptError,
  StateSchemaError,
  type StoredCheckpoint,
} from './store-schema.js';
import { LanguageTerms, TermDictionary } from './term-dictionary.js';

export type { ApplyStats, DeltaTransaction, DocumentChange } from './delta-transaction.js';
export {
  CheckpointCorruptError,
  STATE_SCHEMA_VERSION,
  StateCorruptError,
  StateSchemaError,
  type StoredCheckpoint,
} from './store-schema.js';

export { DuplicateDocumentError };

export interface LanguageTotals {
  readonly lang: string;
  readonly n: number;
}

/** One language's stored frequencies: term -> df and term -> cf, same keys. */
export interface StoredTerms {
  readonly df: Map<string, number>;
  readonly cf: Map<string, number>;
}

/** SQLite page size of a new generation's database, in bytes. */
export const PAGE_BYTES = 8192;

/**
 * SQLite page cache of a delta transaction, in KiB (the default is 2 MiB). Every page the cache
 * grows by is fresh memory, faulted in on its first use: a 1M-document night touches about 28K
 * pages, which a 64 MiB cache took in whole. With 16 MiB, SQLite writes changed pages to the file
 * during the transaction (the rollback journal synced first, a few syncs a night) and reuses
 * their memory.
 */
const DELTA_CACHE_KIB = 16 * 1024;

export interface OpenOptions {
  /** Skip the integrity check when the database was known sound less than this long ago. */
  readonly skipCheckWithinHours?: number;
  /**
   * Resolve without waiting for the integrity check, which then runs on a thread of its own
   * whatever the database's size; `verified` settles with it.
   */
  readonly deferCheck?: boolean;
  /**
   * With `deferCheck`: the check starts only once this resolves, and never when it rejects. A
   * check that read a database another run is writing would hold up that run's writes and
   * commit for as long as it reads: a dry run, which holds no lock, waits until it connects.
   */
  readonly checkAfter?: Promise<unknown>;
  /** The time the run started (default: now). */
  readonly now?: Date;
  /**
   * Reads the term dictionary, its lookup tables built (default: `TermDictionary.read` and
   * `index` on this thread); a run has one of its analysis workers read it.
   */
  readonly readDictionary?: (path: string) => Promise<TermDictionary>;
}

export interface Integrity {
  /** Whether SQLite's `quick_check` ran (and passed) when the store was opened. */
  readonly checked: boolean;
  /** When the database was last known sound. */
  readonly soundAt: Date;
}

function unreadable(path: string, error: unknown): StateCorruptError {
  const message = error instanceof Error ? error.message : String(error);
  return new StateCorruptError(`state ${path} is unreadable: ${message}`, { cause: error });
}

/** The `soundAt` meta value as a time, or null when absent or not a valid time. */
function knownSoundAt(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isFinite(time) ? new Date(time) : null;
}

export class DfStore {
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly dir: string;
  private inTransaction = false;
  /** A full count's languages and their N, and its workers' numberings, stored by `finishLoad`. */
  private readonly loadedLangs: LanguageTotals[] = [];
  private readonly loadedNumberings: Array<{ numbering: number; lang: string; ids: Buffer }> = [];
  /** The dictionary file in force (null while a full count builds the store). */
  private dictionaryFile: string | null;
  /** In memory; null after a rolled-back transaction changed it, until read again. */
  private dictionary: TermDictionary | null;
  /** How the database was read through before its check, found out of the page cache (`open`). */
  readAhead: ReadAhead | null = null;
  /** Whether `open` checked the database, and when it was known sound (a check passing: now). */
  integrity: Integrity | null = null;
  /**
   * Settles with the integrity check of a store opened with `deferCheck`: rejects with
   * StateCorruptError when the database fails it (resolved at once when the check ran in `open`
   * or was skipped). Nothing may write to the database before it resolves: the check reads it.
   */
  verified: Promise<void> = Promise.resolve();
  /** Stops a deferred check still running when the store closes. */
  private checkAbort: AbortController | null = null;

  private constructor(
    db: Database.Database,
    path: string,
    dictionaryFile: string | null,
    dictionary: TermDictionary,
  ) {
    this.db = db;
    this.path = path;
    this.dir = dirname(path);
    this.dictionaryFile = dictionaryFile;
    this.dictionary = dictionary;
  }

  /**
   * Opens an existing store; rejects with StateCorruptError when it is not a readable store.
   * SQLite's integrity check runs on another thread while this one reads the dictionary, unless
   * the database was known sound less than `skipCheckWithinHours` hours before `now`. With
   * `deferCheck` the store comes back once the dictionary is read, and `verified` tells how the
   * check ended.
   */
  static async open(path: string, options: OpenOptions = {}): Promise<DfStore> {
    const now = options.now ?? new Date();
    let db: Database.Database | undefined;
    let check: Promise<string> | undefined;
    let name: string | null = null;
    let dictionary: TermDictionary;
    let readAhead: ReadAhead | null = null;
    let integrity: Integrity;
    let checkAbort: AbortController | null = null;
    let opened: DfStore | undefined;
    try {
      db = new Database(path, { fileMustExist: true });
      db.pragma('journal_mode = DELETE');
      db.pragma('synchronous = FULL');
      // This first read rolls back a journal a crash left, before the check's read-only reader.
      const version = getMeta(db, 'schemaVersion');
      if (version !== String(STATE_SCHEMA_VERSION)) {
        const found = typeof version === 'string' ? version : null;
        throw new StateSchemaError(
          `state ${path} has schema version ${String(found)}; this version reads ${STATE_SCHEMA_VERSION}`,
          found,
        );
      }
      const soundAt = knownSoundAt(getMeta(db, 'soundAt'));
      const within = (options.skipCheckWithinHours ?? 0) * 3_600_000;
      const age = soundAt === null ? Number.NaN : now.getTime() - soundAt.getTime();
      if (soundAt !== null && age >= 0 && age < within) {
        integrity = { checked: false, soundAt };
      } else {
        integrity = { checked: true, soundAt: now };
        const onReadAhead = (found: ReadAhead): void => {
          readAhead = found;
          if (opened !== undefined) opened.readAhead = found;
        };
        if (options.deferCheck === true) {
          const abort = new AbortController();
          checkAbort = abort;
          const connection = db;
          check = (options.checkAfter ?? Promise.resolve()).then(() =>
            quickCheck(connection, path, 0, onReadAhead, undefined, abort.signal),
          );
          // Observed from now on: it may fail before `verified` is read.
          check.catch(() => {});
        } else {
          check = quickCheck(db, path, undefined, onReadAhead);
        }
      }
      const named = getMeta(db, 'dictionary');
      if (typeof named !== 'string' || !DICTIONARY_FILE.test(named)) {
        throw new Error('it names no dictionary file');
      }
      name = named;
      const dictionaryPath = join(dirname(path), name);
      if (options.readDictionary === undefined) {
        // Opened for a delta run, which looks terms up.
        dictionary = TermDictionary.readIndexed(dictionaryPath);
      } else {
        dictionary = await options.readDictionary(dictionaryPath);
      }
      if (check !== undefined && checkAbort === null) {
        const result = await check;
        if (result !== 'ok') throw new Error(`quick_check: ${result}`);
      }
    } catch (error) {
      // Nothing is left running or open behind a refusal.
      checkAbort?.abort(new Error('the store was not opened'));
      await check?.catch(() => undefined);
      if (db?.open === true) db.close();
      if (error instanceof StateSchemaError) throw error;
      throw unreadable(path, error);
    }
    const store = new DfStore(db, path, name, dictionary);
    opened = store;
    store.readAhead = readAhead;
    store.integrity = integrity;
    if (check !== undefined && checkAbort !== null) {
      const abort = checkAbort;
      store.checkAbort = abort;
      store.verified = check.then(
        (result) => {
          store.checkAbort = null;
          if (result !== 'ok') throw unreadable(path, new Error(`quick_check: ${result}`));
        },
        (error: unknown) => {
          store.checkAbort = null;
          throw abort.signal.aborted ? error : unreadable(path, error);
        },
      );
      store.verified.catch(() => {});
    }
    return store;
  }

  /** Creates an empty store for a full count. */
  static create(path: string): DfStore {
    const db = new Database(path);
    // Set before the file holds anything. Against SQLite's 4 KiB, half the pages for the same
    // rows: half the system calls for the full count's writes and for a delta's integrity
    // check, which reads every page (1M-document state: 417 MB against 439, the delta's `plan`
    // 0.57-0.65 s against 0.80-0.89). A delta still rewrites one page per changed document.
    db.pragma(`page_size = ${PAGE_BYTES}`);
    // A fresh file is only made live by the caller's rename, whole: `finishLoad` syncs it once.
    loadWithoutJournal(db, path);
    db.exec(SCHEMA);
    putMeta(db, 'schemaVersion', String(STATE_SCHEMA_VERSION));
    return new DfStore(db, path, null, new TermDictionary());
  }

  /** The dictionary in memory, read again from its file after a rolled-back transaction. */
  private terms(): TermDictionary {
    if (this.dictionary === null) {
      if (this.dictionaryFile === null) throw new Error('the store has no dictionary yet');
      this.dictionary = TermDictionary.read(join(this.dir, this.dictionaryFile));
    }
    return this.dictionary;
  }

  readCheckpoint(): StoredCheckpoint | null {
    const text = getMeta(this.db, 'checkpoint') as string | undefined;
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
    return this.terms().get(lang)?.atLeast(minDf) ?? { df: new Map(), cf: new Map() };
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

  /** Removes dictionary files other than the one in force: leftovers of runs that died. */
  removeStaleDictionaries(): void {
    for (const name of readdirSync(this.dir)) {
      if (DICTIONARY_FILE.test(name) && name !== this.dictionaryFile) {
        rmSync(join(this.dir, name), { force: true });
      }
    }
  }

  // ---- full count: bulk load -------------------------------------------------------------

  /**
   * Loads one language's terms, a length-prefixed arena (`lengthPrefixed`): term i gets
   * id i, df `df[i]` and cf `cf[i]`. Kept in memory until `finishLoad`, which stores the
   * language's N with the rest, so that the load writes nothing while a `DocumentWriter` stores
   * the documents through a connection of its own.
   */
  loadLanguage(
    lang: string,
    n: number,
    arena: Uint16Array,
    df: ArrayLike<number>,
    cf: ArrayLike<number>,
  ): void {
    if (this.dictionaryFile !== null) throw new Error('the dictionary is already saved');
    this.loadedLangs.push({ lang, n });
    this.terms().set(LanguageTerms.fromArena(lang, arena, df, cf));
  }

  /**
   * Writes the loaded terms to the dictionary file, which `finishLoad` names in the database.
   * Optional (`finishLoad` writes it otherwise): called once every language is loaded, it
   * overlaps the work with the loading of the documents.
   */
  saveDictionary(): void {
    if (this.dictionaryFile !== null) return;
    const name = newDictionaryName();
    this.terms().write(join(this.dir, name));
    this.dictionaryFile = name;
    // A full count reads nothing back while it loads the documents: free the memory until then.
    this.dictionary = null;
  }

  /**
   * Stores a numbering of a full count's worker (not 0, the dictionary's own): per language
   * `langs[i]`, `ids[i][id]` is the dictionary's id of that worker's `id`. Kept until
   * `finishLoad`, like the languages.
   */
  loadNumbering(numbering: number, langs: readonly string[], ids: readonly Uint32Array[]): void {
    if (!(Number.isSafeInteger(numbering) && numbering > 0)) {
      throw new Error(`numbering ${numbering} is not a worker's`);
    }
    if (ids.length !== langs.length) throw new Error('a numbering needs ids for each language');
    langs.forEach((lang, i) => {
      this.loadedNumberings.push({ numbering, lang, ids: numberingBytes(ids[i]!) });
    });
  }

  /**
   * Loads documents on this thread: `records` holds term records back to back, `ends[i]` the
   * end of document i's, their ids in numbering `numbering` (0: the dictionary's; another,
   * `loadNumbering`'s).
   */
  loadDocuments(
    ids: readonly string[],
    langs: readonly string[],
    langOf: Uint16Array,
    updatedAt: Float64Array,
    records: Uint8Array,
    ends: Uint32Array,
    numbering: number,
  ): void {
    const duplicate = insertDocuments(this.db, {
      numbering,
      ids,
      langs,
      langOf,
      updatedAt,
      records,
      ends,
    });
    if (duplicate !== null) throw new DuplicateDocumentError(duplicate.repeated);
  }

  /**
   * A full count's writer, which loads the documents on a thread of its own (see
   * `DocumentWriter`); close it before `finishLoad`.
   */
  documentWriter(): DocumentWriter {
    return new DocumentWriter(this.path);
  }

  /**
   * Ends a full count: the languages' N, the workers' numberings, the dictionary's name, the
   * checkpoint and the time the database was known sound are written in one transaction, whose
   * commit syncs the whole file, every page the load wrote included, before the caller makes
   * the generation live.
   */
  finishLoad(checkpoint: StoredCheckpoint): void {
    this.saveDictionary();
    this.db.pragma('synchronous = FULL');
    const insertLang = this.db.prepare('INSERT INTO langs (lang, n) VALUES (?, ?)');
    const insertNumbering = this.db.prepare(
      'INSERT INTO numberings (numbering, lang, ids) VALUES (?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const { lang, n } of this.loadedLangs) insertLang.run(lang, n);
      for (const { numbering, lang, ids } of this.loadedNumberings) {
        insertNumbering.run(numbering, lang, ids);
      }
      putMeta(this.db, 'dictionary', this.dictionaryFile!);
      this.writeCheckpoint(checkpoint);
      // Built whole by this run: sound as of its start, for `OpenOptions.skipCheckWithinHours`.
      putMeta(this.db, 'soundAt', checkpoint.writtenAt);
    })();
    this.loadedLangs.length = 0;
    this.loadedNumberings.length = 0;
  }

  // ---- delta: one transaction ------------------------------------------------------------

  begin(): DeltaTransaction {
    if (this.inTransaction) throw new Error('a transaction is already open');
    const dictionary = this.terms();
    // A night's documents are scattered over the table: keep the pages they share in memory.
    this.db.pragma(`cache_size = -${DELTA_CACHE_KIB}`);
    this.db.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
    // A check that passed when the store was opened is recorded with the changes.
    const soundAt = this.integrity?.checked === true ? this.integrity.soundAt.toISOString() : null;
    return new DeltaTransaction(this.db, dictionary, this.dir, soundAt, (committed) => {
      this.inTransaction = false;
      if (committed === null) {
        // The transaction changed the dictionary in memory: read it again if it is needed.
        this.dictionary = null;
      } else {
        const old = this.dictionaryFile;
        this.dictionaryFile = committed;
        if (old !== null && old !== committed) rmSync(join(this.dir, old), { force: true });
      }
    });
  }

  close(): void {
    this.checkAbort?.abort(new Error('the store was closed during its integrity check'));
    this.checkAbort = null;
    if (this.inTransaction) {
      this.db.exec('ROLLBACK');
      this.inTransaction = false;
      this.dictionary = null;
    }
    if (this.db.open) this.db.close();
  }
}
