/**
 * A reference decoder of the term-record format (`src/analysis/term-ids.ts`), written plainly
 * and apart from the product's own decoder (the in-place subtraction in
 * `delta-transaction.ts`), so that tests check it against it.
 */

export interface TermRecord {
  /** Ascending, distinct term ids. */
  readonly ids: Uint32Array;
  /** Occurrences of `ids[i]` in the document, at least 1. */
  readonly tfs: Uint32Array;
  /** Offset just after the record. */
  readonly end: number;
}

/** Reads a record written by `ByteWriter.writeTermCounts` at `offset`. */
export function readTermCounts(bytes: Uint8Array, offset = 0): TermRecord {
  let pos = offset;
  const next = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError('truncated term record');
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
      if (shift > 28) throw new RangeError('varint too long in term record');
    }
  };
  const count = next();
  const ids = new Uint32Array(count);
  const tfs = new Uint32Array(count);
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const value = next();
    const flagged = value % 2 === 1;
    const half = (value - (flagged ? 1 : 0)) / 2;
    previous = previous + half + 1;
    ids[i] = previous;
    tfs[i] = flagged ? next() + 2 : 1;
  }
  return { ids, tfs, end: pos };
}
