/**
 * Compact per-document term sets: ascending term ids stored as gaps in LEB128 varints. With
 * ids ranked by document frequency the common words have small ids, so most gaps fit one byte.
 */

/** Grows as needed; `bytes()` returns a view of what was written. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(initial = 1 << 16) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  writeVarint(value: number): void {
    this.ensure(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.buf[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.length++] = v;
  }

  /** Writes `ids[0..count)`, which must be ascending and distinct. */
  writeIdSet(ids: Uint32Array, count: number): void {
    this.writeVarint(count);
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      this.writeVarint(id - previous - 1);
      previous = id;
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of exactly the written bytes, in its own buffer. */
  take(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/** Reads an id set written by `writeIdSet` at `offset`; returns the ids and the end offset. */
export function readIdSet(bytes: Uint8Array, offset = 0): { ids: Uint32Array; end: number } {
  let pos = offset;
  const next = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError('truncated id set');
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift > 28) throw new RangeError('varint too long in id set');
    }
  };
  const count = next();
  const ids = new Uint32Array(count);
  let previous = -1;
  for (let i = 0; i < count; i++) {
    previous = previous + next() + 1;
    ids[i] = previous;
  }
  return { ids, end: pos };
}

/** Encodes one set (any order, distinct) to its own buffer. */
export function encodeIdSet(ids: Uint32Array): Uint8Array {
  const sorted = ids.slice().sort();
  const writer = new ByteWriter(sorted.length * 2 + 8);
  writer.writeIdSet(sorted, sorted.length);
  return writer.take();
}
