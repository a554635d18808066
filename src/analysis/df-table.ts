/**
 * Frequency tables: per language, the number of documents N and, per term, its document
 * frequency df (documents containing it) and collection frequency cf (occurrences in all of
 * them). Selection needs both (see select.ts).
 *
 * A worker counts into its own `FullCounter`, a `CountingTable` of (language, term) -> local id
 * with df and cf, and, when the counts are to be stored, keeps each document's term ids with
 * their frequencies. At the end the job merges every worker's table into a `MergedTerms`: it
 * takes one worker's table over and adds the others' terms to it. A term's global id is its id
 * within its language in that table: first-seen order in that worker's documents, then the
 * terms only the others saw, in the order they are added.
 *
 * A worker's records hold its own ids within each language (first-seen order), sorted and
 * gap-encoded as the state stores them, and go to the state as they are: the state keeps, for
 * each worker but the one whose table was taken over, its numbering, a map from its ids to the
 * global ones (`MergedTerms.add`), and reads such a record through it. Nothing is re-encoded.
 * Pure data structures.
 *
 * Ids in first-seen order rather than ranked by df cost about 1% more record bytes (the common
 * words are among the first seen), and spare the re-encoding of every document.
 */

import { CountingTable } from './counting-table.js';
import type { EncodedDocuments, WorkerTerms } from './protocol.js';
import {
  ByteWriter,
  getFloat64,
  getString,
  getVarint,
  termCountsEnd,
  varintEnd,
} from './term-ids.js';
import {
  type DocumentTerms,
  grow,
  languageSalt,
  prefixedWord,
  prefixedWords,
  termKey,
} from './term-table.js';

export interface LanguageCounts {
  n: number;
  /** Term -> documents containing it. */
  readonly df: Map<string, number>;
  /** Term -> occurrences in all documents (at least its df); same keys as `df`. */
  readonly cf: Map<string, number>;
}

export type DfTables = Map<string, LanguageCounts>;

/** Languages by name, each with a dense index and the salt its terms are hashed with. */
class Languages {
  readonly index = new Map<string, number>();
  readonly names: string[] = [];
  readonly salts: number[] = [];
  documents: number[] = [];

  of(lang: string): number {
    let at = this.index.get(lang);
    if (at === undefined) {
      at = this.names.length;
      if (at > 0xffff) throw new RangeError('more than 65,536 languages');
      this.index.set(lang, at);
      this.names.push(lang);
      this.salts.push(languageSalt(lang));
      this.documents.push(0);
    }
    return at;
  }
}

/**
 * Terms a worker's counting table reserves room for (CountingTable's `reserveTerms`): 768 MB of
 * address space for their records, of which only what the table fills becomes memory. A larger
 * vocabulary grows the table past it.
 */
const RESERVED_TERMS = 1 << 24;

/** A worker's records are kept in blocks of about this size, released as they are handed on. */
const RECORD_BLOCK_BYTES = 4 << 20;

/**
 * Where a worker keeps its finished blocks of records until they are handed on: in memory, or
 * in a file (record-spill.ts), which keeps a large count's records out of the heap.
 */
export interface RecordBlocks {
  /** Keeps a copy of a block (the caller reuses its memory); read back in the order put. */
  put(block: Uint8Array): void;
  readonly count: number;
  /**
   * Block `index`, each exactly once and in order; the returned view is only valid until the
   * next call, and the block's memory is released.
   */
  take(index: number): Uint8Array;
  /** Releases whatever is left. */
  close(): void;
}

export class MemoryRecordBlocks implements RecordBlocks {
  private readonly blocks: Uint8Array[] = [];

  put(block: Uint8Array): void {
    this.blocks.push(block.slice());
  }

  get count(): number {
    return this.blocks.length;
  }

  take(index: number): Uint8Array {
    const block = this.blocks[index];
    if (block === undefined) throw new Error(`no record block ${index}`);
    this.blocks[index] = EMPTY;
    return block;
  }

  close(): void {
    this.blocks.length = 0;
  }
}

const EMPTY = new Uint8Array(0);

export class FullCounter {
  private table = new CountingTable(1 << 16, RESERVED_TERMS);
  private readonly languages = new Languages();
  private scratchIds = new Uint32Array(4096);
  private scratchTfs = new Uint32Array(4096);
  private keys = new Int32Array(4096);
  /** See `CountingTable.touch`. */
  touched = 0;
  /**
   * Per-document records, kept only when the counts are to be stored: the document's id,
   * language index and updatedAt, then its terms by their ids within the language, sorted
   * (`writeSortedTermCounts`: as the state stores them), in blocks. Nothing per document stays
   * in the heap.
   */
  private kept = 0;
  /** Documents in each finished block of records; the blocks are in `blocks`. */
  private readonly blockDocuments: number[] = [];
  private readonly records = new ByteWriter(RECORD_BLOCK_BYTES + (1 << 16));
  private recordsInBlock = 0;
  counted = 0;

  constructor(
    private readonly keepRecords: boolean,
    private readonly blocks: RecordBlocks = new MemoryRecordBlocks(),
    private readonly blockBytes = RECORD_BLOCK_BYTES,
  ) {}

  /** Counts one live document: its distinct terms, each with its occurrences (at least 1). */
  addDocument(id: string, lang: string, updatedAtMs: number, terms: DocumentTerms): void {
    const languages = this.languages;
    const li = languages.of(lang);
    languages.documents[li]!++;
    this.counted++;
    const k = terms.size;
    if (k > this.scratchIds.length) {
      this.scratchIds = new Uint32Array(k * 2);
      this.scratchTfs = new Uint32Array(k * 2);
    }
    const ids = this.scratchIds;
    const tfs = this.scratchTfs;
    const salt = languages.salts[li]!;
    const table = this.table;
    const { packed, packedAt, lengths, hashes } = terms;
    const termTfs = terms.tfs;
    if (k > this.keys.length) this.keys = new Int32Array(k * 2);
    const keys = this.keys;
    for (let i = 0; i < k; i++) keys[i] = termKey(hashes[i]!, salt);
    this.touched ^= table.touch(keys, k);
    for (let i = 0; i < k; i++) {
      const record = table.intern(li, keys[i]!, packed, packedAt[i]!, lengths[i]!);
      const tf = termTfs[i]!;
      table.add(record, 1, tf);
      ids[i] = table.languageId(record);
      tfs[i] = tf;
    }
    if (!this.keepRecords) return;
    const records = this.records;
    records.writeString(id);
    records.writeVarint(li);
    records.writeFloat64(updatedAtMs);
    records.writeSortedTermCounts(ids, tfs, k);
    this.kept++;
    this.recordsInBlock++;
    if (this.records.length >= this.blockBytes) this.finishBlock();
  }

  private finishBlock(): void {
    if (this.recordsInBlock === 0) return;
    this.blocks.put(this.records.bytes());
    this.blockDocuments.push(this.recordsInBlock);
    this.records.reset();
    this.recordsInBlock = 0;
  }

  /** This worker's terms and counts, by local id: its table, handed over (drained once). */
  terms(): WorkerTerms {
    const languages = this.languages;
    const terms: WorkerTerms = {
      ...this.table.handOver(),
      langs: [...languages.names],
      documents: Float64Array.from(languages.documents),
    };
    this.table = new CountingTable(16);
    return terms;
  }

  /**
   * Hands the kept documents on to `emit` as they are, in pieces of about `pieceBytes` of
   * records, in document order (`recordPieces`), each piece marked with `numbering`, the number
   * the state knows this worker's ids by (`MergedTerms.add`). The blocks are released one by
   * one as they go.
   */
  handOn(numbering: number, emit: (piece: EncodedDocuments) => void, pieceBytes = 4 << 20): void {
    this.finishBlock();
    const handed = recordPieces(
      this.blocks,
      this.blockDocuments,
      numbering,
      this.languages.names,
      emit,
      pieceBytes,
    );
    this.blocks.close();
    if (handed !== this.kept) throw new Error(`handed on ${handed} documents of ${this.kept}`);
  }
}

/**
 * The documents of record blocks `blocks` (`documents[b]` in block b), to `emit` in pieces of
 * about `pieceBytes` of records, marked with `numbering`; returns how many. `langs` names the
 * language indices of the records.
 */
function recordPieces(
  blocks: Pick<RecordBlocks, 'take'>,
  documents: readonly number[],
  numbering: number,
  langs: readonly string[],
  emit: (piece: EncodedDocuments) => void,
  pieceBytes: number,
): number {
  const out = new ByteWriter(pieceBytes + (1 << 16));
  let ends = new Uint32Array(4096);
  let langOf = new Uint16Array(4096);
  let updatedAt = new Float64Array(4096);
  let docIds: string[] = [];
  let pieceStart = 0;
  let doc = 0;
  const names = [...langs];
  const flush = (): void => {
    if (doc === pieceStart) return;
    const size = doc - pieceStart;
    emit({
      numbering,
      ids: docIds,
      langs: names,
      langOf: langOf.slice(0, size),
      updatedAt: updatedAt.slice(0, size),
      records: out.take(),
      ends: ends.slice(0, size),
    });
    out.reset();
    docIds = [];
    pieceStart = doc;
  };
  for (let b = 0; b < documents.length; b++) {
    const block = blocks.take(b);
    const bytes = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    let pos = 0;
    for (let n = documents[b]!; n > 0; n--) {
      const at = doc - pieceStart;
      if (at >= ends.length) {
        ends = grow(ends, at + 1);
        langOf = grow(langOf, at + 1);
        updatedAt = grow(updatedAt, at + 1);
      }
      docIds.push(getString(bytes, pos));
      langOf[at] = getVarint(bytes, varintEnd);
      updatedAt[at] = getFloat64(bytes, varintEnd);
      const start = varintEnd;
      pos = termCountsEnd(bytes, start);
      out.writeBytes(bytes.subarray(start, pos));
      ends[at] = out.length;
      doc++;
      if (out.length >= pieceBytes) flush();
    }
    if (pos !== bytes.length) throw new Error('term records do not end where expected');
  }
  flush();
  return doc;
}

/** One language's merged terms with their counts: index = global id. */
export interface MergedLanguage {
  readonly lang: string;
  readonly n: number;
  /**
   * The terms by global id, as a length-prefixed arena: per term its length in code units, then
   * the units; the dictionary's layout. `languageWords` makes strings of them.
   */
  readonly arena: Uint16Array;
  /** Document frequency by global term id. */
  readonly df: Uint32Array;
  /** Collection frequency by global term id. */
  readonly cf: Float64Array;
}

/** The first `count` terms of `language` (all by default), by global id, as strings. */
export function languageWords(language: MergedLanguage, count = language.df.length): string[] {
  return prefixedWords(language.arena, count);
}

/** Every worker's terms, merged: (language, term) -> merged id with the summed counts. */
export class MergedTerms {
  /** The first table added, taken over, with the others' terms interned into it. */
  private table: CountingTable | null = null;
  /** Per merged id, its record in `table` (`CountingTable.recordsById`), once numbered. */
  private records: Int32Array = new Int32Array(0);
  /** Per merged id, its global id, once numbered. */
  private globalOf = new Uint32Array(0);
  private readonly languages = new Languages();

  /**
   * Adds one worker's terms. The first table added is taken over as it is, memory and all,
   * without interning its terms one by one: its ids within each language are the global ids,
   * and this returns null. The others' terms are interned into it, record by record
   * (`CountingTable.absorb`), and this returns that worker's numbering: per language index of
   * the worker, the global id of each of its ids within that language.
   */
  add(terms: WorkerTerms): Uint32Array[] | null {
    const langIndex = terms.langs.map((lang) => this.languages.of(lang));
    if (terms.documents.length !== langIndex.length) {
      throw new Error('a worker returned document counts for other languages than its terms');
    }
    terms.langs.forEach((_, i) => {
      this.languages.documents[langIndex[i]!]! += terms.documents[i]!;
    });
    const table = CountingTable.adopt(terms);
    if (this.table === null) {
      // The first table's languages were the first named: its indices are the merge's.
      this.table = table;
      return null;
    }
    return this.table.absorb(table, langIndex, terms.langs.map(languageSalt));
  }

  /**
   * Each language's terms by global id: returns the languages in name order and, per merged id,
   * its global id within its language (its id within its language in the merged table: the
   * first-seen order of the worker added first, then the terms the others added).
   */
  byGlobalId(): { languages: MergedLanguage[]; globalOf: Uint32Array } {
    const ids = this.globalIds();
    return { languages: this.mergedLanguages(ids), globalOf: ids.globalOf };
  }

  /**
   * The global ids alone: per merged id its global id, and per language (in name order) its
   * merged ids in global id order; `mergedLanguage` then copies out one language's terms and
   * their counts, which can wait until the workers are handing their documents on.
   */
  globalIds(): GlobalIds {
    // No worker added anything: no terms.
    this.table ??= new CountingTable(16);
    const table = this.table;
    // Checks, too, that each language's ids run from 0 in merged id order.
    const records = table.recordsById();
    this.records = records;
    const size = table.size;
    const names = this.languages.names;
    // One pass over the records in merged id order, the order they lie in.
    const langOf = new Uint32Array(size);
    const globalOf = new Uint32Array(size);
    for (let id = 0; id < size; id++) {
      const record = records[id]!;
      langOf[id] = table.language(record);
      globalOf[id] = table.languageId(record);
    }
    // Group merged ids by language (a counting sort): within a language, merged id order is
    // global id order.
    const starts = new Uint32Array(names.length + 1);
    for (let id = 0; id < size; id++) starts[langOf[id]! + 1]!++;
    for (let l = 0; l < names.length; l++) starts[l + 1]! += starts[l]!;
    const fill = starts.slice(0, names.length);
    const grouped = new Uint32Array(size);
    for (let id = 0; id < size; id++) grouped[fill[langOf[id]!]!++] = id;
    const order = [...names.keys()].sort((a, b) =>
      names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0,
    );
    const languages = order.map((l) => ({
      language: l,
      members: grouped.subarray(starts[l]!, starts[l + 1]!),
    }));
    this.globalOf = globalOf;
    return { globalOf, languages };
  }

  /** The languages of `ids`, with their terms and counts. */
  mergedLanguages(ids: GlobalIds): MergedLanguage[] {
    return ids.languages.map((entry) => this.mergedLanguage(entry));
  }

  /** One language of a `GlobalIds`, with its terms and counts. */
  mergedLanguage({ language, members }: GlobalIds['languages'][number]): MergedLanguage {
    const table = this.table;
    const records = this.records;
    const globalOf = this.globalOf;
    if (table === null || records.length !== table.size) {
      throw new Error('mergedLanguage needs the global ids of the merged terms (globalIds)');
    }
    const count = members.length;
    const df = new Uint32Array(count);
    const cf = new Float64Array(count);
    let units = 0;
    for (let k = 0; k < count; k++) {
      const id = members[k]!;
      if (globalOf[id] !== k) throw new Error(`term ${id} has global id ${globalOf[id]}, not ${k}`);
      const record = records[id]!;
      df[k] = table.df(record);
      cf[k] = table.cf(record);
      units += 1 + table.length(record);
    }
    const arena = new Uint16Array(units);
    let at = 0;
    for (let k = 0; k < count; k++) {
      const record = records[members[k]!]!;
      table.putPrefixed(record, arena, at);
      at += 1 + table.length(record);
    }
    const lang = this.languages.names[language]!;
    return { lang, n: this.languages.documents[language]!, arena, df, cf };
  }
}

/** `MergedTerms.globalIds`: the global ids without the terms' strings. */
export interface GlobalIds {
  /** Per merged id, its global id within its language. */
  readonly globalOf: Uint32Array;
  /** Per language, in name order: its index and its merged ids in global id order. */
  readonly languages: ReadonlyArray<{
    readonly language: number;
    readonly members: Uint32Array;
  }>;
}

/**
 * The frequencies selection needs of one language: the terms with df >= `minRatio` × N, and N.
 */
export function selectionTable(language: MergedLanguage, minRatio: number): LanguageCounts {
  const minDf = Math.max(1, Math.ceil(minRatio * language.n - 1e-9));
  const df = new Map<string, number>();
  const cf = new Map<string, number>();
  const arena = language.arena;
  let at = 0;
  for (let id = 0; id < language.df.length; id++) {
    if (language.df[id]! >= minDf) {
      const term = prefixedWord(arena, at);
      df.set(term, language.df[id]!);
      cf.set(term, language.cf[id]!);
    }
    at += 1 + arena[at]!;
  }
  return { n: language.n, df, cf };
}
