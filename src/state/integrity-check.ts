/**
 * SQLite's `quick_check` of a state database on a thread of its own, so that it runs while the
 * opening thread reads the term dictionary (on the benchmark's 1M-document state the check takes
 * about 0.3 s, the dictionary about 0.25 s). The check's connection is read-only; the caller
 * must have read the database once before, so that a hot journal left by a crash is already
 * rolled back. A small database is checked on the caller's connection, starting a thread costs
 * more (30-50 ms) than checking 64 MB, unless the caller goes on while the check runs (a delta
 * run: `DfStore.open` with `deferCheck`, which passes `inlineBelow` 0).
 *
 * The check reads every page of the database in the b-tree's order, which is far from the file's
 * order. A nightly run usually finds the database out of the page cache (a day has passed; the
 * benchmark machine's kernel evicts page cache left idle for a minute), and then those scattered
 * reads go to the disk: on the 1M-document state (416 MB) the check took 6.3-7.1 s cold against
 * 0.5 s warm, while reading the file from start to end took 0.2-0.8 s. So the database is first
 * read through in file order when a sample of its pages shows it is not cached
 * (`readAheadIfCold`); warm, the sample costs well under a millisecond. The delta run's own reads
 * of changed documents then find their pages cached too. A database larger than half the
 * machine's memory is not read through: it would push its own first pages out of the cache.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Below this size the check runs inline. */
const INLINE_CHECK_BYTES = 64 * 1024 * 1024;

/** Pages sampled, spread evenly over the file. */
const SAMPLE_PAGES = 32;
/** A 4 KB read slower than this came from the disk, not the page cache (which takes a few µs). */
const COLD_READ_NS = 40_000;

export interface ReadAhead {
  /** Sampled reads slower than the threshold. */
  readonly slowSamples: number;
  /** Bytes read through in file order: 0 when the sample found the file cached. */
  readonly bytesRead: number;
  readonly seconds: number;
}

/**
 * Reads `path` from start to end, in 8 MB blocks, when at least a quarter of `samples` 4 KB
 * reads spread over it take longer than `coldReadNs` each, unless it is larger than `maxBytes`
 * (a file the page cache cannot hold whole would evict its own beginning before the check got
 * there). Self-contained (it takes `fs` as an argument) so that the check's thread, which runs
 * it as source text, needs no module of ours.
 */
export function readAheadIfCold(
  fsModule: typeof fs,
  path: string,
  samples: number,
  coldReadNs: number,
  maxBytes: number,
): ReadAhead {
  const started = process.hrtime.bigint();
  const fd = fsModule.openSync(path, 'r');
  try {
    const size = fsModule.fstatSync(fd).size;
    if (size > maxBytes) return { slowSamples: 0, bytesRead: 0, seconds: 0 };
    const page = Buffer.allocUnsafe(4096);
    let slowSamples = 0;
    for (let i = 0; i < samples && size > 0; i++) {
      const at = Math.floor(((size - 1) * (i + 0.5)) / samples / 4096) * 4096;
      const t = process.hrtime.bigint();
      fsModule.readSync(fd, page, 0, page.length, at);
      if (Number(process.hrtime.bigint() - t) > coldReadNs) slowSamples++;
    }
    let bytesRead = 0;
    if (slowSamples * 4 >= samples && samples > 0) {
      const block = Buffer.allocUnsafe(8 << 20);
      for (;;) {
        const n = fsModule.readSync(fd, block, 0, block.length, bytesRead);
        if (n === 0) break;
        bytesRead += n;
      }
    }
    return { slowSamples, bytesRead, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    fsModule.closeSync(fd);
  }
}

/** The largest database read through: half the machine's memory. */
function maxReadAheadBytes(): number {
  return Math.floor(totalmem() / 2);
}

const require = createRequire(import.meta.url);

// Plain CommonJS evaluated in the worker, so that it needs no file of its own next to the
// compiled or the TypeScript sources.
const CHECK = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const readAheadIfCold = ${readAheadIfCold.toString()};
let db;
try {
  const readAhead = readAheadIfCold(require('node:fs'), workerData.path, workerData.samples, workerData.coldReadNs, workerData.maxReadAheadBytes);
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  parentPort.postMessage({ result: String(db.pragma('quick_check', { simple: true })), readAhead });
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
} finally {
  if (db !== undefined && db.open) db.close();
}
`;

/**
 * Resolves with `ok` or SQLite's first finding; rejects when the check could not run. `db` is
 * the caller's connection to `path`, used for a database smaller than `inlineBelow` bytes.
 * `onReadAhead` hears of a read through a database found out of the page cache. Aborting
 * `signal` stops a check under way on its thread (the promise then rejects with the reason).
 */
export function quickCheck(
  db: Database.Database,
  path: string,
  inlineBelow = INLINE_CHECK_BYTES,
  onReadAhead?: (readAhead: ReadAhead) => void,
  coldReadNs = COLD_READ_NS,
  signal?: AbortSignal,
): Promise<string> {
  const reportReadAhead = (readAhead: ReadAhead | undefined): void => {
    if (readAhead !== undefined && readAhead.bytesRead > 0) onReadAhead?.(readAhead);
  };
  // Stopped before it started (a store closed while its check waited to begin): no thread.
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  try {
    if (fs.statSync(path).size < inlineBelow) {
      reportReadAhead(readAheadIfCold(fs, path, SAMPLE_PAGES, coldReadNs, maxReadAheadBytes()));
      return Promise.resolve(String(db.pragma('quick_check', { simple: true })));
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHECK, {
      eval: true,
      workerData: {
        driver: require.resolve('better-sqlite3'),
        path,
        samples: SAMPLE_PAGES,
        coldReadNs,
        maxReadAheadBytes: maxReadAheadBytes(),
      },
    });
    let answered = false;
    const stop = (): void => {
      if (answered) return;
      answered = true;
      void worker.terminate();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
    worker.once('exit', () => signal?.removeEventListener('abort', stop));
    worker.once(
      'message',
      (message: { result?: string; error?: string; readAhead?: ReadAhead }) => {
        answered = true;
        if (message.error !== undefined) {
          reject(new Error(message.error));
          return;
        }
        reportReadAhead(message.readAhead);
        resolve(message.result ?? '');
      },
    );
    worker.once('error', (error) => {
      answered = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the integrity check's thread exited with code ${code}`));
    });
  });
}
