import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBlocks, FullCounter, MergedTerms } from '../../src/analysis/df-table.js';
import type { EncodedDocuments } from '../../src/analysis/protocol.js';
import { DocumentTerms } from '../../src/analysis/term-table.js';
import { addTermRanges } from '../../src/analysis/tokenizer.js';
import { FileRecordBlocks, RecordBlockReader } from '../../src/state/record-spill.js';

/** Counts `texts` into `counter`, in English, as documents d0, d1, …; returns `counter`. */
function countTexts(counter: FullCounter, texts: readonly string[]): FullCounter {
  const terms = new DocumentTerms();
  texts.forEach((text, i) => {
    terms.clear();
    addTermRanges(text, 'en', terms);
    counter.addDocument(`d${i}`, 'en', i, terms);
  });
  return counter;
}

/** `counter`'s local -> global map, merged after a first worker that counted nothing. */
function globalMap(counter: FullCounter): Uint32Array {
  const merged = new MergedTerms();
  merged.add(new FullCounter(false, undefined, undefined, true).terms());
  const local = merged.add(counter.terms());
  const { globalOf } = merged.byGlobalId();
  return local.map((id) => globalOf[id]!);
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'record-spill-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FileRecordBlocks', () => {
  it('gives back each block as written, in order, and removes its file when closed', () => {
    const path = join(dir, 'records.tmp');
    const blocks = new FileRecordBlocks(path);
    const scratch = new Uint8Array(3000);
    const expected: number[][] = [];
    for (let b = 0; b < 5; b++) {
      const size = 1000 + b * 500;
      for (let i = 0; i < size; i++) scratch[i] = (i * 7 + b) & 0xff;
      // The same memory each time: the file must hold copies.
      blocks.put(scratch.subarray(0, size));
      expected.push([...scratch.subarray(0, size)]);
    }
    expect(blocks.count).toBe(5);
    expect(() => blocks.take(1)).toThrow(/out of order/);
    for (let b = 0; b < 5; b++) expect([...blocks.take(b)]).toEqual(expected[b]);
    expect(() => blocks.take(5)).toThrow(/out of order/);
    expect(existsSync(path)).toBe(true);
    blocks.close();
    expect(existsSync(path)).toBe(false);
    expect(() => blocks.put(scratch)).toThrow(/closed/);
  });

  it('refuses a file that already exists', () => {
    const path = join(dir, 'records.tmp');
    writeFileSync(path, 'someone else');
    expect(() => new FileRecordBlocks(path).put(new Uint8Array(8))).toThrow(/EEXIST/);
  });

  it('creates nothing until the first block, so an idle worker never needs its directory', () => {
    const path = join(dir, 'gone', 'records.tmp');
    const blocks = new FileRecordBlocks(path);
    expect(blocks.count).toBe(0);
    expect(existsSync(join(dir, 'gone'))).toBe(false);
    blocks.close();
    expect(() => blocks.put(new Uint8Array(8))).toThrow(/closed/);
  });

  it('lets a counter encode exactly what it encodes from memory', () => {
    const texts = Array.from(
      { length: 3000 },
      (_, i) => `the cat ${'abcdefghij'[i % 10]}${'klmnopqrst'[(i >> 3) % 10]}x and the dog`,
    );
    const run = (counter: FullCounter): EncodedDocuments[] => {
      const map = globalMap(countTexts(counter, texts));
      const pieces: EncodedDocuments[] = [];
      counter.encode(map, (piece) => pieces.push(piece), 1000);
      return pieces;
    };
    const path = join(dir, 'records.tmp');
    const spill = new FileRecordBlocks(path);
    // Small blocks, so that the records span many.
    const fromFile = run(new FullCounter(true, spill, 512));
    expect(spill.count).toBeGreaterThan(20);
    const fromMemory = run(new FullCounter(true));
    expect(fromFile.length).toBeGreaterThan(3);
    expect(fromFile).toEqual(fromMemory);
    expect(existsSync(path)).toBe(false);
  });

  it("lets another reader take a file's blocks in any order, after its worker has removed it", () => {
    const path = join(dir, 'records.tmp');
    const blocks = new FileRecordBlocks(path);
    const sizes = [700, 1300, 10, 2000];
    sizes.forEach((size, b) => {
      blocks.put(Uint8Array.from({ length: size }, (_, i) => i * b));
    });
    const reader = new RecordBlockReader(path, sizes);
    for (let b = 0; b < 2; b++) blocks.take(b);
    blocks.close();
    expect(existsSync(path)).toBe(false);
    for (const b of [3, 1, 2, 0]) {
      expect([...reader.take(b)]).toEqual(
        Array.from({ length: sizes[b]! }, (_, i) => (i * b) & 0xff),
      );
    }
    expect(() => reader.take(4)).toThrow(/no record block 4/);
    reader.close();
    expect(() => reader.take(0)).toThrow(/closed/);
    expect(() => new RecordBlockReader(join(dir, 'missing.tmp'), [1])).toThrow(/ENOENT/);
  });

  it('encodes the same documents when another worker re-encodes its last blocks', () => {
    const texts = Array.from(
      { length: 2000 },
      (_, i) => `the ${'abcdefghij'[i % 10]}${'klmnopqrst'[(i >> 2) % 10]}y of it`,
    );
    const counter = (blocks?: FileRecordBlocks): FullCounter =>
      countTexts(new FullCounter(true, blocks, 512), texts);
    const encodeWith = (made: FullCounter, split: number | undefined): EncodedDocuments[] => {
      const list = made.blockList();
      const map = globalMap(made);
      const reader = list.path === null ? null : new RecordBlockReader(list.path, list.sizes);
      const pieces: EncodedDocuments[] = [];
      made.encode(map, (piece) => pieces.push(piece), 1000, split);
      if (reader !== null && split !== undefined) {
        const langs = ['en'];
        const end = list.documents.length;
        const count = encodeBlocks(
          reader,
          list.documents,
          split,
          end,
          map,
          langs,
          (piece) => pieces.push(piece),
          1000,
        );
        expect(count).toBe(list.documents.slice(split).reduce((a, b) => a + b, 0));
        reader.close();
      }
      return pieces;
    };
    const whole = encodeWith(counter(), undefined);
    const spill = new FileRecordBlocks(join(dir, 'records.tmp'));
    const made = counter(spill);
    expect(made.blockList().sizes.length).toBeGreaterThan(10);
    const split = encodeWith(made, 6);
    expect(split.flatMap((piece) => piece.ids)).toEqual(whole.flatMap((piece) => piece.ids));
    const records = (pieces: EncodedDocuments[]) => pieces.flatMap((piece) => [...piece.records]);
    expect(records(split)).toEqual(records(whole));
    expect(existsSync(join(dir, 'records.tmp'))).toBe(false);
  });
});
