/**
 * SQLite's `quick_check` of a state database on a thread of its own, so that it runs while the
 * opening thread reads the term dictionary (on the benchmark's 1M-document state the check takes
 * about 0.3 s, the dictionary about 0.25 s). The check's connection is read-only; the caller
 * must have read the database once before, so that a hot journal left by a crash is already
 * rolled back. A small database is checked on the caller's connection: starting a thread costs
 * more (30-50 ms) than checking 64 MB.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Below this size the check runs inline. */
const INLINE_CHECK_BYTES = 64 * 1024 * 1024;

const require = createRequire(import.meta.url);

// Plain CommonJS evaluated in the worker, so that it needs no file of its own next to the
// compiled or the TypeScript sources.
const CHECK = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  parentPort.postMessage({ result: String(db.pragma('quick_check', { simple: true })) });
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
} finally {
  if (db !== undefined && db.open) db.close();
}
`;

/**
 * Resolves with `ok` or SQLite's first finding; rejects when the check could not run. `db` is
 * the caller's connection to `path`, used for a database smaller than `inlineBelow` bytes.
 */
export function quickCheck(
  db: Database.Database,
  path: string,
  inlineBelow = INLINE_CHECK_BYTES,
): Promise<string> {
  try {
    if (statSync(path).size < inlineBelow) {
      return Promise.resolve(String(db.pragma('quick_check', { simple: true })));
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHECK, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), path },
    });
    let answered = false;
    worker.once('message', (message: { result?: string; error?: string }) => {
      answered = true;
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.result ?? '');
    });
    worker.once('error', (error) => {
      answered = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the integrity check's thread exited with code ${code}`));
    });
  });
}
