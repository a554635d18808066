/**
 * A worker's blocks of term records in a file of its own while a full count runs: the records of
 * a large corpus (hundreds of bytes per document) then live in the page cache, not in the heap,
 * and are read back once, in order, when the worker hands them on. The file is created with the
 * first block (a worker that counts nothing never touches the directory) and removed once read.
 * A run that dies leaves the file in its unfinished state generation, which the next run removes.
 */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { RecordBlocks } from '../analysis/df-table.js';

/** Fills `buffer[0, size)` from `fd` at `offset`; `what` names the file in errors. */
function readFully(
  fd: number,
  buffer: Uint8Array,
  size: number,
  offset: number,
  what: string,
): void {
  let done = 0;
  while (done < size) {
    const read = readSync(fd, buffer, done, size - done, offset + done);
    if (read === 0) throw new Error(`${what} ended before ${offset + size} bytes`);
    done += read;
  }
}

export class FileRecordBlocks implements RecordBlocks {
  private fd: number | null = null;
  private closed = false;
  private readonly sizes: number[] = [];
  private written = 0;
  private readAt = 0;
  private taken = 0;
  private buffer = new Uint8Array(0);

  constructor(readonly path: string) {}

  put(block: Uint8Array): void {
    if (this.closed) throw new Error(`${this.path} is closed`);
    // 'wx+': never reuse a file someone else made.
    this.fd ??= openSync(this.path, 'wx+', 0o600);
    const fd = this.fd;
    let done = 0;
    while (done < block.length) {
      done += writeSync(fd, block, done, block.length - done, this.written + done);
    }
    this.written += block.length;
    this.sizes.push(block.length);
  }

  get count(): number {
    return this.sizes.length;
  }

  take(index: number): Uint8Array {
    const fd = this.open();
    if (index !== this.taken || index >= this.sizes.length) {
      throw new Error(`record block ${index} taken out of order`);
    }
    const size = this.sizes[index]!;
    if (this.buffer.length < size) this.buffer = new Uint8Array(size);
    readFully(fd, this.buffer, size, this.readAt, this.path);
    this.readAt += size;
    this.taken++;
    return this.buffer.subarray(0, size);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = new Uint8Array(0);
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    unlinkSync(this.path);
  }

  private open(): number {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    return this.fd;
  }
}
