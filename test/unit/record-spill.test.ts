import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FullCounter } from '../../src/analysis/df-table.js';
import type { EncodedDocuments } from '../../src/analysis/protocol.js';
import { DocumentTerms } from '../../src/analysis/term-table.js';
import { addTermRanges } from '../../src/analysis/tokenizer.js';
import { FileRecordBlocks } from '../../src/state/record-spill.js';

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

  it('lets a counter hand on exactly what it hands on from memory', () => {
    const texts = Array.from(
      { length: 3000 },
      (_, i) => `the cat ${'abcdefghij'[i % 10]}${'klmnopqrst'[(i >> 3) % 10]}x and the dog`,
    );
    const run = (counter: FullCounter): EncodedDocuments[] => {
      countTexts(counter, texts);
      const pieces: EncodedDocuments[] = [];
      counter.handOn(1, (piece) => pieces.push(piece), 1000);
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
    expect(fromFile.flatMap((piece) => piece.ids)).toEqual(texts.map((_, i) => `d${i}`));
    expect(existsSync(path)).toBe(false);
  });
});
