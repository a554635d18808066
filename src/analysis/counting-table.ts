/**
 * The counting tables: (language, word) -> id, with each term's counts, laid out so that a
 * lookup reads one record after its slot. Each worker counts in one; at the end of a full
 * count the job takes one worker's table over as the merged table (`handOver`, `adopt`) and
 * interns the others' terms into it (`absorb`), record by record.
 *
 * A table that kept per id an entry (arena offset, length and language, counts) and the word
 * in an arena read a slot, then an entry, then the word per lookup: in a table far larger than
 * the caches, two thirds of counting's time went to the last two. Here each term is one record
 * in a single Int32Array, appended in id order: its length and language, its id, df,
 * cf mod 2^32, its id within its language, then its code units packed two to an int32 (the
 * first in the low half; the high half of an odd word's last int32 is zero). The ids count all
 * languages' terms together, in first-seen order; the ids within a language count that
 * language's alone, also in first-seen order: the ids a state stores (see df-table.ts). A slot
 * holds the record's position, and a word is compared int32 by int32 with the same packing of
 * the word looked up (`packUnits`). A table's memory is what a worker hands the merge: nothing
 * is copied out.
 *
 * Equality is exact: the key only picks the slot and rules out most mismatches; the language,
 * length and every code unit are compared.
 */

import type { CountedTerms } from './protocol.js';
import {
  doubledSlots,
  FNV_OFFSET,
  FNV_PRIME,
  grow,
  MAX_LENGTH,
  ownPages,
  packedInts,
  packedUnit,
  READ_AHEAD_BATCH,
  reserved,
  termKey,
} from './term-table.js';

/** Int32s before a record's word: length | language << 8, id, df, cf mod 2^32, language id. */
const HEADER = 5;
const TAG = 0;
const ID = 1;
const DF = 2;
const CF = 3;
const LANGUAGE_ID = 4;
/** Int32s a reservation allows per term: the header and a 16-unit word. */
const RESERVED_INTS_PER_TERM = HEADER + 8;

/** `hashRange` of the word of `length` code units packed at `ints[at]` (`packUnits`). */
export function packedHash(ints: Int32Array, at: number, length: number): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ packedUnit(ints, at, i), FNV_PRIME);
  return h;
}

export class CountingTable {
  /** Stride 2: [key, record position + 1]; 0 in the second marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private heap: Int32Array;
  private top = 0;
  private cfHigh = new Map<number, number>();
  /** Terms so far per language index: the next id within that language. */
  private languageSizes: number[] = [];
  size = 0;
  /** What `absorb`'s read-ahead read, kept so that its reads are not optimised away. */
  touched = 0;

  /**
   * `reserveTerms`: address space for that many terms' records is reserved up front when the
   * allocation succeeds (`reserved`): records are appended, so only what the table fills
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
   * The record of the word of `length` code units packed at `packed[at]` (`packUnits`), in
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
    const sizes = this.languageSizes;
    while (sizes.length <= lang) sizes.push(0);
    into[record + LANGUAGE_ID] = sizes[lang]!++;
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

  /** The term's id among its language's terms: dense from 0 in first-seen order. */
  languageId(record: number): number {
    return this.heap[record + LANGUAGE_ID]!;
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
   * The table's memory, for the merge (`adopt` on the job's thread, the caller transferring
   * `slots` and `heap`): nothing is copied. The table must not be used afterwards.
   */
  handOver(): CountedTerms {
    return {
      slots: this.slots,
      heap: this.heap,
      top: this.top,
      size: this.size,
      cfHigh: this.cfHigh,
      languageSizes: this.languageSizes,
    };
  }

  /**
   * The table whose memory `terms` is (another table's `handOver`), taken over as it is: it
   * appends to that memory. Its layout is checked, as it comes from another thread.
   */
  static adopt(terms: CountedTerms): CountingTable {
    const { slots, heap, top, size, languageSizes } = terms;
    const capacity = slots.length / 2;
    if (!(capacity >= 1 && (capacity & (capacity - 1)) === 0)) {
      throw new Error(`a counting table's slots number ${slots.length}, not twice a power of two`);
    }
    if (!(size >= 0 && size * 2 <= capacity && top >= 0 && top <= heap.length)) {
      throw new Error(`a counting table of ${size} terms in ${top} of ${heap.length} ints`);
    }
    if (!languageSizes.every((count) => Number.isSafeInteger(count) && count >= 0)) {
      throw new Error('a counting table whose languages have no valid term counts');
    }
    const table = new CountingTable(0);
    table.slots = slots;
    table.mask = capacity - 1;
    table.heap = heap;
    table.top = top;
    table.size = size;
    table.cfHigh = new Map(terms.cfHigh);
    table.languageSizes = [...languageSizes];
    return table;
  }

  /**
   * Per id, the position of its record (what `language`, `df`, `cf` and the others take);
   * checks on the way that the records lie end to end in id order, as `intern` appends them,
   * and that each language's ids run from 0 in the same order.
   */
  recordsById(): Int32Array {
    const heap = this.heap;
    const size = this.size;
    const records = new Int32Array(size);
    const seen = new Array<number>(this.languageSizes.length).fill(0);
    let record = 0;
    for (let id = 0; id < size; id++) {
      if (
        record + HEADER > this.top ||
        heap[record + ID] !== id ||
        heap[record + LANGUAGE_ID] !== seen[this.language(record)]
      ) {
        throw new Error(`term ${id}'s record is not where the table's layout puts it`);
      }
      seen[this.language(record)]!++;
      records[id] = record;
      record += HEADER + packedInts(this.length(record));
    }
    if (record !== this.top) throw new Error(`the records end at ${record}, not at ${this.top}`);
    if (seen.some((count, lang) => count !== this.languageSizes[lang])) {
      throw new Error("the records do not hold the terms the table's languages count");
    }
    return records;
  }

  /**
   * The term's `termKey` with the salt `salt` (its language's): that of `hashRange` of its
   * word, computed again from the record, which is near, rather than found in the slots.
   */
  key(record: number, salt: number): number {
    return termKey(packedHash(this.heap, record + HEADER, this.length(record)), salt);
  }

  /**
   * Interns every term of `other` (another worker's table, whose language indices `langs`
   * maps to this table's, and whose terms were keyed with the salts `salts` by those indices)
   * with its counts added; returns, per language index of `other`, its terms' ids within their
   * language here by their ids within it there (`languageId`). `other`'s records are read
   * in id order, as they lie (`recordsById`, which checks their layout); each key is computed
   * again from the word (`termKey` of its `hashRange`), which costs less than finding it in
   * `other`'s slots, one cache miss a term.
   * Each batch's slots and records here are read ahead together (`touch`).
   */
  absorb(other: CountingTable, langs: ArrayLike<number>, salts: ArrayLike<number>): Uint32Array[] {
    const size = other.size;
    const heap = other.heap;
    const records = other.recordsById();
    const ids = other.languageSizes.map((count) => new Uint32Array(count));
    const keys = new Int32Array(READ_AHEAD_BATCH);
    const mapped = new Int32Array(READ_AHEAD_BATCH);
    for (let start = 0; start < size; start += READ_AHEAD_BATCH) {
      const batch = Math.min(READ_AHEAD_BATCH, size - start);
      for (let k = 0; k < batch; k++) {
        const record = records[start + k]!;
        const lang = other.language(record);
        const salt = salts[lang];
        const into = langs[lang];
        if (salt === undefined || into === undefined) {
          throw new Error(`a worker's term ${start + k} has no language`);
        }
        keys[k] = other.key(record, salt);
        mapped[k] = into;
      }
      this.touched ^= this.touch(keys, batch);
      for (let k = 0; k < batch; k++) {
        const from = records[start + k]!;
        const at = this.intern(mapped[k]!, keys[k]!, heap, from + HEADER, other.length(from));
        this.add(at, other.df(from), other.cf(from));
        ids[other.language(from)]![other.languageId(from)] = this.languageId(at);
      }
    }
    return ids;
  }

  /**
   * Adds `df` documents and `cf` occurrences to the counts of the term at `record`: one
   * document's occurrences as a worker counts, or another table's counts in the merge.
   */
  add(record: number, df: number, cf: number): void {
    const heap = this.heap;
    heap[record + DF] = (heap[record + DF]! + df) | 0;
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

  /** The term's language index. */
  language(record: number): number {
    return this.heap[record + TAG]! >>> 8;
  }

  /** The term's length in code units. */
  length(record: number): number {
    return this.heap[record + TAG]! & 0xff;
  }

  /** The term's document frequency. */
  df(record: number): number {
    return this.heap[record + DF]! >>> 0;
  }

  /** The term's collection frequency. */
  cf(record: number): number {
    const low = this.heap[record + CF]! >>> 0;
    if (this.cfHigh.size === 0) return low;
    return low + (this.cfHigh.get(this.heap[record + ID]!) ?? 0) * 0x100000000;
  }

  /**
   * Writes the term's word at `out[at]` as a length-prefixed arena holds it: its length, then
   * its code units.
   */
  putPrefixed(record: number, out: Uint16Array, at: number): void {
    const heap = this.heap;
    const length = this.length(record);
    out[at] = length;
    for (let i = 0; i < length; i++) out[at + 1 + i] = packedUnit(heap, record + HEADER, i);
  }

  private growSlots(): void {
    this.slots = doubledSlots(this.slots);
    this.mask = this.slots.length / 2 - 1;
  }
}
