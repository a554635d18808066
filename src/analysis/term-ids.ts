/**
 * Compact per-document term counts: the document's distinct term ids in ascending order, each
 * with its term frequency (occurrences in the document), in LEB128 varints.
 *
 * Record format: `count`, then per term `gap × 2 + (tf > 1 ? 1 : 0)` and, only when that flag is
 * set, `tf − 2`. The gap is `id − previous id − 1` (the first id's previous is −1). With ids in
 * first-seen order the common words have small ids (they come in the first documents), and most
 * terms occur once in a document, so most terms still fit one byte: gaps below 64 with tf 1.
 */

/** Largest value a varint of this format may hold: five bytes of seven bits. */
const MAX_VARINT = 2 ** 35 - 1;

/** Writes `value` (0 <= value <= 2^35 − 1) at `at` of a buffer known to have room; returns the end. */
function putVarint(buf: Uint8Array, at: number, value: number): number {
  if (value < 0x80) {
    buf[at] = value;
    return at + 1;
  }
  if (value < 0x4000) {
    buf[at] = (value & 0x7f) | 0x80;
    buf[at + 1] = value >>> 7;
    return at + 2;
  }
  if (value < 0x80000000) {
    let v = value;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at] = v;
    return at + 1;
  }
  if (!(value <= MAX_VARINT)) throw new RangeError(`varint out of range: ${value}`);
  let v = value;
  while (v >= 0x80) {
    buf[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[at] = v;
  return at + 1;
}

/**
 * Writes one term of a record whose `value` (its gap or id, × 2) is already computed: flagged
 * (+1) and followed by `tf` − 2 when the term occurs more than once; returns the end.
 */
function putTermCount(buf: Uint8Array, at: number, value: number, tf: number): number {
  if (tf > 1) return putVarint(buf, putVarint(buf, at, value + 1), tf - 2);
  return putVarint(buf, at, value);
}

/**
 * Reads the varint at `at` of `bytes`: returns its value and leaves its end in `varintEnd`,
 * which saves an object per call on the hot paths that decode records.
 */
export function getVarint(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at]!;
  if (b0 < 0x80) {
    varintEnd = at + 1;
    return b0;
  }
  const b1 = bytes[at + 1]!;
  if (b1 < 0x80) {
    varintEnd = at + 2;
    return (b0 & 0x7f) | (b1 << 7);
  }
  const b2 = bytes[at + 2]!;
  if (b2 < 0x80) {
    varintEnd = at + 3;
    return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
  }
  const b3 = bytes[at + 3]!;
  if (b3 < 0x80) {
    varintEnd = at + 4;
    return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
  }
  let result = 0;
  let shift = 0;
  let pos = at;
  for (;;) {
    if (pos >= bytes.length) throw new RangeError('truncated term record');
    const byte = bytes[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
    shift += 7;
    if (shift > 28) throw new RangeError('varint too long in term record');
  }
  varintEnd = pos;
  return result;
}

/**
 * Where the term record (`writeTermCounts`) that starts at `at` of `bytes` ends, found without
 * decoding its values: each term is one varint, and a second when the first's lowest bit (the
 * flag for tf > 1) is set.
 */
export function termCountsEnd(bytes: Uint8Array, at: number): number {
  const count = getVarint(bytes, at);
  let pos = varintEnd;
  for (let i = 0; i < count; i++) {
    let varints = (bytes[pos]! & 1) + 1;
    while (varints > 0) {
      const byte = bytes[pos++];
      if (byte === undefined) throw new RangeError('truncated term record');
      if (byte < 0x80) varints--;
    }
  }
  return pos;
}

/** Where the varint (or string, or float) that `getVarint` (`getString`, `getFloat64`) last read ends. */
export let varintEnd = 0;

const textEncoder = new TextEncoder();
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);

/** Reads a string written by `writeString` at `at` of `bytes` (a Buffer, for its fast decoder). */
export function getString(bytes: Buffer, at: number): string {
  const size = getVarint(bytes, at);
  const start = varintEnd;
  const end = start + size;
  if (end > bytes.length) throw new RangeError('truncated string');
  varintEnd = end;
  return bytes.toString('utf8', start, end);
}

/** Reads a number written by `writeFloat64`. */
export function getFloat64(bytes: Uint8Array, at: number): number {
  if (at + 8 > bytes.length) throw new RangeError('truncated number');
  float64Bytes.set(bytes.subarray(at, at + 8));
  varintEnd = at + 8;
  return float64[0]!;
}

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

  /** Writes a non-negative integer up to 2^35 − 1. */
  writeVarint(value: number): void {
    this.ensure(5);
    if (value < 0x80000000) {
      let v = value >>> 0;
      while (v >= 0x80) {
        this.buf[this.length++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.length++] = v;
      return;
    }
    if (!(value <= MAX_VARINT)) throw new RangeError(`varint out of range: ${value}`);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /**
   * Writes the distinct terms `ids[0..count)`, ascending, with their frequencies `tfs[0..count)`
   * (each at least 1).
   */
  writeTermCounts(ids: Uint32Array, tfs: Uint32Array, count: number): void {
    // Room for every varint at its longest, reserved once: the loop below writes unchecked.
    this.ensure(5 + count * 10);
    const buf = this.buf;
    let at = this.length;
    at = putVarint(buf, at, count);
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      const tf = tfs[i]!;
      const value = (id - previous - 1) * 2;
      if (value < 0) throw new RangeError(`term ids out of order: ${id} after ${previous}`);
      at = putTermCount(buf, at, value, tf);
      previous = id;
    }
    this.length = at;
  }

  /**
   * `writeTermCounts` of the distinct `ids[0..count)` in any order, sorted on the way: the same
   * bytes as `sortTermCounts` followed by `writeTermCounts`, for about a sixth less work on a
   * document's few hundred terms, as the ids are sorted with their positions packed beside them
   * (`sortedKeys`) and the frequencies are read through those positions rather than moved.
   * `ids` and `tfs` may be left reordered.
   */
  writeSortedTermCounts(ids: Uint32Array, tfs: Uint32Array, count: number): void {
    let maxId = 0;
    for (let i = 0; i < count; i++) if (ids[i]! > maxId) maxId = ids[i]!;
    const bits = count < 2 ? 1 : 32 - Math.clz32(count - 1);
    if (count < RADIX_MIN || maxId >= 2 ** (32 - bits)) {
      sortTermCounts(ids, tfs, count);
      this.writeTermCounts(ids, tfs, count);
      return;
    }
    const keys = sortedKeys(ids, count, maxId, bits);
    const mask = (1 << bits) - 1;
    this.ensure(5 + count * 10);
    const buf = this.buf;
    let at = putVarint(buf, this.length, count);
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      const id = key >>> bits;
      const tf = tfs[key & mask]!;
      const value = (id - previous - 1) * 2;
      if (value < 0) throw new RangeError(`term id ${id} occurs twice`);
      // Most terms are a small gap occurring once: one byte.
      if (tf === 1 && value < 0x80) buf[at++] = value;
      else at = putTermCount(buf, at, value, tf);
      previous = id;
    }
    this.length = at;
  }

  /** Writes `bytes` as they are. */
  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Writes a string as its UTF-8 byte length (a varint), then the bytes. */
  writeString(value: string): void {
    const size = Buffer.byteLength(value, 'utf8');
    this.ensure(5 + size);
    this.length = putVarint(this.buf, this.length, size);
    const written = textEncoder.encodeInto(value, this.buf.subarray(this.length)).written;
    if (written !== size) throw new Error(`wrote ${written} of ${size} UTF-8 bytes`);
    this.length += size;
  }

  /** Writes a number as 8 bytes (IEEE 754, little-endian). */
  writeFloat64(value: number): void {
    this.ensure(8);
    float64[0] = value;
    this.buf.set(float64Bytes, this.length);
    this.length += 8;
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

/** From this many terms on, a radix sort beats the native sort of packed keys (about 2×). */
const RADIX_MIN = 48;
const histograms = new Uint32Array(3 * 256);
let spareIds = new Uint32Array(4096);
let spareTfs = new Uint32Array(4096);

/** Turns the 256 counts of a radix pass at `h[base…]` into where each digit's run starts. */
function bucketStarts(h: Uint32Array, base: number): void {
  let sum = 0;
  for (let d = 0; d < 256; d++) {
    const c = h[base + d]!;
    h[base + d] = sum;
    sum += c;
  }
}

/**
 * LSD radix sort of ids below 2^24 in up to three 8-bit passes (fewer when the ids are small),
 * moving each tf along; linear in `count`, with no comparisons.
 */
function radixSort(ids: Uint32Array, tfs: Uint32Array, count: number, maxId: number): void {
  if (spareIds.length < count) {
    spareIds = new Uint32Array(count * 2);
    spareTfs = new Uint32Array(count * 2);
  }
  const passes = maxId < 0x100 ? 1 : maxId < 0x10000 ? 2 : 3;
  const h = histograms;
  h.fill(0, 0, passes * 256);
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    h[id & 0xff]!++;
    if (passes > 1) h[256 + ((id >>> 8) & 0xff)]!++;
    if (passes > 2) h[512 + (id >>> 16)]!++;
  }
  let fromIds: Uint32Array = ids;
  let fromTfs: Uint32Array = tfs;
  let toIds: Uint32Array = spareIds;
  let toTfs: Uint32Array = spareTfs;
  for (let pass = 0; pass < passes; pass++) {
    const base = pass * 256;
    const shift = pass * 8;
    bucketStarts(h, base);
    for (let i = 0; i < count; i++) {
      const id = fromIds[i]!;
      const at = h[base + ((id >>> shift) & 0xff)]!++;
      toIds[at] = id;
      toTfs[at] = fromTfs[i]!;
    }
    [fromIds, toIds] = [toIds, fromIds];
    [fromTfs, toTfs] = [toTfs, fromTfs];
  }
  if (fromIds !== ids) {
    ids.set(fromIds.subarray(0, count));
    tfs.set(fromTfs.subarray(0, count));
  }
}

let keysA = new Uint32Array(4096);
let keysB = new Uint32Array(4096);
const keyHistograms = new Uint32Array(4 * 256);

/**
 * The keys id × 2^bits + position of `ids[0..count)`, sorted by an LSD radix sort over the id's
 * bytes (as many passes as `maxId` needs); each key fits 32 bits (maxId < 2^(32 - bits)). The
 * result is a scratch array, valid until the next call.
 */
function sortedKeys(ids: Uint32Array, count: number, maxId: number, bits: number): Uint32Array {
  if (keysA.length < count) {
    keysA = new Uint32Array(count * 2);
    keysB = new Uint32Array(count * 2);
  }
  const passes = maxId < 0x100 ? 1 : maxId < 0x10000 ? 2 : maxId < 0x1000000 ? 3 : 4;
  const h = keyHistograms;
  h.fill(0, 0, passes * 256);
  let from = keysA;
  let to = keysB;
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    from[i] = (id << bits) | i;
    h[id & 0xff]!++;
    if (passes > 1) h[256 + ((id >>> 8) & 0xff)]!++;
    if (passes > 2) h[512 + ((id >>> 16) & 0xff)]!++;
    if (passes > 3) h[768 + (id >>> 24)]!++;
  }
  for (let pass = 0; pass < passes; pass++) {
    const base = pass * 256;
    const shift = bits + pass * 8;
    bucketStarts(h, base);
    for (let i = 0; i < count; i++) {
      const key = from[i]!;
      to[h[base + ((key >>> shift) & 0xff)]!++] = key;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  return from;
}

/** Positions within one document that a 64-bit sort key can carry next to a 32-bit id. */
const WIDE_POSITIONS = 2 ** 21;
let narrowKeys = new Uint32Array(4096);
let wideKeys = new Float64Array(4096);
let sortedTfs = new Uint32Array(4096);

/**
 * Sorts the distinct `ids[0..count)` ascending in place, moving each `tfs[i]` along. A document's
 * terms (dozens to hundreds, ids below 2^24) go through `radixSort`; otherwise each pair
 * becomes one number, id × 2^b + position, so that a typed array's native numeric sort does the
 * work: a comparator sort, or a lookup table indexed by id, costs several times more on the hot
 * path. The key is a Uint32 when the ids leave room for the position bits (the usual case: a
 * few hundred terms, ids below 2^22), else a Float64, which sorts about three times slower.
 */
export function sortTermCounts(ids: Uint32Array, tfs: Uint32Array, count: number): void {
  if (count < 2) return;
  let maxId = 0;
  for (let i = 0; i < count; i++) if (ids[i]! > maxId) maxId = ids[i]!;
  if (count >= RADIX_MIN && maxId < 2 ** 24) {
    radixSort(ids, tfs, count, maxId);
    return;
  }
  const bits = 32 - Math.clz32(count - 1);
  if (sortedTfs.length < count) {
    narrowKeys = new Uint32Array(count * 2);
    wideKeys = new Float64Array(count * 2);
    sortedTfs = new Uint32Array(count * 2);
  }
  if (maxId < 2 ** (32 - bits)) {
    const scale = 2 ** bits;
    const mask = scale - 1;
    const keys = narrowKeys.subarray(0, count);
    for (let i = 0; i < count; i++) keys[i] = ids[i]! * scale + i;
    keys.sort();
    for (let j = 0; j < count; j++) {
      const key = keys[j]!;
      ids[j] = key >>> bits;
      sortedTfs[j] = tfs[key & mask]!;
    }
  } else if (count <= WIDE_POSITIONS) {
    const keys = wideKeys.subarray(0, count);
    for (let i = 0; i < count; i++) keys[i] = ids[i]! * WIDE_POSITIONS + i;
    keys.sort();
    for (let j = 0; j < count; j++) {
      const key = keys[j]!;
      const position = key % WIDE_POSITIONS;
      ids[j] = (key - position) / WIDE_POSITIONS;
      sortedTfs[j] = tfs[position]!;
    }
  } else {
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => ids[a]! - ids[b]!);
    const byId = order.map((i) => [ids[i]!, tfs[i]!] as const);
    for (let j = 0; j < count; j++) [ids[j], sortedTfs[j]] = byId[j]!;
  }
  tfs.set(sortedTfs.subarray(0, count));
}

/** Encodes one document's terms (`ids` in any order, distinct; `tfs` aligned) to its own buffer. */
export function encodeTermCounts(ids: ArrayLike<number>, tfs: ArrayLike<number>): Uint8Array {
  const sortedIds = Uint32Array.from(ids);
  const alignedTfs = Uint32Array.from(tfs);
  sortTermCounts(sortedIds, alignedTfs, sortedIds.length);
  const writer = new ByteWriter(ids.length * 3 + 8);
  writer.writeTermCounts(sortedIds, alignedTfs, sortedIds.length);
  return writer.take();
}
