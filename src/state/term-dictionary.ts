/**
 * The term dictionary of a state generation: per language, term id -> term, document frequency
 * (df) and collection frequency (cf), and term -> id through an open-addressing table over the
 * terms' UTF-16 code units. It lives in a binary file beside the database
 * (`dictionary-<name>.bin`, named by the database's meta) and is loaded whole, so that a delta run
 * looks up and updates a term in memory instead of reading and writing a database row for it; the
 * run then writes a new file, which its database transaction names when it commits.
 *
 * File layout (little-endian):
 *
 *   magic "SWRDICT1" (8 bytes), header length H (u32), header (H bytes of JSON:
 *   {"languages": [{"lang", "terms", "arenaUnits"}]}), zero padding to a multiple of 8;
 *   then per language: df and cf of each term in id order (f64 pairs), the arena (u16 ×
 *   arenaUnits: each term's length in code units, then its units, in id order), zero padding to
 *   a multiple of 8; then the CRC-32 of every byte before it (u32).
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  FNV_OFFSET,
  FNV_PRIME,
  firstSlot,
  grow,
  hashRange,
  lengthPrefixed,
  MAX_PREFIXED_LENGTH,
  ownPages,
  prefixedWord,
  probeString,
  putLengthPrefixed,
  type SharedTerms,
} from '../analysis/term-table.js';
import { StateCorruptError } from './store-schema.js';

const MAGIC = Buffer.from('SWRDICT1', 'latin1');

/** Terms whose slots `buildSlots` reads ahead together. */
const SLOT_BATCH = 64;

/** `n` rounded up to a multiple of 8 (without 32-bit bitwise arithmetic). */
function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Bytes of a language of `terms` terms and `arenaUnits` arena units in the file, padding included. */
function languageBytes(terms: number, arenaUnits: number): number {
  return align8(terms * 16 + arenaUnits * 2);
}

/** `hashRange` over code units already in an arena: the same hash as the string's. */
function hashUnits(units: Uint16Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ units[i]!, FNV_PRIME);
  return h;
}

/** A SharedArrayBuffer of `bytes` bytes holding a copy of `source`'s first bytes. */
function sharedCopy(source: Uint8Array, bytes: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(bytes);
  new Uint8Array(buffer).set(source.subarray(0, bytes));
  return buffer;
}

function damaged(name: string, what: string): never {
  throw new StateCorruptError(`dictionary ${name} is damaged: ${what}`);
}

/** Bytes a checksum verification reads at a time. */
const CHECK_CHUNK = 1 << 20;

/**
 * A dictionary file's bytes read in order, straight into the arrays that keep them, with the
 * CRC-32 of everything read so far. Reading the file this way rather than whole spares a copy
 * of it in fresh memory (43 MB for the 1M corpus's state).
 */
class DictionaryReader {
  private position = 0;
  private sum = 0;

  constructor(
    private readonly fd: number,
    /** Bytes in all, the checksum included. */
    readonly size: number,
  ) {}

  /** Where the next byte is read from. */
  get at(): number {
    return this.position;
  }

  /** CRC-32 of the bytes read so far. */
  get crc(): number {
    return this.sum;
  }

  /** Fills `into` with the next bytes, which must lie in the file. */
  next(into: Uint8Array): void {
    // On Node 20, zlib.crc32 of a view of an empty ArrayBuffer returns 0 whatever the running
    // value: an empty read must not reach it.
    if (into.length === 0) return;
    if (this.position + into.length > this.size) throw new RangeError('a read past the end');
    this.readAt(into, this.position);
    this.sum = crc32(into, this.sum);
    this.position += into.length;
  }

  /** Whether the checksum in the last four bytes is that of every byte before them. */
  checksumHolds(): boolean {
    if (this.size < 4) return false;
    const end = this.size - 4;
    const chunk = new Uint8Array(Math.min(CHECK_CHUNK, end));
    let sum = 0;
    for (let at = 0; at < end; at += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, end - at));
      this.readAt(piece, at);
      sum = crc32(piece, sum);
    }
    const tail = Buffer.alloc(4);
    this.readAt(tail, end);
    return tail.readUInt32LE(0) === sum >>> 0;
  }

  private readAt(into: Uint8Array, at: number): void {
    let done = 0;
    while (done < into.length) {
      const n = readSync(this.fd, into, done, into.length - done, at + done);
      if (n === 0) throw new Error('the file ended while being read');
      done += n;
    }
  }
}

/**
 * One language's terms: ids 0..size-1. The terms it was read or built with (its base) are never
 * changed afterwards, so that analysis workers can look them up in shared memory while the main
 * thread updates the counts and adds terms; added terms get the next ids and are kept apart.
 *
 * The base is laid out for lookups with few cache misses: a slot holds the id and where the
 * term's characters are, the characters follow their length, and df and cf sit side by side.
 */
export class LanguageTerms {
  /** Base terms: per term its length in code units, then the units. */
  private readonly arena: Uint16Array;
  private readonly arenaUsed: number;
  /** Base id -> where its length stands in the arena. */
  private readonly offsets: Uint32Array;
  /** Number of base terms. */
  private readonly baseSize: number;
  /** Pairs (id + 1, arena offset) over the base; id + 1 = 0 is empty. Built on the first lookup. */
  private slots: Int32Array | null = null;
  /** What `buildSlots` read ahead, kept so that the reads are not optimised away. */
  slotReads = 0;
  /** Terms added since, id `baseSize + i` at `added[i]`. */
  private readonly added: string[] = [];
  private readonly addedIds = new Map<string, number>();
  private addedUnits = 0;
  /**
   * df and cf of term id at `2 * id` and `2 * id + 1`: documents and occurrences (exact below
   * 2^53). Replaced when the language grows: read it again after `idOrAdd`.
   */
  counts: Float64Array;
  size: number;

  private constructor(
    readonly lang: string,
    arena: Uint16Array,
    arenaUsed: number,
    counts: Float64Array,
    size: number,
    offsets?: Uint32Array,
  ) {
    this.arena = arena;
    this.arenaUsed = arenaUsed;
    this.counts = counts;
    this.size = size;
    this.baseSize = size;
    if (offsets !== undefined) {
      this.offsets = offsets;
      return;
    }
    this.offsets = new Uint32Array(new SharedArrayBuffer(size * 4));
    let at = 0;
    let id = 0;
    for (; id < size && at < arenaUsed; id++) {
      this.offsets[id] = at;
      at += 1 + arena[at]!;
    }
    if (id !== size || at !== arenaUsed) {
      throw new StateCorruptError(`dictionary ${lang}: the terms do not fill their arena`);
    }
  }

  /** A language from its terms by id: `terms[i]` gets id i with `df[i]` and `cf[i]`. */
  static fromTerms(
    lang: string,
    terms: readonly string[],
    df: ArrayLike<number>,
    cf: ArrayLike<number>,
  ): LanguageTerms {
    return LanguageTerms.fromArena(lang, lengthPrefixed(terms), df, cf);
  }

  /**
   * A language from its terms by id as a length-prefixed arena (`lengthPrefixed`), which it
   * keeps: term i gets id i with `df[i]` and `cf[i]`.
   */
  static fromArena(
    lang: string,
    arena: Uint16Array,
    df: ArrayLike<number>,
    cf: ArrayLike<number>,
  ): LanguageTerms {
    if (cf.length !== df.length)
      throw new Error(`dictionary ${lang}: ${df.length} df, ${cf.length} cf`);
    const counts = new Float64Array(df.length * 2);
    for (let id = 0; id < df.length; id++) {
      counts[2 * id] = df[id]!;
      counts[2 * id + 1] = cf[id]!;
    }
    return new LanguageTerms(lang, arena, arena.length, counts, df.length);
  }

  static empty(lang: string): LanguageTerms {
    return new LanguageTerms(lang, new Uint16Array(0), 0, new Float64Array(32), 0);
  }

  /**
   * A language read on another thread, from its `parts()`: the same arrays, shared, nothing
   * copied or rebuilt.
   */
  static fromParts(parts: LanguageParts): LanguageTerms {
    const { lang, arena, arenaUsed, counts, size, offsets, slots } = parts;
    if (
      offsets.length !== size ||
      counts.length < size * 2 ||
      arena.length < arenaUsed ||
      slots.length < size * 2 + 2
    ) {
      throw new Error(`dictionary ${lang}: its parts do not fit together`);
    }
    const terms = new LanguageTerms(lang, arena, arenaUsed, counts, size, offsets);
    terms.slots = slots;
    return terms;
  }

  /**
   * The arrays of a language as read (`readFrom`), lookup table built, for another thread to
   * take over (`fromParts`). All of them are in shared memory: handing them over copies nothing.
   */
  parts(): LanguageParts {
    if (this.size !== this.baseSize || !(this.counts.buffer instanceof SharedArrayBuffer)) {
      throw new Error(`dictionary ${this.lang}: only a language as read can be handed over`);
    }
    return {
      lang: this.lang,
      arena: this.arena,
      arenaUsed: this.arenaUsed,
      counts: this.counts,
      size: this.size,
      offsets: this.offsets,
      slots: this.slots ?? this.buildSlots(),
    };
  }

  /** Arena code units in use, lengths included. */
  get arenaUnits(): number {
    return this.arenaUsed + this.addedUnits;
  }

  df(id: number): number {
    return this.counts[2 * id]!;
  }

  cf(id: number): number {
    return this.counts[2 * id + 1]!;
  }

  /** Whether the terms at arena offsets `a` and `b` are the same. */
  private sameAt(a: number, b: number): boolean {
    const arena = this.arena;
    const length = arena[a]!;
    if (arena[b] !== length) return false;
    for (let i = 1; i <= length; i++) if (arena[a + i] !== arena[b + i]) return false;
    return true;
  }

  /** The base id of `term`, or -1. */
  private baseId(term: string): number {
    const slots = this.slots ?? this.buildSlots();
    const first = firstSlot(slots, hashRange(term, 0, term.length));
    return probeString(this.arena, slots, first, term, 0, term.length);
  }

  /** The id of `term`, or -1. */
  id(term: string): number {
    const id = this.baseId(term);
    return id >= 0 ? id : (this.addedIds.get(term) ?? -1);
  }

  /** The id of `term`, added with no counts (the next free id) when it is new. */
  idOrAdd(term: string): number {
    const known = this.id(term);
    if (known >= 0) return known;
    if (term.length > MAX_PREFIXED_LENGTH) throw new Error(`a term of ${term.length} characters`);
    const id = this.size++;
    this.added.push(term);
    this.addedIds.set(term, id);
    this.addedUnits += 1 + term.length;
    this.counts = grow(this.counts, this.size * 2);
    this.counts[2 * id] = 0;
    this.counts[2 * id + 1] = 0;
    return id;
  }

  /** Builds the lookup table now rather than on the first lookup; throws on a term stored twice. */
  index(): void {
    if (this.slots === null) this.buildSlots();
  }

  /**
   * The base terms for the analysis workers, in shared memory (copied there once if they are
   * not yet). Ids they find there are this language's ids.
   */
  shared(): SharedTerms {
    const slots = this.slots ?? this.buildSlots();
    const arena =
      this.arena.buffer instanceof SharedArrayBuffer
        ? this.arena
        : new Uint16Array(
            sharedCopy(
              new Uint8Array(this.arena.buffer, this.arena.byteOffset, this.arenaUsed * 2),
              this.arenaUsed * 2,
            ),
          );
    return { lang: this.lang, arena, slots };
  }

  /**
   * Builds the base's table at a load factor of at most a half, in shared memory. The terms go
   * in by batches: first every first slot of the batch (sequential reads of the arena), then a
   * read of each of those slots, whose cache misses the processor overlaps as they do not depend
   * on one another, and only then the probing, which finds the slots in cache.
   */
  private buildSlots(): Int32Array {
    let capacity = 1024;
    while (capacity < this.baseSize * 2 + 2) capacity *= 2;
    const slots = ownPages(new Int32Array(new SharedArrayBuffer(capacity * 8)));
    const mask = capacity * 2 - 2;
    const arena = this.arena;
    const offsets = this.offsets;
    const firsts = new Int32Array(SLOT_BATCH);
    let touched = 0;
    for (let batch = 0; batch < this.baseSize; batch += SLOT_BATCH) {
      const end = Math.min(batch + SLOT_BATCH, this.baseSize);
      for (let id = batch; id < end; id++) {
        const at = offsets[id]!;
        firsts[id - batch] = firstSlot(slots, hashUnits(arena, at + 1, at + 1 + arena[at]!));
      }
      for (let id = batch; id < end; id++) touched ^= slots[firsts[id - batch]!]!;
      for (let id = batch; id < end; id++) {
        const at = offsets[id]!;
        let slot = firsts[id - batch]!;
        while (slots[slot] !== 0) {
          if (this.sameAt(slots[slot + 1]!, at)) {
            throw new StateCorruptError(`dictionary ${this.lang}: a term is stored twice`);
          }
          slot = (slot + 2) & mask;
        }
        slots[slot] = id + 1;
        slots[slot + 1] = at;
      }
    }
    this.slotReads = touched;
    this.slots = slots;
    return slots;
  }

  term(id: number): string {
    if (id >= this.baseSize) return this.added[id - this.baseSize]!;
    return prefixedWord(this.arena, this.offsets[id]!);
  }

  /** Terms with df >= minDf (and above zero), with df and cf. */
  atLeast(minDf: number): { df: Map<string, number>; cf: Map<string, number> } {
    const bound = Math.max(1, minDf);
    const df = new Map<string, number>();
    const cf = new Map<string, number>();
    for (let id = 0; id < this.size; id++) {
      const d = this.counts[2 * id]!;
      if (d < bound) continue;
      const term = this.term(id);
      df.set(term, d);
      cf.set(term, this.counts[2 * id + 1]!);
    }
    return { df, cf };
  }

  /**
   * This language's bytes in the file, padding included, as views of its own arrays where
   * it can (the counts, the base arena), so that writing the file copies nothing whole.
   */
  *pieces(): Generator<Uint8Array> {
    const n = this.size;
    yield new Uint8Array(this.counts.buffer, this.counts.byteOffset, n * 16);
    yield new Uint8Array(this.arena.buffer, this.arena.byteOffset, this.arenaUsed * 2);
    const added = new Uint16Array(this.addedUnits);
    putLengthPrefixed(added, 0, this.added);
    yield new Uint8Array(added.buffer);
    const end = n * 16 + this.arenaUnits * 2;
    if (align8(end) > end) yield new Uint8Array(align8(end) - end);
  }

  /**
   * A language of `terms` terms and `arenaUnits` arena units, read from `reader` (at an 8-aligned
   * position) with its padding: its counts and arena are read into their own arrays.
   */
  static readFrom(
    lang: string,
    reader: DictionaryReader,
    terms: number,
    arenaUnits: number,
  ): LanguageTerms {
    // Room for the terms a night adds: without it, the language's first new term would copy
    // the whole array into one twice its size (20-50 ms over the 1M state's languages).
    // Shared, as every array read here, so that a thread that reads the file can hand them over.
    const counts = new Float64Array(
      new SharedArrayBuffer((terms * 2 + 2 * Math.max(64, Math.ceil(terms / 64))) * 8),
    );
    reader.next(new Uint8Array(counts.buffer, 0, terms * 16));
    // Shared, so that a delta run's workers look terms up in this very copy.
    const arena = new Uint16Array(new SharedArrayBuffer(arenaUnits * 2));
    reader.next(new Uint8Array(arena.buffer));
    const padding = languageBytes(terms, arenaUnits) - terms * 16 - arenaUnits * 2;
    reader.next(new Uint8Array(padding));
    for (let id = 0; id < terms; id++) {
      const df = counts[2 * id]!;
      const cf = counts[2 * id + 1]!;
      if (!Number.isSafeInteger(df) || !Number.isSafeInteger(cf) || df < 0 || cf < df) {
        throw new StateCorruptError(
          `dictionary ${lang}: a term has impossible counts (df ${df}, cf ${cf})`,
        );
      }
    }
    return new LanguageTerms(lang, arena, arenaUnits, counts, terms);
  }
}

/** A language's arrays, handed from the thread that read them to another (`LanguageTerms.parts`). */
export interface LanguageParts {
  readonly lang: string;
  readonly arena: Uint16Array;
  readonly arenaUsed: number;
  readonly counts: Float64Array;
  readonly size: number;
  readonly offsets: Uint32Array;
  readonly slots: Int32Array;
}

interface Header {
  languages: Array<{ lang: string; terms: number; arenaUnits: number }>;
}

/** Every language's terms. */
export class TermDictionary {
  private readonly byLang = new Map<string, LanguageTerms>();

  languages(): IterableIterator<LanguageTerms> {
    return this.byLang.values();
  }

  get(lang: string): LanguageTerms | undefined {
    return this.byLang.get(lang);
  }

  /** The language's terms, created empty when it has none yet. */
  language(lang: string): LanguageTerms {
    let terms = this.byLang.get(lang);
    if (terms === undefined) {
      terms = LanguageTerms.empty(lang);
      this.byLang.set(lang, terms);
    }
    return terms;
  }

  set(terms: LanguageTerms): void {
    this.byLang.set(terms.lang, terms);
  }

  /** Builds every language's lookup table; throws StateCorruptError on a term stored twice. */
  index(): void {
    for (const terms of this.byLang.values()) terms.index();
  }

  /**
   * Every language's arrays, lookup tables built, for another thread: a dictionary read (`read`)
   * on one thread and used on another (`fromParts`).
   */
  parts(): LanguageParts[] {
    return [...this.byLang.values()].map((terms) => terms.parts());
  }

  static fromParts(parts: readonly LanguageParts[]): TermDictionary {
    const dictionary = new TermDictionary();
    for (const language of parts) dictionary.set(LanguageTerms.fromParts(language));
    return dictionary;
  }

  /** Every language's terms as they stand, for the analysis workers (see `LanguageTerms.shared`). */
  shared(): SharedTerms[] {
    return [...this.byLang.values()].map((terms) => terms.shared());
  }

  /** The file's bytes before its checksum: the header, then each language, in name order. */
  private *pieces(): Generator<Uint8Array> {
    const languages = [...this.byLang.values()].sort((a, b) => (a.lang < b.lang ? -1 : 1));
    const header: Header = {
      languages: languages.map((l) => ({
        lang: l.lang,
        terms: l.size,
        arenaUnits: l.arenaUnits,
      })),
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const head = Buffer.alloc(align8(MAGIC.length + 4 + json.length));
    MAGIC.copy(head, 0);
    head.writeUInt32LE(json.length, MAGIC.length);
    json.copy(head, MAGIC.length + 4);
    yield head;
    for (const l of languages) yield* l.pieces();
  }

  /** The file's bytes. */
  encode(): Buffer {
    const parts = [...this.pieces()];
    const body = Buffer.concat(parts);
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(crc32(body));
    return Buffer.concat([body, sum]);
  }

  /**
   * Writes the file at `path` (which must not exist) and syncs it to disk: the bytes of
   * `encode()`, piece by piece from the languages' own arrays, the checksum computed on the way.
   */
  write(path: string): void {
    const fd = openSync(path, 'wx');
    try {
      const writeAll = (bytes: Uint8Array): void => {
        let at = 0;
        while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      };
      let sum = 0;
      for (const piece of this.pieces()) {
        // Skip empty pieces: on Node 20, zlib.crc32 of a view of an empty ArrayBuffer returns 0
        // whatever the running value, which would lose the checksum so far.
        if (piece.length === 0) continue;
        sum = crc32(piece, sum);
        writeAll(piece);
      }
      const tail = Buffer.alloc(4);
      tail.writeUInt32LE(sum);
      writeAll(tail);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The file's directory entry too: a database that names the file must find it after a crash.
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  /**
   * Reads the file at `path` and builds every language's lookup table, for a run that looks
   * terms up (a delta); a term stored twice is found now, as StateCorruptError.
   */
  static readIndexed(path: string): TermDictionary {
    const dictionary = TermDictionary.read(path);
    dictionary.index();
    return dictionary;
  }

  /** Reads the file at `path`; errors name the file. */
  static read(path: string): TermDictionary {
    const name = basename(path);
    const unreadable = (error: unknown): StateCorruptError =>
      new StateCorruptError(
        `dictionary ${name} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw unreadable(error);
    }
    try {
      return TermDictionary.readAll(new DictionaryReader(fd, fstatSync(fd).size), name);
    } catch (error) {
      throw error instanceof StateCorruptError ? error : unreadable(error);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads a whole dictionary from `reader`. Past the magic number, whatever it finds wrong in a
   * file whose checksum does not hold is reported as damage: the checksum, not the first odd
   * byte, tells damage apart.
   */
  private static readAll(reader: DictionaryReader, name: string): TermDictionary {
    const start = Buffer.alloc(MAGIC.length + 4);
    if (reader.size < MAGIC.length + 8) damaged(name, 'not a dictionary file');
    reader.next(start);
    if (!start.subarray(0, MAGIC.length).equals(MAGIC)) damaged(name, 'not a dictionary file');
    try {
      return TermDictionary.readChecked(reader, name, start.readUInt32LE(MAGIC.length));
    } catch (error) {
      if (error instanceof StateCorruptError && !reader.checksumHolds()) {
        damaged(name, 'checksum mismatch');
      }
      throw error;
    }
  }

  /** The rest of `readAll`, from the header of `headerBytes` bytes on. */
  private static readChecked(
    reader: DictionaryReader,
    name: string,
    headerBytes: number,
  ): TermDictionary {
    const bad = (what: string): never => damaged(name, what);
    const size = reader.size - 4;
    const headerEnd = align8(MAGIC.length + 4 + headerBytes);
    if (headerEnd > size) bad('header past the end');
    const head = Buffer.alloc(headerEnd - reader.at);
    reader.next(head);
    let header: Header;
    try {
      header = JSON.parse(head.toString('utf8', 0, headerBytes)) as Header;
    } catch {
      return bad('header is not JSON');
    }
    if (!Array.isArray(header?.languages)) bad('no language list');
    const dictionary = new TermDictionary();
    for (const entry of header.languages) {
      const { lang, terms, arenaUnits } = entry ?? {};
      if (
        typeof lang !== 'string' ||
        !Number.isSafeInteger(terms) ||
        !Number.isSafeInteger(arenaUnits) ||
        terms < 0 ||
        arenaUnits < 0
      ) {
        bad('a malformed language entry');
      }
      if (reader.at + languageBytes(terms, arenaUnits) > size) {
        bad(`language ${lang} runs past the end`);
      }
      dictionary.set(LanguageTerms.readFrom(lang, reader, terms, arenaUnits));
    }
    if (reader.at !== size) bad('trailing bytes');
    const sum = reader.crc >>> 0;
    const tail = Buffer.alloc(4);
    reader.next(tail);
    if (tail.readUInt32LE(0) !== sum) bad('checksum mismatch');
    return dictionary;
  }
}
