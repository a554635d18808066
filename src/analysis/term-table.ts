/**
 * The counting hot path's hash tables, over typed arrays and without a string per token.
 *
 * The tokeniser reports each word as a range of the code units of the document's prepared text
 * (`addUnits(units, start, end, hash)`). `DocumentTerms` gathers a document's distinct words
 * with their number of occurrences in a small open-addressing table that stays in cache, each
 * word packed once; only then does each distinct word touch a large table of (language, word)
 * -> id with the document and collection frequencies beside it, a `CountingTable`
 * (counting-table.ts), which copies the packed word when it first sees it. Nothing allocates
 * per word.
 *
 * Equality is always exact: a 32-bit hash only picks the slot and rules out most mismatches,
 * and a candidate is confirmed character by character.
 */

/** Receives words as ranges of UTF-16 code units; the tokeniser's output on the hot path. */
export interface UnitSink {
  /**
   * The word `units[start, end)`, whose `hashUnits` is `hash`. The units are the caller's
   * buffer, overwritten by the next text: a sink copies what it keeps.
   */
  addUnits(units: Uint16Array, start: number, end: number, hash: number): void;
}

/** FNV-1a's 32-bit offset basis and prime: `hashRange` is `h = imul(h ^ unit, FNV_PRIME)`. */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of `s[start, end)`. */
export function hashRange(s: string, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** `hashRange` of the code units `u[start, end)`. */
export function hashUnits(u: Uint16Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ u[i]!, FNV_PRIME);
  return h;
}

/** Int32s of a word of `length` code units, packed (`packUnits`). */
export function packedInts(length: number): number {
  return (length + 1) >> 1;
}

/**
 * Packs the code units `u[start, +length)` into `out` from `at`, two to an int32, the first in
 * the low half (the high half of an odd word's last int32 is zero): how `DocumentTerms` and
 * `CountingTable` hold words, compared an int32 at a time.
 */
export function packUnits(
  u: Uint16Array,
  start: number,
  length: number,
  out: Int32Array,
  at: number,
): void {
  let i = 0;
  for (; i + 1 < length; i += 2) out[at + (i >> 1)] = u[start + i]! | (u[start + i + 1]! << 16);
  if (i < length) out[at + (i >> 1)] = u[start + i]!;
}

/** Code unit `i` of the word packed at `ints[at]` (`packUnits`). */
export function packedUnit(ints: Int32Array, at: number, i: number): number {
  return (ints[at + (i >> 1)]! >>> ((i & 1) << 4)) & 0xffff;
}

/** Int32 elements in a 4 KiB page. */
const PAGE_INT32S = 1024;

/**
 * Writes a zero into each page of a freshly allocated (all-zero) `array`, and returns it.
 *
 * A hash table's slots are read before they are written: a probe, or a read-ahead, of a slot
 * no word has reached yet. Reading a page of fresh memory maps the kernel's shared zero page;
 * the first write then copies it and flushes the old mapping from the TLB of every core the
 * process runs on, an interrupt to the other core while worker threads run. Writing first
 * gives each page its own memory at once, in one fault, without the flush. Profiled, those
 * copy-on-write faults were 2% of a full run's CPU time and most of a delta's dictionary index.
 */
export function ownPages<T extends Int32Array>(array: T): T {
  for (let i = 0; i < array.length; i += PAGE_INT32S) array[i] = 0;
  return array;
}

/** `array`, or a copy at least `need` long and at least twice as long, when it is shorter. */
export function grow<T extends Uint16Array | Int32Array | Uint32Array | Float64Array>(
  array: T,
  need: number,
): T {
  if (need <= array.length) return array;
  const grown = new (array.constructor as new (n: number) => T)(Math.max(need, array.length * 2));
  grown.set(array);
  return grown;
}

/**
 * A zeroed array of `length` elements, or null when `length` is 0 or the allocation fails (an
 * address space or overcommit limit): the caller then starts small and grows.
 */
export function reserved<T>(array: new (length: number) => T, length: number): T | null {
  if (length === 0) return null;
  try {
    return new array(length);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

/** murmur3's finaliser: spreads every input bit over the low bits a power-of-two table uses. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The slot hash of a word in a language: the same in every thread for the same pair. */
export function termKey(wordHash: number, langSalt: number): number {
  return mix(wordHash ^ langSalt);
}

/** A language's contribution to `termKey`, from its name, so that it is the same in every thread. */
export function languageSalt(lang: string): number {
  return mix(hashRange(lang, 0, lang.length) ^ 0x5bd1e995);
}

/**
 * One document's distinct words, each with its occurrences (term frequency), in first-seen
 * order. Each word is copied once, packed (`packUnits`), when first seen: the counting table
 * compares and stores it in that form. Reused from document to document: `clear()` empties only
 * the slots it used.
 */
export class DocumentTerms implements UnitSink {
  private slots = new Int32Array(1024);
  private mask = 1023;
  /** The distinct words, packed, back to back: word k's from `packedAt[k]`. */
  packed = new Int32Array(4096);
  packedAt = new Int32Array(512);
  private packedTop = 0;
  /** Length of each distinct word in code units. */
  lengths = new Int32Array(512);
  /** `hashUnits` of each distinct word. */
  hashes = new Int32Array(512);
  /** Occurrences of each distinct word, at least 1. */
  tfs = new Uint32Array(512);
  private slotOf = new Int32Array(512);
  size = 0;

  addUnits(u: Uint16Array, start: number, end: number, h: number): void {
    const length = end - start;
    const slots = this.slots;
    const mask = this.mask;
    let slot = mix(h) & mask;
    for (;;) {
      const entry = slots[slot]!;
      if (entry === 0) break;
      const k = entry - 1;
      if (this.hashes[k] === h && this.lengths[k] === length && this.holds(k, u, start, length)) {
        this.tfs[k]!++;
        return;
      }
      slot = (slot + 1) & mask;
    }
    const k = this.size++;
    if (k >= this.tfs.length) this.growEntries();
    slots[slot] = k + 1;
    this.slotOf[k] = slot;
    const at = this.packedTop;
    const ints = packedInts(length);
    if (at + ints > this.packed.length) this.packed = grow(this.packed, at + ints);
    packUnits(u, start, length, this.packed, at);
    this.packedTop = at + ints;
    this.packedAt[k] = at;
    this.lengths[k] = length;
    this.hashes[k] = h;
    this.tfs[k] = 1;
    if (this.size * 2 > mask) this.growSlots();
  }

  /** Whether the k-th distinct word is `u[start, +length)`, whose length is already known equal. */
  private holds(k: number, u: Uint16Array, start: number, length: number): boolean {
    const packed = this.packed;
    const at = this.packedAt[k]!;
    let i = 0;
    for (; i + 1 < length; i += 2) {
      if (packed[at + (i >> 1)] !== (u[start + i]! | (u[start + i + 1]! << 16))) return false;
    }
    return i === length || packed[at + (i >> 1)] === u[start + i];
  }

  /** The k-th distinct word as a string. */
  term(k: number): string {
    const at = this.packedAt[k]!;
    const length = this.lengths[k]!;
    let word = '';
    for (let i = 0; i < length; i++) word += String.fromCharCode(packedUnit(this.packed, at, i));
    return word;
  }

  clear(): void {
    const slots = this.slots;
    for (let k = 0; k < this.size; k++) slots[this.slotOf[k]!] = 0;
    this.size = 0;
    this.packedTop = 0;
  }

  private growEntries(): void {
    const size = this.tfs.length * 2;
    this.packedAt = grow(this.packedAt, size);
    this.lengths = grow(this.lengths, size);
    this.hashes = grow(this.hashes, size);
    this.tfs = grow(this.tfs, size);
    this.slotOf = grow(this.slotOf, size);
  }

  private growSlots(): void {
    const capacity = this.slots.length * 2;
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let k = 0; k < this.size; k++) {
      let slot = mix(this.hashes[k]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = k + 1;
      this.slotOf[k] = slot;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * A language's dictionary as the analysis workers see it in a delta run: the terms the run
 * started with, in shared memory that nobody writes while the run lasts (terms the run adds are
 * kept elsewhere). Built by the state's `LanguageTerms`.
 */
export interface SharedTerms {
  readonly lang: string;
  /** Per term: its length in code units, then the units. */
  readonly arena: Uint16Array;
  /** Pairs (id + 1, arena offset of the term's length); id + 1 = 0 marks an empty slot. */
  readonly slots: Int32Array;
}

/** The slot (even) where a word of `hashRange` `hash` starts its probe in `slots`. */
export function firstSlot(slots: Int32Array, hash: number): number {
  return (mix(hash) << 1) & (slots.length - 2);
}

/**
 * The id of the word of `length` code units packed at `packed[at]` (`packUnits`) in a table of
 * pairs (id + 1, arena offset) over length-prefixed terms in `arena`, probing from `slot`; -1
 * when it is not there. Exact: a candidate is compared unit by unit. The lookup of
 * `SharedTerms` and of the state's own dictionary.
 */
export function probeTerm(
  arena: Uint16Array,
  slots: Int32Array,
  slot: number,
  packed: Int32Array,
  at: number,
  length: number,
): number {
  const mask = slots.length - 2;
  for (;;) {
    const entry = slots[slot]!;
    if (entry === 0) return -1;
    const term = slots[slot + 1]!;
    if (arena[term] === length) {
      let i = 0;
      while (i < length && arena[term + 1 + i] === packedUnit(packed, at, i)) i++;
      if (i === length) return entry - 1;
    }
    slot = (slot + 2) & mask;
  }
}

let stringUnits = new Uint16Array(64);
let stringPacked = new Int32Array(32);

/** `probeTerm` of the word `s[start, start + length)`, packed first. */
export function probeString(
  arena: Uint16Array,
  slots: Int32Array,
  slot: number,
  s: string,
  start: number,
  length: number,
): number {
  if (length > stringUnits.length) {
    stringUnits = new Uint16Array(length * 2);
    stringPacked = new Int32Array(length);
  }
  for (let i = 0; i < length; i++) stringUnits[i] = s.charCodeAt(start + i);
  packUnits(stringUnits, 0, length, stringPacked, 0);
  return probeTerm(arena, slots, slot, stringPacked, 0, length);
}

/**
 * The id of the word `s[start, start + length)` in `terms`, or -1; `hash` is its `hashRange`.
 */
export function sharedTermId(
  terms: SharedTerms,
  s: string,
  start: number,
  length: number,
  hash: number,
): number {
  return probeString(terms.arena, terms.slots, firstSlot(terms.slots, hash), s, start, length);
}

/** Keeps the read-ahead loads of `sharedTermIds` from being optimised away. */
const readAhead = { sum: 0 };

/**
 * `sharedTermId` of every distinct word of `doc` into `ids` (-1 for a word `terms` lacks). The
 * words' slots, then their first candidates' characters, are read in passes of independent
 * loads before the comparisons, so that the cache misses of a document's words overlap rather
 * than follow one another.
 */
export function sharedTermIds(terms: SharedTerms, doc: DocumentTerms, ids: Int32Array): void {
  const { arena, slots } = terms;
  const n = doc.size;
  const hashes = doc.hashes;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const slot = firstSlot(slots, hashes[k]!);
    ids[k] = slot;
    sum += slots[slot + 1]!;
  }
  for (let k = 0; k < n; k++) sum += arena[slots[ids[k]! + 1]!]!;
  readAhead.sum = sum;
  const { packed, packedAt, lengths } = doc;
  for (let k = 0; k < n; k++) {
    ids[k] = probeTerm(arena, slots, ids[k]!, packed, packedAt[k]!, lengths[k]!);
  }
}

/** Longest word a length-prefixed arena can hold: its length is one code unit. */
export const MAX_PREFIXED_LENGTH = 0xffff;

/** Writes `words` length-prefixed into `units` from `at`, which must have room; returns the end. */
export function putLengthPrefixed(
  units: Uint16Array,
  at: number,
  words: readonly string[],
): number {
  for (const word of words) {
    if (word.length > MAX_PREFIXED_LENGTH) throw new Error(`a term of ${word.length} characters`);
    units[at++] = word.length;
    for (let i = 0; i < word.length; i++) units[at++] = word.charCodeAt(i);
  }
  return at;
}

/** `words` as a length-prefixed arena (the layout of `SharedTerms.arena`). */
export function lengthPrefixed(words: readonly string[]): Uint16Array {
  let units = 0;
  for (const word of words) units += 1 + word.length;
  const arena = new Uint16Array(units);
  putLengthPrefixed(arena, 0, words);
  return arena;
}

/** The word whose length stands at `at` of a length-prefixed arena. */
export function prefixedWord(arena: Uint16Array, at: number): string {
  // Words are short: one call per word is faster than a TextDecoder.
  return String.fromCharCode.apply(
    null,
    arena.subarray(at + 1, at + 1 + arena[at]!) as unknown as number[],
  );
}

/** The first `count` words of a length-prefixed arena, as strings. */
export function prefixedWords(arena: Uint16Array, count: number): string[] {
  const words: string[] = [];
  let at = 0;
  for (let k = 0; k < count; k++) {
    const length = arena[at];
    if (length === undefined || at + 1 + length > arena.length) {
      throw new RangeError(`a length-prefixed arena holds fewer than ${count} words`);
    }
    words.push(prefixedWord(arena, at));
    at += 1 + length;
  }
  return words;
}

/** Terms whose table reads the merge (`CountingTable.absorb`) issues ahead together. */
export const READ_AHEAD_BATCH = 64;

/**
 * Longest word a `CountingTable` stores (the tokeniser drops longer ones): the length field's
 * range.
 */
export const MAX_LENGTH = 0xff;

/**
 * Slots of stride 2, [key, entry] with entry 0 for an empty slot (`CountingTable`'s), twice as many as `old`'s, with every entry of `old` placed again by its
 * key: a table's growth.
 */
export function doubledSlots(old: Int32Array): Int32Array {
  const capacity = old.length;
  const mask = capacity - 1;
  const slots = ownPages(new Int32Array(capacity * 2));
  for (let i = 0; i < old.length; i += 2) {
    const entry = old[i + 1]!;
    if (entry === 0) continue;
    const key = old[i]!;
    let slot = key & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = key;
    slots[2 * slot + 1] = entry;
  }
  return slots;
}
