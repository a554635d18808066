import * as fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quickCheck, type ReadAhead, readAheadIfCold } from '../../src/state/integrity-check.js';
import { damageTableRoot } from '../support/sqlite-damage.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-integrity-'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A database of a few hundred pages; with `damaged`, the table's root page is noise. */
async function database(name: string, damaged: boolean): Promise<string> {
  const path = join(dir, name);
  const db = new Database(path);
  db.exec('CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID');
  db.exec('CREATE TABLE docs (id TEXT PRIMARY KEY, body BLOB) WITHOUT ROWID');
  db.prepare("INSERT INTO meta VALUES ('a', 'b')").run();
  const insert = db.prepare('INSERT INTO docs VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run(`doc-${i}`, Buffer.alloc(300, i));
  })();
  db.close();
  if (damaged) await damageTableRoot(path, 'docs');
  return path;
}

describe('quickCheck', () => {
  for (const [where, inlineBelow] of [
    ['on a thread of its own', 0],
    ['inline, for a small database', Number.POSITIVE_INFINITY],
  ] as const) {
    it(`passes a sound database and names the fault of a damaged one, ${where}`, async () => {
      for (const damaged of [false, true]) {
        const path = await database(`${inlineBelow}-${damaged}.sqlite`, damaged);
        const db = new Database(path, { fileMustExist: true });
        try {
          const result = await quickCheck(db, path, inlineBelow);
          if (damaged) expect(result).toMatch(/^\*\*\* in database main \*\*\*/);
          else expect(result).toBe('ok');
        } finally {
          db.close();
        }
      }
    });
  }

  for (const [where, inlineBelow] of [
    ['on a thread of its own', 0],
    ['inline', Number.POSITIVE_INFINITY],
  ] as const) {
    it(`reads a database through before checking it when its pages are slow to read, ${where}`, async () => {
      const path = await database(`read-ahead-${inlineBelow}.sqlite`, false);
      const size = fs.statSync(path).size;
      const db = new Database(path, { fileMustExist: true });
      try {
        // A threshold below any read's time: every sampled page counts as read from the disk.
        const heard: ReadAhead[] = [];
        expect(await quickCheck(db, path, inlineBelow, (r) => heard.push(r), -1)).toBe('ok');
        expect(heard).toHaveLength(1);
        expect(heard[0]!.bytesRead).toBe(size);
        expect(heard[0]!.slowSamples).toBe(32);
        // One above any: the file counts as cached and is not read through.
        const none: ReadAhead[] = [];
        expect(await quickCheck(db, path, inlineBelow, (r) => none.push(r), 1e12)).toBe('ok');
        expect(none).toEqual([]);
      } finally {
        db.close();
      }
    });
  }

  it('reads through only when a quarter of the sampled pages are slow and the file fits', async () => {
    const path = await database('sampled.sqlite', false);
    const size = fs.statSync(path).size;
    const cold = readAheadIfCold(fs, path, 8, -1, size);
    expect(cold.slowSamples).toBe(8);
    expect(cold.bytesRead).toBe(size);
    const warm = readAheadIfCold(fs, path, 8, 1e12, size);
    expect(warm).toMatchObject({ slowSamples: 0, bytesRead: 0 });
    // A quarter of the samples slow is enough; fewer is not. The clock is virtual, so that a
    // loaded machine cannot make a normal read look slow: the first `slow` sampled reads take
    // 20 ms each, every other read 1 µs, against a threshold of 10 ms.
    for (const [slow, readThrough] of [
      [1, false],
      [2, true],
    ] as const) {
      let sampled = 0;
      let clock = 0n;
      const hrtime = vi.spyOn(process.hrtime, 'bigint').mockImplementation(() => clock);
      const slowFs = {
        ...fs,
        readSync: (...args: Parameters<typeof fs.readSync>) => {
          const sample = args[1] !== undefined && (args[1] as Buffer).length === 4096;
          clock += sample && sampled++ < slow ? 20_000_000n : 1_000n;
          return fs.readSync(...args);
        },
      } as typeof fs;
      try {
        const result = readAheadIfCold(slowFs, path, 8, 10_000_000, size);
        expect(result.slowSamples).toBe(slow);
        expect(result.bytesRead).toBe(readThrough ? size : 0);
      } finally {
        hrtime.mockRestore();
      }
    }
    // A file larger than the page cache could hold is left alone, however slow.
    expect(readAheadIfCold(fs, path, 8, -1, size - 1)).toMatchObject({ bytesRead: 0 });
    // An empty file has nothing to sample or read.
    const empty = join(dir, 'empty.sqlite');
    await writeFile(empty, '');
    expect(readAheadIfCold(fs, empty, 8, -1, size)).toMatchObject({ slowSamples: 0, bytesRead: 0 });
  });

  it('rejects when the database cannot be opened at all', async () => {
    const path = await database('gone.sqlite', false);
    const db = new Database(path, { fileMustExist: true });
    await rm(path);
    // Inline, the open connection still reads the unlinked file; the thread cannot open it.
    await expect(quickCheck(db, path, 0)).rejects.toThrow();
    db.close();
  });
});
