/**
 * A worker's counting table: (language, word) -> id, with each term's counts, laid out so that
 * a lookup reads one record after its slot.
 *
 * `TermTable` keeps per id an entry (arena offset, length and language, counts) and the word in
 * an arena, so that a lookup reads a slot, then an entry, then the word: in a table far larger
 * than the caches, two thirds of counting's time went to the last two. Here each term is one
 * record in a single Int32Array, appended in id order: its length and language, its id, df,
 * cf mod 2^32, then its code units packed two to an int32 (the first in the low half; the
 * high half of an odd word's last int32 is zero). A slot holds the record's position, and a
 * word is compared int32 by int32 with the same packing of the word looked up
 * (`packRange`). The export builds the arena, offsets and counts by id that the merge takes
 * (`WorkerTerms`).
 *
 * Equality is exact, as in `TermTable`: the key only picks the slot and rules out most
 * mismatches; the language, length and every code unit are compared.
 */

import type { WorkerTerms } from './protocol.js';
import {
  ARENA_SEPARATOR,
  doubledSlots,
  grow,
  MAX_LENGTH,
  ownPages,
  reserved,
} from './term-table.js';

/** Int32s before a record's word: length | language << 8, id, df, cf mod 2^32. */
const HEADER = 4;
const TAG = 0;
const ID = 1;
const DF = 2;
const CF = 3;
/** Int32s a reservation allows per term: the header and a 16-unit word. */
const RESERVED_INTS_PER_TERM = HEADER + 8;

/** Int32s of a word of `length` code units, packed. */
export function packedInts(length: number): number {
  return (length + 1) >> 1;
}

/** Packs `s[start, +length)` into `out` from `at`, as records hold words. */
export function packRange(
  s: string,
  start: number,
  length: number,
  out: Int32Array,
  at: number,
): void {
  let i = 0;
  for (; i + 1 < length; i += 2) {
    out[at + (i >> 1)] = s.charCodeAt(start + i) | (s.charCodeAt(start + i + 1) << 16);
  }
  if (i < length) out[at + (i >> 1)] = s.charCodeAt(start + i);
}

export class CountingTable {
  /** Stride 2: [key, record position + 1]; 0 in the second marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private heap: Int32Array;
  private top = 0;
  private cfHigh = new Map<number, number>();
  size = 0;

  /**
   * `reserveTerms`: address space for that many terms' records is reserved up front when the
   * allocation succeeds (see `TermTable`): records are appended, so only what the table fills
   * becomes memory, and it never copies them to grow until it passes the reservation.
   */
  constructor(expectedTerms = 1 << 16, reserveTerms = 0) {
    let capacity = 1024;
    while (capacity < expectedTerms * 2) capacity *= 2;
    this.slots = ownPages(new Int32Array(capacity * 2));
    this.mask = capacity - 1;
    this.heap =
      reserved(Int32Array, reserveTerms * RESERVED_INTS_PER_TERM) ??
      new Int32Array(Math.max(expectedTerms, 256) * RESERVED_INTS_PER_TERM);
  }

  /**
   * The record of the word of `length` code units packed at `packed[at]` (`packRange`), in
   * language `lang` (an index the caller assigns), whose `termKey` is `key`; a new record, with
   * the next id and zero counts, when the table has not seen it.
   */
  intern(lang: number, key: number, packed: Int32Array, at: number, length: number): number {
    const slots = this.slots;
    const heap = this.heap;
    const mask = this.mask;
    const tag = length | (lang << 8);
    const ints = packedInts(length);
    let slot = key & mask;
    for (;;) {
      const entry = slots[2 * slot + 1]!;
      if (entry === 0) break;
      if (slots[2 * slot] === key) {
        const record = entry - 1;
        if (heap[record + TAG] === tag) {
          let i = 0;
          while (i < ints && heap[record + HEADER + i] === packed[at + i]) i++;
          if (i === ints) return record;
        }
      }
      slot = (slot + 1) & mask;
    }
    if (length > MAX_LENGTH) throw new RangeError(`word of ${length} code units`);
    const record = this.top;
    if (record + HEADER + ints > this.heap.length)
      this.heap = grow(this.heap, record + HEADER + ints);
    const into = this.heap;
    into[record + TAG] = tag;
    into[record + ID] = this.size++;
    into[record + DF] = 0;
    into[record + CF] = 0;
    for (let i = 0; i < ints; i++) into[record + HEADER + i] = packed[at + i]!;
    this.top = record + HEADER + ints;
    slots[2 * slot] = key;
    slots[2 * slot + 1] = record + 1;
    if (this.size * 2 > mask) this.growSlots();
    return record;
  }

  /** The id of the term at `record`: dense from 0 in first-seen order. */
  id(record: number): number {
    return this.heap[record + ID]!;
  }

  /** Adds one document and `cf` occurrences to the counts of the term at `record`. */
  count(record: number, cf: number): void {
    const heap = this.heap;
    heap[record + DF] = (heap[record + DF]! + 1) | 0;
    const low = (heap[record + CF]! >>> 0) + cf;
    if (low < 0x100000000) {
      heap[record + CF] = low | 0;
    } else {
      const carry = Math.floor(low / 0x100000000);
      heap[record + CF] = (low - carry * 0x100000000) | 0;
      const id = heap[record + ID]!;
      this.cfHigh.set(id, (this.cfHigh.get(id) ?? 0) + carry);
    }
  }

  /**
   * Reads ahead, without using what it reads, what `intern` will need for the words with keys
   * `keys[0, count)`: their slots, then the records they point to (the header and the word's
   * first int32, which may lie on the next cache line). The reads within each stage are
   * independent, so the processor overlaps their misses. Returns a value only so that the reads
   * are not optimised away.
   */
  touch(keys: Int32Array, count: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const heap = this.heap;
    let sum = 0;
    for (let i = 0; i < count; i++) sum += slots[2 * (keys[i]! & mask) + 1]!;
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      let slot = key & mask;
      let entry = slots[2 * slot + 1]!;
      while (entry !== 0 && slots[2 * slot] !== key) {
        slot = (slot + 1) & mask;
        entry = slots[2 * slot + 1]!;
      }
      if (entry !== 0) sum += heap[entry - 1 + TAG]! + heap[entry - 1 + HEADER]!;
    }
    return sum;
  }

  /**
   * The terms by id, as the merge takes them: every word in a UTF-16 arena (each followed by a
   * newline) with room past them for the merged table to append to, and per id its offset,
   * length, language index, key and counts. The table is no longer used afterwards.
   */
  export(): Omit<WorkerTerms, 'langs' | 'documents'> {
    const size = this.size;
    const heap = this.heap;
    const offsets = new Uint32Array(size);
    const lengths = new Uint8Array(size);
    const langOf = new Uint16Array(size);
    const df = new Uint32Array(size);
    const cf = new Float64Array(size);
    let units = 0;
    for (let record = 0, id = 0; id < size; id++) {
      const length = heap[record + TAG]! & 0xff;
      units += length + 1;
      record += HEADER + packedInts(length);
    }
    // The merged table appends the other workers' new words past this one's.
    const arena = new Uint16Array(units + (units >> 1) + 16).subarray(0, units);
    const words = new Uint16Array(heap.buffer, heap.byteOffset);
    let at = 0;
    for (let record = 0, id = 0; id < size; id++) {
      const tag = heap[record + TAG]!;
      const length = tag & 0xff;
      offsets[id] = at;
      lengths[id] = length;
      langOf[id] = tag >>> 8;
      df[id] = heap[record + DF]! >>> 0;
      cf[id] = (heap[record + CF]! >>> 0) + (this.cfHigh.get(id) ?? 0) * 0x100000000;
      const from = 2 * (record + HEADER);
      for (let i = 0; i < length; i++) arena[at + i] = words[from + i]!;
      arena[at + length] = ARENA_SEPARATOR;
      at += length + 1;
      record += HEADER + packedInts(length);
    }
    const keys = new Int32Array(size);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) {
      const entry = slots[i + 1]!;
      if (entry !== 0) keys[heap[entry - 1 + ID]!] = slots[i]!;
    }
    return { arena, offsets, lengths, langOf, keys, df, cf };
  }

  private growSlots(): void {
    this.slots = doubledSlots(this.slots);
    this.mask = this.slots.length / 2 - 1;
  }
}
