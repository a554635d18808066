/**
 * Reads the lines of one byte range of an NDJSON file on the thread that analyses them, so that
 * the job's thread only hands out ranges: the workers read in parallel, each into a buffer of its
 * own that stays in its cache while the lines are parsed, and nothing is transferred.
 *
 * A range owns the lines that start in it: it skips the end of a line begun before it, and reads
 * past its end to finish its own last line. The file is read as it was when the job looked at
 * its size: a range ends there even if the file has grown since, and fails if it has shrunk.
 */
import { readSync } from 'node:fs';

export interface LineRange {
  /** A descriptor of the file, opened for reading by the job and valid until the run ends. */
  readonly fd: number;
  readonly start: number;
  readonly end: number;
  /** The file's size when the job split it into ranges. */
  readonly size: number;
  /** A longer line (its newline and carriage return aside) is skipped unread. */
  readonly maxLineBytes: number;
}

export class FileShrankError extends Error {
  override name = 'FileShrankError';
}

/** Bytes read at a time: a block stays in the reading thread's cache while its lines are parsed. */
export const READ_BLOCK_BYTES = 512 * 1024;

/**
 * Bytes of a read that looks for one line's end, most lines being far shorter than a block: the
 * first read for the newline before a range's first line, and how far past a range's end its
 * last read reaches.
 */
const LINE_END_READ = 16 * 1024;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];

/**
 * A read buffer kept by the reading thread from one range to the next; it grows only for a line
 * longer than a block. A Buffer, whose indexOf and lastIndexOf search natively.
 */
export class ReadBuffer {
  private bytes = Buffer.alloc(0);

  ensure(size: number): Buffer {
    if (this.bytes.length < size) this.bytes = Buffer.allocUnsafeSlow(size);
    return this.bytes;
  }
}

/** Reads `length` bytes at `position`, or fails: the file must still hold them. */
function readFully(fd: number, into: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, done, length - done, position + done);
    if (n === 0) {
      throw new FileShrankError(
        `the corpus file shrank while it was read (nothing at byte ${position + done})`,
      );
    }
    done += n;
  }
}

/**
 * Calls `onLines` with blocks of whole lines (each ending with a newline, except the file's last
 * line), in file order; a block is a view of `buffer`, valid until `onLines` returns. Calls
 * `onOverlong` in its place for a line longer than `maxLineBytes`, with its length. Returns the
 * number of bytes the range owns, the lines that start in it.
 */
export function readLineRange(
  range: LineRange,
  buffer: ReadBuffer,
  onLines: (lines: Uint8Array) => void,
  onOverlong: (bytes: number) => void,
  blockBytes = READ_BLOCK_BYTES,
): number {
  const { fd, start, end, size, maxLineBytes } = range;
  let pos: number;
  if (start <= BOM.length && startsWithBom(fd, buffer, size)) {
    // A UTF-8 byte order mark opens the file, not its first line, which starts after it.
    pos = BOM.length;
  } else if (start === 0) {
    pos = 0;
  } else {
    // The line holding byte start-1 belongs to an earlier range, up to its newline.
    const nl = newlineFrom(fd, buffer, start - 1, end, blockBytes);
    pos = nl === -1 ? end : nl + 1;
  }
  const first = pos;
  // Past the range's end, only its last line is wanted: a whole block there would copy up to a
  // block's worth of the next range for nothing. So a read reaches at most this far past the
  // end, until a line outgrows it: that line is read again from its start with a whole block.
  let tail = LINE_END_READ;
  while (pos < end) {
    const block = buffer.ensure(blockBytes);
    const want = Math.min(blockBytes, size - pos, end - pos + tail);
    readFully(fd, block, want, pos);
    // Index in the block of the range's last byte: the line holding it is the range's last.
    const last = end - 1 - pos;
    if (last < want) {
      const nl = block.indexOf(NEWLINE, last);
      if (nl !== -1 && nl < want) {
        onLines(block.subarray(0, nl + 1));
        return nl + 1 + pos - first;
      }
      if (pos + want === size) {
        onLines(block.subarray(0, want));
        return size - first;
      }
    }
    const lastNl = block.lastIndexOf(NEWLINE, want - 1);
    if (lastNl !== -1) {
      onLines(block.subarray(0, lastNl + 1));
      pos += lastNl + 1;
      continue;
    }
    if (want < blockBytes && pos + want < size) {
      tail = blockBytes;
      continue;
    }
    // The line at pos is longer than the block: read it whole, or skip it if it is overlong.
    pos = longLine(fd, buffer, pos, size, maxLineBytes, blockBytes, onLines, onOverlong);
  }
  return pos - first;
}

function startsWithBom(fd: number, buffer: ReadBuffer, size: number): boolean {
  if (size < BOM.length) return false;
  const head = buffer.ensure(BOM.length);
  readFully(fd, head, BOM.length, 0);
  return head[0] === BOM[0] && head[1] === BOM[1] && head[2] === BOM[2];
}

/** Where the first newline in [from, end) of the file is, or -1. */
function newlineFrom(
  fd: number,
  buffer: ReadBuffer,
  from: number,
  end: number,
  blockBytes: number,
): number {
  // Most lines are short: the first read is small and each next one twice as large, up to a
  // block, so that finding where a range's first line starts does not copy a whole block.
  let step = Math.min(LINE_END_READ, blockBytes);
  for (let pos = from; pos < end; ) {
    const block = buffer.ensure(blockBytes);
    const want = Math.min(step, end - pos);
    readFully(fd, block, want, pos);
    const nl = block.indexOf(NEWLINE);
    if (nl !== -1 && nl < want) return pos + nl;
    pos += want;
    step = Math.min(step * 2, blockBytes);
  }
  return -1;
}

/**
 * The line at `pos` fills a whole block. Hands it to `onLines` if it is within the limit, to
 * `onOverlong` otherwise, and returns where the next line starts.
 */
function longLine(
  fd: number,
  buffer: ReadBuffer,
  pos: number,
  size: number,
  maxLineBytes: number,
  blockBytes: number,
  onLines: (lines: Uint8Array) => void,
  onOverlong: (bytes: number) => void,
): number {
  // Room for the line, a carriage return and its newline.
  const room = Math.min(maxLineBytes + 2, size - pos);
  const line = buffer.ensure(room);
  readFully(fd, line, room, pos);
  let nl = line.indexOf(NEWLINE);
  if (nl >= room) nl = -1;
  const length = nl === -1 ? room : nl > 0 && line[nl - 1] === RETURN ? nl - 1 : nl;
  if (length <= maxLineBytes && (nl !== -1 || pos + room === size)) {
    const through = nl === -1 ? room : nl + 1;
    onLines(line.subarray(0, through));
    return pos + through;
  }
  if (nl !== -1) {
    onOverlong(nl);
    return pos + nl + 1;
  }
  // Overlong: find its end without holding it.
  const end = newlineFrom(fd, buffer, pos + room, size, blockBytes);
  if (end === -1) {
    onOverlong(size - pos);
    return size;
  }
  onOverlong(end - pos);
  return end + 1;
}
