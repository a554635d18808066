import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTermCounts } from '../../src/analysis/term-ids.js';
import { hashRange, lengthPrefixed, sharedTermId } from '../../src/analysis/term-table.js';
import {
  DfStore,
  DuplicateDocumentError,
  PAGE_BYTES,
  STATE_SCHEMA_VERSION,
  StateCorruptError,
  StateSchemaError,
} from '../../src/state/df-store.js';
import { fullCountCheckpoint } from '../support/checkpoint.js';
import { damageTableRoot } from '../support/sqlite-damage.js';
import { readTermCounts } from '../support/term-records.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-dfstore-'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const checkpoint = fullCountCheckpoint;

/**
 * A generation directory with en: a = "the the cat", b = "the dog dog dog"; ids by df: the 0,
 * cat 1, dog 2. A `dogCf` other than 3 stores counts that the records cannot explain.
 */
async function build(name: string, dogCf = 3): Promise<string> {
  const generation = join(dir, name);
  await rm(generation, { recursive: true, force: true });
  await mkdir(generation);
  const path = join(generation, 'state.sqlite');
  load(path, dogCf);
  return path;
}

/** The full count of `build` into a new store at `path`. */
function load(path: string, dogCf: number): void {
  const store = DfStore.create(path);
  store.loadLanguage('en', 2, lengthPrefixed(['the', 'cat', 'dog']), [2, 1, 1], [3, 1, dogCf]);
  const a = encodeTermCounts([0, 1], [2, 1]);
  const b = encodeTermCounts([0, 2], [1, 3]);
  const records = new Uint8Array(a.length + b.length);
  records.set(a);
  records.set(b, a.length);
  store.loadDocuments(
    ['a', 'b'],
    ['en'],
    new Uint16Array([0, 0]),
    new Float64Array([100, 100]),
    records,
    new Uint32Array([a.length, records.length]),
    0,
  );
  store.finishLoad(checkpoint);
  store.close();
}

/** What a delta run's tombstone for document `id` throws on the store at `path`, if anything. */
async function tombstoneError(path: string, id: string): Promise<unknown> {
  const store = await DfStore.open(path);
  const tx = store.begin();
  let error: unknown;
  try {
    tx.apply({ id, updatedAtMs: 200, deleted: true, lang: 'en', terms: [], tfs: [] });
  } catch (caught) {
    error = caught;
  }
  tx.rollback();
  store.close();
  return error;
}

function tables(store: DfStore): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [lang, t] of store.exportTables()) {
    out[lang] = { n: t.n, df: Object.fromEntries(t.df), cf: Object.fromEntries(t.cf) };
  }
  return out;
}

describe('DfStore', () => {
  it('loads a full count and reads df and cf back', async () => {
    const store = await DfStore.open(await build('load'));
    expect(tables(store)).toEqual({
      en: { n: 2, df: { the: 2, cat: 1, dog: 1 }, cf: { the: 3, cat: 1, dog: 3 } },
    });
    const selected = store.termsAtLeast('en', 2);
    expect([Object.fromEntries(selected.df), Object.fromEntries(selected.cf)]).toEqual([
      { the: 2 },
      { the: 3 },
    ]);
    expect(store.readCheckpoint()).toEqual(checkpoint);
    store.close();
    const db = new Database(join(dir, 'load', 'state.sqlite'), { readonly: true });
    expect(db.pragma('page_size', { simple: true })).toBe(PAGE_BYTES);
    db.close();
  });

  it('loads a full count without a rollback journal', async () => {
    // A fresh generation is made live only whole (the caller's rename), so it needs none. In
    // DELETE mode each transaction creates the journal file and removes it again.
    const generation = join(dir, 'no-journal');
    await mkdir(generation, { recursive: true });
    const seen = new Set<string>();
    const watcher = watch(generation, (_event, name) => {
      if (name !== null) seen.add(String(name));
    });
    try {
      load(join(generation, 'state.sqlite'), 3);
      // inotify's events reach the watcher on a later turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      watcher.close();
    }
    expect(seen.has('state.sqlite')).toBe(true);
    expect([...seen].filter((name) => name.endsWith('-journal'))).toEqual([]);
  });

  it('applies updates, moves, deletes and re-deliveries exactly, occurrences included', async () => {
    const store = await DfStore.open(await build('delta'));
    const tx = store.begin();
    // a: "the the cat" -> "cat cat cat bird"; b moves to fr; c is new; a repeated and a stale c.
    const a = { id: 'a', updatedAtMs: 200, deleted: false, lang: 'en' };
    tx.apply({ ...a, terms: ['cat', 'bird'], tfs: [3, 1] });
    tx.apply({ ...a, terms: ['cat', 'bird'], tfs: [3, 1] });
    tx.apply({ id: 'b', updatedAtMs: 200, deleted: false, lang: 'fr', terms: ['le'], tfs: [2] });
    tx.apply({ id: 'c', updatedAtMs: 300, deleted: false, lang: 'en', terms: ['the'], tfs: [4] });
    tx.apply({ id: 'c', updatedAtMs: 250, deleted: false, lang: 'en', terms: ['x'], tfs: [1] });
    tx.flush();
    expect(tables(store)).toEqual({
      en: { n: 2, df: { the: 1, cat: 1, bird: 1 }, cf: { the: 4, cat: 3, bird: 1 } },
      fr: { n: 1, df: { le: 1 }, cf: { le: 2 } },
    });
    expect(tx.stats).toMatchObject({ inserted: 1, unchanged: 1, movedLanguage: 1, stale: 1 });
    // A tombstone gives back everything the stored version contributed.
    tx.apply({ id: 'a', updatedAtMs: 400, deleted: true, lang: 'en', terms: [], tfs: [] });
    tx.flush();
    expect(tables(store)).toEqual({
      en: { n: 1, df: { the: 1 }, cf: { the: 4 } },
      fr: { n: 1, df: { le: 1 }, cf: { le: 2 } },
    });
    tx.writeCheckpoint({ ...checkpoint, mode: 'delta', runId: 'r2' });
    tx.commit();
    store.close();
  });

  it('stores a new term with the next free id and its record with term frequencies', async () => {
    const path = await build('record');
    const store = await DfStore.open(path);
    const tx = store.begin();
    tx.apply({
      id: 'd',
      updatedAtMs: 500,
      deleted: false,
      lang: 'en',
      terms: ['zebra', 'the', 'dog'],
      tfs: [2, 1, 5],
    });
    tx.flush();
    tx.commit();
    store.close();
    const db = new Database(path, { readonly: true });
    const record = db.prepare("SELECT terms FROM docs WHERE id = 'd'").pluck().get() as Buffer;
    db.close();
    const { ids, tfs } = readTermCounts(record);
    expect([...ids]).toEqual([0, 2, 3]);
    expect([...tfs]).toEqual([1, 5, 2]);
    // Read back from the new dictionary file: zebra got id 3.
    const reopened = await DfStore.open(path);
    expect(tables(reopened).en).toEqual({
      n: 3,
      df: { the: 3, cat: 1, dog: 2, zebra: 1 },
      cf: { the: 4, cat: 1, dog: 8, zebra: 2 },
    });
    reopened.close();
  });

  it('applies terms given by shared id exactly as the same terms given as strings', async () => {
    const byString = await DfStore.open(await build('by-string'));
    const byId = await DfStore.open(await build('by-id'));
    const tx1 = byString.begin();
    const tx2 = byId.begin();
    const shared = new Map(tx2.sharedTerms().map((t) => [t.lang, t]));
    const idOf = (word: string): number =>
      sharedTermId(shared.get('en')!, word, 0, word.length, hashRange(word, 0, word.length));
    expect(idOf('dog')).toBe(2);
    expect(idOf('zebra')).toBe(-1);
    // a: "the the cat" -> "dog zebra zebra the"; e is new.
    const a = { id: 'a', updatedAtMs: 200, deleted: false, lang: 'en' };
    tx1.apply({ ...a, terms: ['dog', 'zebra', 'the'], tfs: [1, 2, 1] });
    tx2.apply({
      ...a,
      known: new Uint32Array([idOf('dog'), 1, idOf('the'), 1]),
      terms: ['zebra'],
      tfs: [2],
    });
    const e = { id: 'e', updatedAtMs: 300, deleted: false, lang: 'en' };
    tx1.apply({ ...e, terms: ['cat', 'zebra', 'the'], tfs: [4, 1, 1] });
    // Pairs out of order are sorted before the record is written.
    tx2.apply({
      ...e,
      known: new Uint32Array([idOf('cat'), 4, idOf('the'), 1]),
      terms: ['zebra'],
      tfs: [1],
    });
    tx1.flush();
    tx2.flush();
    expect(tables(byId)).toEqual(tables(byString));
    expect(tables(byId).en).toEqual({
      n: 3,
      df: { the: 3, cat: 1, dog: 2, zebra: 2 },
      cf: { the: 3, cat: 4, dog: 4, zebra: 3 },
    });
    expect(tx2.stats).toEqual(tx1.stats);
    // An id the dictionary does not hold is a fault of the caller, not of the state.
    expect(() =>
      tx2.apply({ ...e, updatedAtMs: 400, known: new Uint32Array([99, 1]), terms: [], tfs: [] }),
    ).toThrow('en has no term id 99');
    tx1.rollback();
    tx2.rollback();
    byString.close();
    byId.close();
  });

  it('commits the dictionary with the database; a rollback leaves the old one in force', async () => {
    const path = await build('files');
    const generation = join(dir, 'files');
    const dictionaries = async (): Promise<string[]> =>
      (await readdir(generation)).filter((name) => name.startsWith('dictionary-'));
    const [first] = await dictionaries();
    const store = await DfStore.open(path);
    const change = { id: 'e', updatedAtMs: 600, deleted: false, lang: 'en' };
    const tx = store.begin();
    tx.apply({ ...change, terms: ['owl'], tfs: [1] });
    tx.rollback();
    expect(store.termsAtLeast('en', 1).df.has('owl')).toBe(false);
    expect(await dictionaries()).toEqual([first]);
    const tx2 = store.begin();
    tx2.apply({ ...change, terms: ['owl'], tfs: [1] });
    tx2.commit();
    const after = await dictionaries();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(first);
    store.close();
    // A file a run wrote but never committed is removed by the next run.
    await writeFile(join(generation, 'dictionary-left-over.bin'), 'x');
    const next = await DfStore.open(path);
    next.removeStaleDictionaries();
    expect(await dictionaries()).toEqual(after);
    expect(next.termsAtLeast('en', 1).df.get('owl')).toBe(1);
    next.close();
  });

  it('writes pages of a night larger than its page cache before the commit; a crash then leaves the state as it was', async () => {
    // 3,000 documents of 4,000 terms each, every one twice: 8 KB a record, 24 MB in all, more
    // than the transaction's page cache holds, so SQLite writes changed pages to the file
    // before the commit, each after the rollback journal that can undo it.
    const generation = join(dir, 'spill');
    await mkdir(generation, { recursive: true });
    const path = join(generation, 'state.sqlite');
    const documents = 3000;
    const terms = 4000;
    const words = Array.from({ length: terms }, (_, i) => `w${i}`);
    const ids = Uint32Array.from({ length: terms }, (_, i) => i);
    const record = encodeTermCounts(ids, new Uint32Array(terms).fill(2));
    const records = new Uint8Array(record.length * documents);
    for (let d = 0; d < documents; d++) records.set(record, d * record.length);
    const store = DfStore.create(path);
    store.loadLanguage(
      'en',
      documents,
      lengthPrefixed(words),
      new Array(terms).fill(documents),
      new Array(terms).fill(2 * documents),
    );
    store.loadDocuments(
      Array.from({ length: documents }, (_, d) => `doc-${d}`),
      ['en'],
      new Uint16Array(documents),
      new Float64Array(documents).fill(100),
      records,
      Uint32Array.from({ length: documents }, (_, d) => (d + 1) * record.length),
      0,
    );
    store.finishLoad(checkpoint);
    store.close();
    const before = await readFile(path);

    const open = await DfStore.open(path);
    const tx = open.begin();
    // Each document now holds every term three times.
    const known = new Uint32Array(2 * terms);
    for (let i = 0; i < terms; i++) known.set([i, 3], 2 * i);
    for (let d = 0; d < documents; d++) {
      tx.apply({
        id: `doc-${d}`,
        updatedAtMs: 200,
        deleted: false,
        lang: 'en',
        known,
        terms: [],
        tfs: [],
      });
    }
    tx.flush();
    expect(tx.stats).toMatchObject({ updated: documents });
    // Written before the commit: the file no longer holds what it did.
    expect((await readFile(path)).equals(before)).toBe(false);
    // What a crash leaves: the database as written so far, the journal, the dictionary in force.
    const crashed = join(dir, 'spill-crashed');
    await mkdir(crashed, { recursive: true });
    const left = await readdir(generation);
    expect(left).toContain('state.sqlite-journal');
    for (const name of left)
      await writeFile(join(crashed, name), await readFile(join(generation, name)));
    tx.commit();
    open.close();

    // Opening the copy rolls the journal back (and checks the database): every stored record is
    // the full count's again. The counts are the dictionary file's, which only a commit replaces.
    const recovered = await DfStore.open(join(crashed, 'state.sqlite'));
    expect(recovered.readCheckpoint()).toEqual(checkpoint);
    recovered.close();
    expect(await readdir(crashed)).not.toContain('state.sqlite-journal');
    const newRecord = encodeTermCounts(ids, new Uint32Array(terms).fill(3));
    const storedRecords = (file: string): { old: number; new: number } => {
      const db = new Database(file, { readonly: true });
      const stored = db.prepare('SELECT terms FROM docs').pluck().all() as Buffer[];
      db.close();
      return {
        old: stored.filter((r) => Buffer.compare(r, record) === 0).length,
        new: stored.filter((r) => Buffer.compare(r, newRecord) === 0).length,
      };
    };
    expect(storedRecords(join(crashed, 'state.sqlite'))).toEqual({ old: documents, new: 0 });
    // And the committed night is all there.
    expect(storedRecords(path)).toEqual({ old: 0, new: documents });
    const committed = await DfStore.open(path);
    const after = committed.exportTables().get('en')!;
    expect(after.n).toBe(documents);
    expect(new Set(after.df.values())).toEqual(new Set([documents]));
    expect(new Set(after.cf.values())).toEqual(new Set([3 * documents]));
    committed.close();
  });

  it('refuses a store whose dictionary file is damaged or missing', async () => {
    const path = await build('damaged');
    const generation = join(dir, 'damaged');
    const [name] = (await readdir(generation)).filter((f) => f.startsWith('dictionary-'));
    const file = join(generation, name!);
    const bytes = await readFile(file);
    bytes[bytes.length - 10]! ^= 1;
    await writeFile(file, bytes);
    await expect(DfStore.open(path)).rejects.toThrow(
      /is unreadable: dictionary .* is damaged: checksum/,
    );
    await rm(file);
    await expect(DfStore.open(path)).rejects.toThrow(
      /is unreadable: dictionary .* cannot be read: ENOENT/,
    );
  });

  it("refuses a store that fails SQLite's integrity check, checked beside the dictionary", async () => {
    const path = await build('malformed');
    // The documents' root page turns to noise; the meta table the store reads first is intact.
    await damageTableRoot(path, 'docs');
    await expect(DfStore.open(path)).rejects.toThrow(
      /is unreadable: quick_check: \*\*\* in database main/,
    );
  });

  it('with deferCheck, opens before the check has ended and tells its outcome by verified', async () => {
    const sound = await build('deferred-sound');
    const store = await DfStore.open(sound, { deferCheck: true });
    expect(store.integrity?.checked).toBe(true);
    await expect(store.verified).resolves.toBeUndefined();
    store.close();

    const path = await build('deferred-malformed');
    await damageTableRoot(path, 'docs');
    // The store opens: its meta and the dictionary are intact. The check, on a thread of its
    // own whatever the size, finds the damage.
    const damaged = await DfStore.open(path, { deferCheck: true });
    const failure = await damaged.verified.then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StateCorruptError);
    expect(String(failure)).toMatch(/is unreadable: quick_check: \*\*\* in database main/);
    damaged.close();

    // Closed while its check runs: the check's thread is stopped, and verified says so.
    const closing = await DfStore.open(await build('deferred-closed'), { deferCheck: true });
    closing.close();
    await expect(closing.verified).rejects.toThrow(
      'the store was closed during its integrity check',
    );
  });

  it('with checkAfter, starts the deferred check only once it resolves, and never when it rejects', async () => {
    const path = await build('deferred-after');
    await damageTableRoot(path, 'docs');
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store = await DfStore.open(path, { deferCheck: true, checkAfter: gate });
    let settled = false;
    const outcome = store.verified.then(
      () => null,
      (error: unknown) => error,
    );
    void outcome.then(() => {
      settled = true;
    });
    // A check of so small a database ends within a few tens of milliseconds once started.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    release();
    expect(String(await outcome)).toMatch(/is unreadable: quick_check: \*\*\* in database main/);
    store.close();

    // Closed before its gate opened: the check does not start, and verified says why.
    let later = (): void => {};
    const closed = await DfStore.open(await build('deferred-closed-early'), {
      deferCheck: true,
      checkAfter: new Promise<void>((resolve) => {
        later = resolve;
      }),
    });
    closed.close();
    later();
    await expect(closed.verified).rejects.toThrow(
      'the store was closed during its integrity check',
    );

    // The run never got its lock: the check never runs, and verified says why.
    const refused = await DfStore.open(await build('deferred-refused'), {
      deferCheck: true,
      checkAfter: Promise.reject(new Error('the run ended before it held the lock')),
    });
    await expect(refused.verified).rejects.toThrow('the run ended before it held the lock');
    refused.close();
  });

  it('skips the integrity check within the hours after the state was known sound, and records a check that passed', async () => {
    const path = await build('sound-at');
    const soundAt = (): unknown => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT value FROM meta WHERE key = 'soundAt'").pluck().get();
      } finally {
        db.close();
      }
    };
    // A full count's state is sound as of the run that built it.
    expect(soundAt()).toBe(checkpoint.writtenAt);
    const built = Date.parse(checkpoint.writtenAt);
    const hour = 3_600_000;

    // Checked: the hours are 0, the time is past them, or the clock is behind the record.
    for (const [hours, now] of [
      [0, built + hour],
      [2, built + 2 * hour],
      [2, built - hour],
    ] as const) {
      const store = await DfStore.open(path, { skipCheckWithinHours: hours, now: new Date(now) });
      expect(store.integrity).toEqual({ checked: true, soundAt: new Date(now) });
      store.close();
    }
    // A delta that commits after a check records when it passed; one that rolls back does not.
    const later = new Date(built + 5 * hour);
    const checked = await DfStore.open(path, { now: later });
    checked.begin().rollback();
    expect(soundAt()).toBe(checkpoint.writtenAt);
    checked.begin().commit();
    checked.close();
    expect(soundAt()).toBe(later.toISOString());

    // Within the hours the check is skipped: even a database it would refuse opens, as long as
    // what the store reads itself is intact. A skipped check records nothing.
    await damageTableRoot(path, 'docs');
    const skipped = await DfStore.open(path, {
      skipCheckWithinHours: 2,
      now: new Date(later.getTime() + hour),
    });
    expect(skipped.integrity).toEqual({ checked: false, soundAt: later });
    skipped.close();
    await expect(
      DfStore.open(path, { skipCheckWithinHours: 2, now: new Date(later.getTime() + 2 * hour) }),
    ).rejects.toThrow(/is unreadable: quick_check: \*\*\* in database main/);
  });

  it('refuses counts that the stored records cannot explain', async () => {
    // dog's cf is 1, but b's record says it occurs 3 times there.
    const store = await DfStore.open(await build('corrupt', 1));
    const tx = store.begin();
    expect(() =>
      tx.apply({ id: 'b', updatedAtMs: 200, deleted: true, lang: 'en', terms: [], tfs: [] }),
    ).toThrow(StateCorruptError);
    tx.rollback();
    store.close();
  });

  it('refuses a stored record that is cut short, runs on, or names an unknown term', async () => {
    const the = encodeTermCounts([0], [2]);
    const cases: Array<[Uint8Array, RegExp]> = [
      [the.subarray(0, the.length - 1), /cut short/],
      [new Uint8Array([...the, 0]), /does not end with its terms/],
      [encodeTermCounts([7], [1]), /names an unknown term/],
    ];
    for (const [index, [record, message]] of cases.entries()) {
      const path = await build(`malformed-record-${index}`);
      const db = new Database(path);
      db.prepare("UPDATE docs SET terms = ? WHERE id = 'a'").run(record);
      db.close();
      const error = await tombstoneError(path, 'a');
      expect(error).toBeInstanceOf(StateCorruptError);
      expect((error as Error).message).toMatch(message);
    }
  });

  /**
   * A full count of two workers: en holds the 0, cat 1, dog 2, bird 3; a = "the the cat" in the
   * dictionary's ids, b = "the dog dog dog bird" in the second worker's, which met dog (its 0),
   * the (its 1) and bird (its 2) in that order: numbering 1 of en maps them to 2, 0, 3.
   */
  async function buildNumbered(name: string, numbering = [2, 0, 3]): Promise<string> {
    const generation = join(dir, name);
    await rm(generation, { recursive: true, force: true });
    await mkdir(generation);
    const path = join(generation, 'state.sqlite');
    const store = DfStore.create(path);
    const words = ['the', 'cat', 'dog', 'bird'];
    store.loadLanguage('en', 2, lengthPrefixed(words), [2, 1, 1, 1], [3, 1, 3, 1]);
    store.loadNumbering(1, ['en'], [Uint32Array.from(numbering)]);
    const a = encodeTermCounts([0, 1], [2, 1]);
    const b = encodeTermCounts([0, 1, 2], [3, 1, 1]);
    const one = (record: Uint8Array, numbered: number, id: string) =>
      store.loadDocuments(
        [id],
        ['en'],
        new Uint16Array(1),
        new Float64Array([100]),
        record,
        Uint32Array.of(record.length),
        numbered,
      );
    one(a, 0, 'a');
    one(b, 1, 'b');
    store.finishLoad(checkpoint);
    store.close();
    return path;
  }

  it("reads a record in another worker's numbering through it, and writes it back in the dictionary's", async () => {
    const path = await buildNumbered('numbered');
    const store = await DfStore.open(path);
    let tx = store.begin();
    // b again, unchanged: nothing moves, and it is counted as unchanged.
    const b = { id: 'b', updatedAtMs: 200, deleted: false, lang: 'en' };
    tx.apply({ ...b, terms: ['bird', 'the', 'dog'], tfs: [1, 1, 3] });
    tx.flush();
    const before = {
      en: {
        n: 2,
        df: { the: 2, cat: 1, dog: 1, bird: 1 },
        cf: { the: 3, cat: 1, dog: 3, bird: 1 },
      },
    };
    expect(tables(store)).toEqual(before);
    expect(tx.stats).toMatchObject({ unchanged: 1, updated: 0 });
    tx.commit();
    let db = new Database(path, { readonly: true });
    const row = db.prepare("SELECT numbering, terms FROM docs WHERE id = 'b'").get() as {
      numbering: number;
      terms: Buffer;
    };
    db.close();
    expect(row.numbering).toBe(0);
    const { ids, tfs } = readTermCounts(row.terms);
    expect([[...ids], [...tfs]]).toEqual([
      [0, 2, 3],
      [1, 3, 1],
    ]);
    tx = store.begin();
    tx.apply({ ...b, updatedAtMs: 300, deleted: true, terms: [], tfs: [] });
    tx.flush();
    expect(tables(store)).toEqual({ en: { n: 1, df: { the: 1, cat: 1 }, cf: { the: 2, cat: 1 } } });
    tx.rollback();
    store.close();

    // Changed or deleted while still in the worker's numbering: what it gave is given back.
    const fresh = await buildNumbered('numbered-changed');
    const changed = await DfStore.open(fresh);
    tx = changed.begin();
    tx.apply({ ...b, terms: ['cat'], tfs: [2] });
    tx.flush();
    expect(tables(changed)).toEqual({
      en: { n: 2, df: { the: 1, cat: 2 }, cf: { the: 2, cat: 3 } },
    });
    expect(tx.stats).toMatchObject({ updated: 1 });
    tx.rollback();
    // As many terms as before, one of them more often: compared in full, and updated.
    tx = changed.begin();
    tx.apply({ ...b, terms: ['bird', 'the', 'dog'], tfs: [1, 2, 3] });
    tx.flush();
    expect(tables(changed)).toEqual({
      en: {
        n: 2,
        df: { the: 2, cat: 1, dog: 1, bird: 1 },
        cf: { the: 4, cat: 1, dog: 3, bird: 1 },
      },
    });
    expect(tx.stats).toMatchObject({ updated: 1, unchanged: 0 });
    tx.rollback();
    tx = changed.begin();
    tx.apply({ ...b, deleted: true, terms: [], tfs: [] });
    tx.flush();
    expect(tables(changed)).toEqual({
      en: { n: 1, df: { the: 1, cat: 1 }, cf: { the: 2, cat: 1 } },
    });
    tx.rollback();
    changed.close();
    db = new Database(fresh, { readonly: true });
    expect(db.prepare('SELECT numbering FROM docs ORDER BY id').pluck().all()).toEqual([0, 1]);
    db.close();
  });

  it('refuses a record whose numbering is missing, damaged or does not cover its ids', async () => {
    const cases: Array<[string, (db: Database.Database) => void, RegExp]> = [
      [
        'missing',
        (db) => db.prepare('DELETE FROM numberings').run(),
        /numbering 1 of en, which the state lacks/,
      ],
      [
        'damaged',
        (db) => db.prepare('UPDATE numberings SET ids = ?').run(Buffer.alloc(7)),
        /numbering 1 of en: a numbering of 7 bytes/,
      ],
      [
        'short',
        (db) =>
          db.prepare('UPDATE numberings SET ids = ?').run(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0])),
        /names an unknown term/,
      ],
      [
        'beyond the dictionary',
        (db) =>
          db
            .prepare('UPDATE numberings SET ids = ?')
            .run(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0])),
        /names an unknown term/,
      ],
    ];
    for (const [name, damage, message] of cases) {
      const path = await buildNumbered(`numbering-${name.replaceAll(' ', '-')}`);
      const db = new Database(path);
      damage(db);
      db.close();
      const error = await tombstoneError(path, 'b');
      expect(error, name).toBeInstanceOf(StateCorruptError);
      expect((error as Error).message, name).toMatch(message);
    }
    const store = DfStore.create(join(dir, 'numbering-zero.sqlite'));
    expect(() => store.loadNumbering(0, ['en'], [new Uint32Array(1)])).toThrow(/not a worker's/);
    expect(() => store.loadNumbering(1, ['en', 'de'], [new Uint32Array(1)])).toThrow(
      /ids for each language/,
    );
    store.close();
  });

  it('reports a store of another schema version as such', async () => {
    const path = await build('schema');
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '1' WHERE key = 'schemaVersion'").run();
    db.close();
    let error: unknown;
    try {
      await DfStore.open(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StateSchemaError);
    expect((error as StateSchemaError).found).toBe('1');
    expect((error as Error).message).toMatch(
      new RegExp(`schema version 1; this version reads ${STATE_SCHEMA_VERSION}`),
    );
  });

  it('names a document id that a full count meets twice, in one piece or across pieces', async () => {
    const generation = join(dir, 'duplicates');
    await rm(generation, { recursive: true, force: true });
    await mkdir(generation);
    const store = DfStore.create(join(generation, 'state.sqlite'));
    store.loadLanguage('en', 5, lengthPrefixed(['the']), [5], [5]);
    const record = encodeTermCounts([0], [1]);
    const load = (ids: string[]) => {
      const records = new Uint8Array(record.length * ids.length);
      for (let i = 0; i < ids.length; i++) records.set(record, i * record.length);
      store.loadDocuments(
        ids,
        ['en'],
        new Uint16Array(ids.length),
        new Float64Array(ids.length).fill(100),
        records,
        Uint32Array.from(ids, (_, i) => (i + 1) * record.length),
        0,
      );
    };
    load(['a', 'b']);
    const within = (() => {
      try {
        load(['c', 'd', 'c']);
      } catch (error) {
        return error;
      }
    })();
    expect(within).toBeInstanceOf(DuplicateDocumentError);
    expect((within as DuplicateDocumentError).id).toBe('c');
    expect(() => load(['e', 'b'])).toThrow('document id "b" appears more than once');
    store.close();
    // The pieces that failed left nothing behind.
    const db = new Database(join(generation, 'state.sqlite'), { readonly: true });
    expect(db.prepare('SELECT id FROM docs ORDER BY id').pluck().all()).toEqual(['a', 'b']);
    db.close();
  });

  it('finds the terms at or above a df', async () => {
    const generation = join(dir, 'at-least');
    await mkdir(generation);
    const store = DfStore.create(join(generation, 'state.sqlite'));
    const dfs = [300, 200, 100, 64, 63, 10, 1];
    store.loadLanguage(
      'en',
      400,
      lengthPrefixed(dfs.map((df) => `w${df}`)),
      dfs,
      dfs.map((df) => df * 2),
    );
    store.loadLanguage('de', 400, lengthPrefixed(['der']), [400], [900]);
    store.finishLoad(checkpoint);
    const at = (minDf: number): Record<string, number> =>
      Object.fromEntries(store.termsAtLeast('en', minDf).df);
    expect(at(150)).toEqual({ w300: 300, w200: 200 });
    expect(at(63)).toEqual({ w300: 300, w200: 200, w100: 100, w64: 64, w63: 63 });
    expect(at(1)).toEqual(Object.fromEntries(dfs.map((df) => [`w${df}`, df])));
    expect(store.termsAtLeast('en', 100).cf.get('w100')).toBe(200);
    expect(store.termsAtLeast('it', 1).df.size).toBe(0);
    store.close();
  });
});
