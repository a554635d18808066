/**
 * The document writer, on its own thread against a real SQLite state: pieces posted on several
 * ports, as the analysis workers post them, are all stored, each giving its credit back; a
 * document id met twice, in a piece or across pieces, ends it with the store's own error while
 * it still gives the later pieces' credits back; a store it cannot write is a clear failure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTermCounts } from '../../src/analysis/term-ids.js';
import { lengthPrefixed } from '../../src/analysis/term-table.js';
import { DfStore, DuplicateDocumentError } from '../../src/state/df-store.js';
import {
  type DocumentPiece,
  DocumentWriter,
  DocumentWriterError,
} from '../../src/state/document-writer.js';
import { fullCountCheckpoint } from '../support/checkpoint.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-writer-'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A piece of `ids`, all English, document i holding term 0 i+1 times and term 1 once. */
function piece(ids: string[], numbering = 0): DocumentPiece {
  const parts = ids.map((_, i) => encodeTermCounts([0, 1], [i + 1, 1]));
  const records = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  const ends = new Uint32Array(ids.length);
  let at = 0;
  parts.forEach((part, i) => {
    records.set(part, at);
    at += part.length;
    ends[i] = at;
  });
  return {
    numbering,
    ids,
    langs: ['en'],
    langOf: new Uint16Array(ids.length),
    updatedAt: Float64Array.from(ids, (_, i) => 1000 + i),
    records,
    ends,
  };
}

/** A store as a full count creates it, with its one language loaded. */
async function newStore(name: string): Promise<{ store: DfStore; path: string }> {
  const path = join(dir, `${name}.sqlite`);
  await rm(path, { force: true });
  const store = DfStore.create(path);
  store.loadLanguage('en', 1, lengthPrefixed(['the', 'cat']), [1, 1], [1, 1]);
  return { store, path };
}

/**
 * Posts `pieces` on a new port of `writer`, each once a credit allows, as a worker does; resolves
 * with the credits once they are all back (or none came for a second).
 */
async function post(writer: DocumentWriter, pieces: DocumentPiece[]): Promise<Int32Array> {
  const { port1, port2 } = new MessageChannel();
  const credits = new Int32Array(new SharedArrayBuffer(4));
  credits[0] = 2;
  const receipt = writer.take(port1, credits.buffer);
  const until = async (ready: () => boolean): Promise<void> => {
    const deadline = Date.now() + 1000;
    while (!ready() && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 1));
  };
  for (const p of pieces) {
    await until(() => Atomics.load(credits, 0) > 0);
    Atomics.sub(credits, 0, 1);
    port2.postMessage(p);
  }
  await until(() => Atomics.load(credits, 0) === 2);
  await receipt.stored(pieces.length).catch(() => {});
  port2.close();
  return credits;
}

type Row = { id: string; lang: string; numbering: number; terms: string; at: number };

/** The stored documents at `path`, by id, their records in hex. */
function rows(path: string): Row[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT id, lang, numbering, hex(terms) AS terms, updated_at AS at FROM docs ORDER BY id',
      )
      .all() as Row[];
  } finally {
    db.close();
  }
}

describe('DocumentWriter', () => {
  it('stores the pieces of several ports, as the store stores them on its own thread', async () => {
    const ids = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
    const first = [piece(ids('a', 70)), piece(ids('b', 3)), piece(ids('c', 130))];
    const second = [piece(ids('x', 5), 1), piece(ids('y', 64), 1)];

    const { store, path } = await newStore('writer');
    const writer = store.documentWriter();
    const credits = await Promise.all([post(writer, first), post(writer, second)]);
    await writer.close();
    // Every credit came back.
    expect(credits.map((c) => c[0])).toEqual([2, 2]);
    expect(writer.documents).toBe(70 + 3 + 130 + 5 + 64);
    const bytes = [...first, ...second].reduce((n, p) => n + p.records.byteLength, 0);
    expect(writer.recordBytes).toBe(bytes);
    store.finishLoad(fullCountCheckpoint);
    store.close();

    // The same pieces loaded by the store itself give the same rows.
    const { store: direct, path: directPath } = await newStore('direct');
    for (const p of [...first, ...second]) {
      direct.loadDocuments(p.ids, p.langs, p.langOf, p.updatedAt, p.records, p.ends, p.numbering);
    }
    direct.close();
    expect(rows(path)).toHaveLength(272);
    expect(rows(path)).toEqual(rows(directPath));
    expect(rows(path).filter((row) => row.numbering === 1)).toHaveLength(69);
  });

  it('names an id met twice, in one piece or across pieces, and still gives every credit back', async () => {
    const within = await newStore('within');
    const writer = within.store.documentWriter();
    const credits = await post(writer, [piece(['a', 'b']), piece(['c', 'd', 'c']), piece(['e'])]);
    expect(credits[0]).toBe(2);
    const error = await writer.close().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DuplicateDocumentError);
    expect((error as DuplicateDocumentError).id).toBe('c');
    // Nothing after the failure is stored, nor the failing piece.
    expect(rows(within.path).map((row) => row.id)).toEqual(['a', 'b']);
    within.store.close();

    const across = await newStore('across');
    const second = across.store.documentWriter();
    await Promise.all([post(second, [piece(['a', 'b'])]), post(second, [])]);
    await post(second, [piece(['e', 'b'])]);
    await expect(second.close()).rejects.toThrow('document id "b" appears more than once');
    across.store.close();
  });

  it('fails with a clear message when it cannot store the documents', async () => {
    const path = join(dir, 'plain.sqlite');
    const db = new Database(path);
    db.exec('CREATE TABLE other (x)');
    db.close();
    const writer = new DocumentWriter(path);
    await post(writer, [piece(['a'])]);
    const error = await writer.close().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DocumentWriterError);
    expect((error as Error).message).toBe('storing the documents failed: no such table: docs');
    expect(writer.documents).toBe(0);

    const missing = new DocumentWriter(join(dir, 'missing', 'state.sqlite'));
    await expect(missing.close()).rejects.toThrow(/^storing the documents failed: /);
  });
});
