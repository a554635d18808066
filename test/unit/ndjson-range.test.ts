import { closeSync, openSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileShrankError, ReadBuffer, readLineRange } from '../../src/corpus/ndjson-range.js';
import { prng } from '../support/corpus.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ndjson-range-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * What a reader must deliver: the lines in order, each overlong one as a marker. A line is read
 * unless it fills a whole block (its newline aside) and is over the limit (its carriage return
 * aside too): a shorter line costs no more memory than the block.
 */
function expected(content: Buffer, maxLineBytes: number, blockBytes: number): string {
  let text = content;
  if (text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) text = text.subarray(3);
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf(0x0a, start);
    const through = nl === -1 ? text.length : nl + 1;
    if (nl === -1) nl = text.length;
    const length = nl > start && text[nl - 1] === 0x0d ? nl - 1 - start : nl - start;
    out.push(
      nl - start >= blockBytes && length > maxLineBytes
        ? `<overlong ${nl - start}>`
        : text.subarray(start, through).toString('latin1'),
    );
    start = through;
  }
  return out.join('');
}

/** Reads `path` as consecutive ranges of the given sizes, as the workers would. */
function readInRanges(
  path: string,
  size: number,
  bounds: readonly number[],
  maxLineBytes: number,
  blockBytes: number,
): { text: string; owned: number } {
  const fd = openSync(path, 'r');
  const buffer = new ReadBuffer();
  let text = '';
  let owned = 0;
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      owned += readLineRange(
        { fd, start: bounds[k]!, end: bounds[k + 1]!, size, maxLineBytes },
        buffer,
        (lines) => {
          text += Buffer.from(lines).toString('latin1');
        },
        (bytes) => {
          text += `<overlong ${bytes}>`;
        },
        blockBytes,
      );
    }
  } finally {
    closeSync(fd);
  }
  return { text, owned };
}

function cuts(size: number, random: () => number, mean: number): number[] {
  const bounds = [0];
  while (bounds[bounds.length - 1]! < size) {
    bounds.push(Math.min(size, bounds[bounds.length - 1]! + 1 + Math.floor(random() * 2 * mean)));
  }
  return bounds;
}

describe('readLineRange', () => {
  it('delivers every line exactly once, whatever the ranges and blocks', () => {
    const random = prng(7);
    for (let round = 0; round < 200; round++) {
      const parts: Buffer[] = [];
      if (round % 5 === 0) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
      const lines = 1 + Math.floor(random() * 40);
      for (let i = 0; i < lines; i++) {
        const roll = random();
        const length =
          roll < 0.1
            ? 0
            : roll < 0.85
              ? Math.floor(random() * 30)
              : 30 + Math.floor(random() * 120);
        const body = Buffer.alloc(length, 0x61 + (i % 26));
        const ending = random() < 0.2 ? '\r\n' : '\n';
        parts.push(body, Buffer.from(i === lines - 1 && random() < 0.4 ? '' : ending));
      }
      const content = Buffer.concat(parts);
      const path = join(dir, `r${round}.ndjson`);
      writeFileSync(path, content);
      const maxLineBytes = 20 + Math.floor(random() * 80);
      const blockBytes = 8 + Math.floor(random() * 40);
      const bounds = cuts(content.length, random, 1 + random() * 60);
      const read = readInRanges(path, content.length, bounds, maxLineBytes, blockBytes);
      expect(read.text, `round ${round}`).toBe(expected(content, maxLineBytes, blockBytes));
      const bom = round % 5 === 0 ? 3 : 0;
      expect(read.owned, `round ${round}`).toBe(content.length - bom);
    }
  });

  it('finds where a range starts and ends past lines longer than its small reads', () => {
    // Lines of up to 120 KB and blocks larger than the first reads: the newline ending the line
    // before a range is looked for by reads of 16 KB, then 32 KB and so on, and a range's last
    // block reads 16 KB past its end; these lines outgrow both.
    const random = prng(11);
    for (let round = 0; round < 12; round++) {
      const parts: Buffer[] = [];
      const lines = 5 + Math.floor(random() * 20);
      for (let i = 0; i < lines; i++) {
        parts.push(
          Buffer.alloc(Math.floor(random() * 120_000), 0x61 + (i % 26)),
          Buffer.from('\n'),
        );
      }
      const content = Buffer.concat(parts);
      const path = join(dir, `long${round}.ndjson`);
      writeFileSync(path, content);
      // Every other round, 100 KB blocks and a 60 KB limit: a line that fills a block is
      // overlong, a shorter one is delivered, whether or not it ends a range.
      const [maxLineBytes, blockBytes] =
        round % 2 === 0 ? [1 << 20, 256 * 1024] : [60_000, 100_000];
      const bounds = cuts(content.length, random, 50_000);
      const read = readInRanges(path, content.length, bounds, maxLineBytes, blockBytes);
      expect(read.text, `round ${round}`).toBe(expected(content, maxLineBytes, blockBytes));
      expect(read.owned, `round ${round}`).toBe(content.length);
    }
  });

  it('gives a range nothing when a line begun before it runs through it', () => {
    const path = join(dir, 'through.ndjson');
    const content = `{"a":1}\n${'x'.repeat(100)}\n{"b":2}\n`;
    writeFileSync(path, content);
    const pieces: string[] = [];
    const fd = openSync(path, 'r');
    try {
      const owned = readLineRange(
        { fd, start: 20, end: 60, size: content.length, maxLineBytes: 1000 },
        new ReadBuffer(),
        (lines) => pieces.push(Buffer.from(lines).toString()),
        () => pieces.push('overlong'),
        16,
      );
      expect(owned).toBe(0);
      expect(pieces).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('reads a line longer than a block when it is within the limit', () => {
    const path = join(dir, 'long.ndjson');
    const content = `{"a":1}\n${'y'.repeat(300)}\n{"b":2}`;
    writeFileSync(path, content);
    const read = readInRanges(path, content.length, [0, 10, content.length], 400, 32);
    expect(read.text).toBe(content);
  });

  it('stops at the size the job saw, and fails when the file has shrunk', () => {
    const path = join(dir, 'shrink.ndjson');
    const content = '{"a":1}\n{"b":2}\n{"c":3}\n';
    writeFileSync(path, content);
    // Grown since: the ranges end at the size they were made for.
    writeFileSync(path, `${content}{"d":4}\n`);
    expect(readInRanges(path, content.length, [0, 9, content.length], 100, 64).text).toBe(content);
    truncateSync(path, 12);
    expect(() => readInRanges(path, content.length, [0, content.length], 100, 64)).toThrow(
      FileShrankError,
    );
  });
});
