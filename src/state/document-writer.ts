/**
 * A full count's documents stored on a thread of their own. At the end of a count the workers
 * hand on their records in pieces of a few MB; stored by the job's thread, the inserts bound the
 * run's last seconds (about 3 s of the last 5 s at 1M documents) while the job's thread also
 * merges the workers' tables and copies the languages out. Here each worker posts its pieces
 * straight to the writer's thread, which inserts them through a connection of its own: the
 * job's thread neither receives nor stores them.
 *
 * The writer's connection and the store's share the database file. The store writes nothing
 * while the writer is open (`DfStore` keeps a full count's languages and meta until
 * `finishLoad`), so the two never wait for each other's lock.
 */
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** A piece of documents as the state stores them (`EncodedDocuments` of the analysis). */
export interface DocumentPiece {
  /** Numbering of the records' ids: 0, the dictionary's; another, `DfStore.loadNumbering`'s. */
  readonly numbering: number;
  readonly ids: readonly string[];
  readonly langs: readonly string[];
  readonly langOf: Uint16Array;
  readonly updatedAt: Float64Array;
  /** Term records back to back; document i's ends at `ends[i]`. */
  readonly records: Uint8Array;
  readonly ends: Uint32Array;
}

/**
 * Inserts a piece's documents in one transaction, 64 rows per INSERT (fewer calls into SQLite,
 * about 2.5 times faster than one row each). Returns null once stored; when an id comes twice,
 * in the piece or across pieces, nothing of the piece is stored and it returns the repeated id
 * (null if it cannot be found again). Self-contained: the writer's thread runs it as source text.
 */
export function insertDocuments(
  db: Database.Database,
  piece: DocumentPiece,
): { repeated: string | null } | null {
  const ROWS = 64;
  const { ids, langs, langOf, updatedAt, records, ends, numbering } = piece;
  const buffer = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  const statement = (rows: number) =>
    db.prepare(
      `INSERT INTO docs (id, lang, updated_at, numbering, terms) VALUES ${new Array(rows)
        .fill('(?, ?, ?, ?, ?)')
        .join(', ')}`,
    );
  const run = (insert: Database.Statement, first: number, rows: number) => {
    const params = new Array(rows * 5);
    for (let k = 0; k < rows; k++) {
      const i = first + k;
      const at = k * 5;
      params[at] = ids[i];
      params[at + 1] = langs[langOf[i]!];
      params[at + 2] = updatedAt[i];
      params[at + 3] = numbering;
      params[at + 4] = buffer.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!);
    }
    insert.run(params);
  };
  try {
    db.transaction(() => {
      let row = 0;
      if (ids.length >= ROWS) {
        const many = statement(ROWS);
        for (; row + ROWS <= ids.length; row += ROWS) run(many, row, ROWS);
      }
      if (row < ids.length) run(statement(ids.length - row), row, ids.length - row);
    })();
    return null;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) return { repeated: id };
      seen.add(id);
    }
    const stored = db.prepare('SELECT 1 FROM docs WHERE id = ?').pluck();
    return { repeated: ids.find((id) => stored.get(id) !== undefined) ?? null };
  }
}

/**
 * Sets a connection to a fresh full count's database for loading: no rollback journal and no
 * sync per transaction (the generation goes live only whole, synced by `finishLoad`). The
 * driver's defensive mode refuses `journal_mode = OFF` without a word (the pragma answers
 * `delete`), so it is lifted for that pragma alone, and the answer checked. Self-contained: the
 * writer's thread runs it as source text.
 */
export function loadWithoutJournal(db: Database.Database, path: string): void {
  db.unsafeMode(true);
  const mode = db.pragma('journal_mode = OFF', { simple: true });
  db.unsafeMode(false);
  if (mode !== 'off') throw new Error(`SQLite kept journal_mode ${String(mode)} for ${path}`);
  db.pragma('synchronous = OFF');
}

const require = createRequire(import.meta.url);

// Plain CommonJS evaluated in the worker, so that it needs no file of its own next to the
// compiled or the TypeScript sources. Each port is one analysis worker's: its pieces are stored
// in the order they come, one credit given back for each, stored or not, so that a worker never
// waits on a writer that has failed. The job hears of each piece and of the first failure.
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const insertDocuments = ${insertDocuments.toString()};
const loadWithoutJournal = ${loadWithoutJournal.toString()};
const ports = [];
let db = null;
let failed = false;
const fail = (error) => {
  failed = true;
  parentPort.postMessage({
    kind: 'failed',
    message: String(error && error.message ? error.message : error),
    code: error && typeof error.code === 'string' ? error.code : null,
  });
};
try {
  db = new Database(workerData.path, { fileMustExist: true });
  loadWithoutJournal(db, workerData.path);
} catch (error) {
  fail(error);
}
parentPort.on('message', (message) => {
  if (message.kind === 'port') {
    const credits = new Int32Array(message.credits);
    ports.push(message.port);
    message.port.on('message', (piece) => {
      let documents = 0;
      if (!failed) {
        try {
          const duplicate = insertDocuments(db, piece);
          if (duplicate === null) documents = piece.ids.length;
          else {
            failed = true;
            parentPort.postMessage({ kind: 'duplicate', id: duplicate.repeated });
          }
        } catch (error) {
          fail(error);
        }
      }
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
      parentPort.postMessage({
        kind: 'piece',
        source: message.source,
        documents,
        bytes: documents === 0 ? 0 : piece.records.byteLength,
      });
    });
  } else if (message.kind === 'close') {
    for (const port of ports) port.close();
    try {
      if (db !== null && db.open) db.close();
    } catch (error) {
      if (!failed) fail(error);
    }
    parentPort.close();
  }
});
`;

type WriterMessage =
  | { kind: 'piece'; source: number; documents: number; bytes: number }
  | { kind: 'duplicate'; id: string | null }
  | { kind: 'failed'; message: string; code: string | null };

/** A document id that a full count met twice: the source holds it twice. */
export class DuplicateDocumentError extends Error {
  /** `id`: the repeated id, when it could be found again. */
  constructor(readonly id: string | null) {
    super(
      id === null
        ? 'a document id appears more than once'
        : `document id ${JSON.stringify(id.length > 200 ? `${id.slice(0, 200)}…` : id)} appears more than once`,
    );
    this.name = 'DuplicateDocumentError';
  }
}

/** One analysis worker's pieces, taken by the writer. */
export interface PieceReceipt {
  /** Resolves once `pieces` of this source's pieces have been taken; rejects on failure. */
  stored(pieces: number): Promise<void>;
}

/**
 * The writer could not store the documents: SQLite's message, and its code when it has one. A
 * repeated id is a `DuplicateDocumentError` instead, as the store reports it.
 */
export class DocumentWriterError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'DocumentWriterError';
  }
}

export class DocumentWriter {
  private readonly worker: Worker;
  private readonly received: number[] = [];
  private readonly waiting = new Map<number, { pieces: number; resolve: () => void }>();
  private failure: Error | null = null;
  private failed: (error: Error) => void = () => {};
  private readonly failedOnce: Promise<never>;
  private readonly exited: Promise<void>;
  /** Documents and record bytes stored so far. */
  documents = 0;
  recordBytes = 0;

  /** Starts a writer on the database at `path`, a store `DfStore.create` made. */
  constructor(path: string) {
    this.failedOnce = new Promise<never>((_, reject) => {
      this.failed = reject;
    });
    // Observed by `stored` and `close`; never unhandled.
    this.failedOnce.catch(() => {});
    this.worker = new Worker(WRITER, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), path },
    });
    this.worker.on('message', (message: WriterMessage) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (code !== 0)
          this.fail(new DocumentWriterError(`document writer exited with ${code}`, null));
        resolve();
      });
    });
  }

  /**
   * Takes the receiving end of one worker's pieces (transferred to the writer); the writer gives
   * back one of `credits` (an Int32) for each piece it has taken.
   */
  take(port: MessagePort, credits: SharedArrayBuffer): PieceReceipt {
    const source = this.received.length;
    this.received.push(0);
    this.worker.postMessage({ kind: 'port', source, port, credits }, [port]);
    return {
      stored: (pieces) => {
        if ((this.received[source] ?? 0) >= pieces) {
          return this.failure === null ? Promise.resolve() : Promise.reject(this.failure);
        }
        const done = new Promise<void>((resolve) => {
          this.waiting.set(source, { pieces, resolve });
        });
        return Promise.race([done, this.failedOnce]).then(() => {
          if (this.failure !== null) throw this.failure;
        });
      },
    };
  }

  /**
   * Closes the writer's connection and ends its thread; rejects with its failure, if any. Every
   * piece taken so far has been stored or refused by then.
   */
  async close(): Promise<void> {
    this.worker.postMessage({ kind: 'close' });
    await this.exited;
    if (this.failure !== null) throw this.failure;
  }

  /** Ends the writer at once, whatever it was doing (a run that failed). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private onMessage(message: WriterMessage): void {
    switch (message.kind) {
      case 'piece': {
        const count = (this.received[message.source] ?? 0) + 1;
        this.received[message.source] = count;
        this.documents += message.documents;
        this.recordBytes += message.bytes;
        const waiting = this.waiting.get(message.source);
        if (waiting !== undefined && count >= waiting.pieces) {
          this.waiting.delete(message.source);
          waiting.resolve();
        }
        return;
      }
      case 'duplicate':
        this.fail(new DuplicateDocumentError(message.id));
        return;
      case 'failed':
        this.fail(
          new DocumentWriterError(`storing the documents failed: ${message.message}`, message.code),
        );
        return;
    }
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.failed(error);
  }
}
