/**
 * Streams an NDJSON file as chunks of whole lines, each a view of a freshly allocated buffer of
 * its own, so each chunk can be transferred to a worker thread without a copy. A line longer
 * than `maxLineBytes` is skipped while streaming (never held in memory) and reported as one item
 * of its own.
 */
import { open } from 'node:fs/promises';

import type { CorpusChunk } from './chunks.js';

export type ChunkItem = Extract<CorpusChunk, { kind: 'chunk' | 'overlongLine' }>;

export interface NdjsonReaderOptions {
  /** Target chunk size; a chunk always ends at a line boundary. */
  readonly chunkBytes: number;
  readonly maxLineBytes: number;
}

const NEWLINE = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];

export async function* readNdjsonChunks(
  path: string,
  options: NdjsonReaderOptions,
): AsyncGenerator<ChunkItem> {
  const handle = await open(path, 'r');
  try {
    let carry: Uint8Array = new Uint8Array(0);
    let skipping = false;
    let skippedBytes = 0;
    let first = true;
    for (;;) {
      const readSize = carry.length + options.chunkBytes;
      // Not zero-filled, and never from the shared pool: the buffer is transferred whole. A plain
      // Uint8Array view, whose slice() copies (a Buffer's would not).
      const buffer = new Uint8Array(Buffer.allocUnsafeSlow(readSize).buffer, 0, readSize);
      buffer.set(carry, 0);
      const { bytesRead } = await handle.read(buffer, carry.length, readSize - carry.length, null);
      const filled = carry.length + bytesRead;
      let start = 0;
      if (first) {
        first = false;
        if (filled >= 3 && buffer[0] === BOM[0] && buffer[1] === BOM[1] && buffer[2] === BOM[2]) {
          start = 3;
        }
      }
      if (skipping) {
        const nl = buffer.subarray(0, filled).indexOf(NEWLINE);
        if (nl === -1) {
          skippedBytes += filled;
          carry = new Uint8Array(0);
          if (bytesRead === 0) {
            yield { kind: 'overlongLine', bytes: skippedBytes };
            return;
          }
          continue;
        }
        yield { kind: 'overlongLine', bytes: skippedBytes + nl };
        skipping = false;
        skippedBytes = 0;
        start = nl + 1;
      }
      if (bytesRead === 0) {
        if (filled > start) yield { kind: 'chunk', bytes: buffer.subarray(start, filled) };
        return;
      }
      const lastNl = buffer.subarray(start, filled).lastIndexOf(NEWLINE);
      if (lastNl === -1) {
        // No line ends in this buffer: the pending line grows, or is too long to keep.
        const pending = filled - start;
        if (pending > options.maxLineBytes) {
          skipping = true;
          skippedBytes = pending;
          carry = new Uint8Array(0);
        } else {
          carry = buffer.slice(start, filled);
        }
        continue;
      }
      const end = start + lastNl + 1;
      // A view, not a copy: the buffer belongs to this chunk alone once the carry is copied out.
      const bytes = buffer.subarray(start, end);
      // Before the yield: the consumer may transfer (detach) the buffer it receives.
      carry = end === filled ? new Uint8Array(0) : buffer.slice(end, filled);
      yield { kind: 'chunk', bytes };
    }
  } finally {
    await handle.close();
  }
}
