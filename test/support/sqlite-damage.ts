/** Damage done on purpose to a state database, for the tests of what a run makes of it. */
import { readFile, writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';

/**
 * Turns the root page of `table` in the SQLite database at `path` to noise. SQLite's
 * `quick_check` reports it, while the other tables (and the rows a run reads elsewhere) stay
 * readable.
 */
export async function damageTableRoot(path: string, table: string): Promise<void> {
  const db = new Database(path);
  let root: number;
  let pageSize: number;
  try {
    root = db
      .prepare('SELECT rootpage FROM sqlite_master WHERE name = ?')
      .pluck()
      .get(table) as number;
    pageSize = db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
  const bytes = await readFile(path);
  bytes.fill(0xa5, (root - 1) * pageSize, root * pageSize);
  await writeFile(path, bytes);
}
