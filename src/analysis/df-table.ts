/**
 * Frequency tables: per language, the number of documents N and, per term, its document
 * frequency df (documents containing it) and collection frequency cf (occurrences in all of
 * them). Selection needs both (see select.ts).
 *
 * A worker counts into its own `FullCounter`, a `CountingTable` of (language, term) -> local id
 * with df and cf, and, when the counts are to be stored, keeps each document's local term ids
 * with their frequencies. At the end the job merges every worker's table into a `MergedTerms`,
 * ranks the terms of each language by df into global ids, and hands each worker a local ->
 * global map so that it can re-encode its documents. Pure data structures.
 */

import { CountingTable } from './counting-table.js';
import type { EncodedDocuments, WorkerTerms } from './protocol.js';
import { ByteWriter, getFloat64, getString, getVarint, varintEnd } from './term-ids.js';
import { type DocumentTerms, grow, languageSalt, prefixedWords, termKey } from './term-table.js';

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

/** A worker's local records are kept in blocks of about this size, released as they are re-encoded. */
const RECORD_BLOCK_BYTES = 4 << 20;

/**
 * Where a worker keeps its finished blocks of local records until they are re-encoded: in
 * memory, or in a file (record-spill.ts), which keeps a large count's records out of the heap.
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
   * language index and updatedAt, then its terms (`writeTermCounts` without gaps), in blocks.
   * Nothing per document stays in the heap.
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
      ids[i] = table.id(record);
      tfs[i] = tf;
    }
    if (!this.keepRecords) return;
    const records = this.records;
    records.writeString(id);
    records.writeVarint(li);
    records.writeFloat64(updatedAtMs);
    // In first-seen order: `encode` sorts once, by global id.
    records.writeTermCounts(ids, tfs, k, false);
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
   * Re-encodes every kept document with global ids, `map[localId]` being the term's id in its
   * language, and hands them to `emit` in pieces of about `pieceBytes` of records, in document
   * order. The local records are released block by block as they are re-encoded, so the two
   * forms never both exist whole.
   */
  encode(map: Uint32Array, emit: (piece: EncodedDocuments) => void, pieceBytes = 4 << 20): void {
    this.finishBlock();
    const out = new ByteWriter(pieceBytes + (1 << 16));
    let ends = new Uint32Array(4096);
    let langOf = new Uint16Array(4096);
    let updatedAt = new Float64Array(4096);
    let docIds: string[] = [];
    let pieceStart = 0;
    let doc = 0;
    const flush = (): void => {
      if (doc === pieceStart) return;
      const size = doc - pieceStart;
      emit({
        ids: docIds,
        langs: this.languages.names,
        langOf: langOf.slice(0, size),
        updatedAt: updatedAt.slice(0, size),
        records: out.take(),
        ends: ends.slice(0, size),
      });
      out.reset();
      docIds = [];
      pieceStart = doc;
    };
    for (let b = 0; b < this.blocks.count; b++) {
      const block = this.blocks.take(b);
      const bytes = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
      let pos = 0;
      for (let n = this.blockDocuments[b]!; n > 0; n--) {
        const at = doc - pieceStart;
        if (at >= ends.length) {
          ends = grow(ends, at + 1);
          langOf = grow(langOf, at + 1);
          updatedAt = grow(updatedAt, at + 1);
        }
        docIds.push(getString(bytes, pos));
        langOf[at] = getVarint(bytes, varintEnd);
        updatedAt[at] = getFloat64(bytes, varintEnd);
        const count = getVarint(bytes, varintEnd);
        pos = varintEnd;
        if (count > this.scratchIds.length) {
          this.scratchIds = new Uint32Array(count * 2);
          this.scratchTfs = new Uint32Array(count * 2);
        }
        const ids = this.scratchIds;
        const tfs = this.scratchTfs;
        for (let i = 0; i < count; i++) {
          // Most values take one byte: read those here rather than through getVarint.
          let value = bytes[pos]!;
          if (value < 0x80) {
            pos++;
          } else {
            value = getVarint(bytes, pos);
            pos = varintEnd;
          }
          const local = value >>> 1;
          const global = map[local];
          if (global === undefined) throw new Error(`no global id for local term ${local}`);
          ids[i] = global;
          if ((value & 1) === 1) {
            tfs[i] = getVarint(bytes, pos) + 2;
            pos = varintEnd;
          } else {
            tfs[i] = 1;
          }
        }
        out.writeSortedTermCounts(ids, tfs, count);
        ends[at] = out.length;
        doc++;
        if (out.length >= pieceBytes) flush();
      }
      if (pos !== bytes.length) throw new Error('term records do not end where expected');
    }
    flush();
    this.blocks.close();
    if (doc !== this.kept) throw new Error(`encoded ${doc} documents of ${this.kept}`);
  }
}

/** One language's terms ranked by document frequency: index = global id. */
export interface RankedLanguage {
  readonly lang: string;
  readonly n: number;
  /**
   * The terms, most frequent first (index = global term id), as a length-prefixed arena: per
   * term its length in code units, then the units; the dictionary's layout. `rankedTerms`
   * makes strings of them.
   */
  readonly arena: Uint16Array;
  /** Document frequency by global term id. */
  readonly df: Uint32Array;
  /** Collection frequency by global term id. */
  readonly cf: Float64Array;
}

/** The first `count` terms of `language` (all by default), most frequent first, as strings. */
export function rankedTerms(language: RankedLanguage, count = language.df.length): string[] {
  return prefixedWords(language.arena, count);
}

/** Every worker's terms, merged: (language, term) -> merged id with the summed counts. */
export class MergedTerms {
  /** The first worker's table, taken over, with the others' terms interned into it. */
  private table: CountingTable | null = null;
  /** Per merged id, its record in `table` (`CountingTable.recordsById`), once ranked. */
  private records: Int32Array = new Int32Array(0);
  /** Per merged id, its global id, once ranked. */
  private globalOf = new Uint32Array(0);
  private readonly languages = new Languages();

  /**
   * Adds one worker's terms; returns, per local id of that worker, the merged id. The first
   * worker's table is taken over as it is, memory and all, without interning its terms one by
   * one; the others' terms are interned into it, record by record (`CountingTable.absorb`).
   */
  add(terms: WorkerTerms): Uint32Array {
    const langIndex = terms.langs.map((lang) => this.languages.of(lang));
    if (terms.documents.length !== langIndex.length) {
      throw new Error('a worker returned document counts for other languages than its terms');
    }
    terms.langs.forEach((_, i) => {
      this.languages.documents[langIndex[i]!]! += terms.documents[i]!;
    });
    const table = CountingTable.adopt(terms);
    if (this.table === null) {
      // The first worker's languages were the first named: its indices are the merge's.
      this.table = table;
      const merged = new Uint32Array(table.size);
      for (let id = 0; id < merged.length; id++) merged[id] = id;
      return merged;
    }
    return this.table.absorb(table, langIndex, terms.langs.map(languageSalt));
  }

  /**
   * Ranks each language's terms by df (descending), ties by the term's hash and then by the term,
   * so that the same counts always give the same ids. Returns the languages in name order and,
   * per merged id, its global id within its language.
   */
  rank(): { languages: RankedLanguage[]; globalOf: Uint32Array } {
    const ranking = this.order();
    return { languages: this.ranked(ranking), globalOf: ranking.globalOf };
  }

  /**
   * The ranking alone: per merged id its global id, and per language (in name order) its merged
   * ids in rank order. What the workers need to re-encode their documents; `ranked` then copies
   * out the terms and their counts, which can wait until the workers are at it.
   */
  order(): Ranking {
    // No worker added anything: an empty ranking.
    this.table ??= new CountingTable(16);
    const table = this.table;
    const records = table.recordsById();
    this.records = records;
    const size = table.size;
    const names = this.languages.names;
    // Group merged ids by language (a counting sort).
    const starts = new Uint32Array(names.length + 1);
    for (let id = 0; id < size; id++) starts[table.language(records[id]!) + 1]!++;
    for (let l = 0; l < names.length; l++) starts[l + 1]! += starts[l]!;
    const fill = starts.slice(0, names.length);
    const grouped = new Uint32Array(size);
    for (let id = 0; id < size; id++) grouped[fill[table.language(records[id]!)]!++] = id;

    const globalOf = new Uint32Array(size);
    const languages: Array<Ranking['languages'][number]> = [];
    const order = [...names.keys()].sort((a, b) =>
      names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0,
    );
    for (const l of order) {
      const ids = grouped.subarray(starts[l]!, starts[l + 1]!);
      const count = ids.length;
      const high = new Uint32Array(count);
      const low = new Uint32Array(count);
      const salt = this.languages.salts[l]!;
      // In id order, so the records are read in the order they lie in.
      for (let i = 0; i < count; i++) {
        const record = records[ids[i]!]!;
        high[i] = 0xffffffff - table.df(record);
        low[i] = table.key(record, salt) >>> 0;
      }
      const sorted = sortByKeys(ids, high, low, (a, b) =>
        table.compareWords(records[a]!, records[b]!),
      );
      for (let rank = 0; rank < count; rank++) globalOf[sorted[rank]!] = rank;
      languages.push({ language: l, ids: sorted, members: ids });
    }
    this.globalOf = globalOf;
    return { globalOf, languages };
  }

  /** The ranked languages of `ranking`, with their terms and counts. */
  ranked(ranking: Ranking): RankedLanguage[] {
    return ranking.languages.map((entry) => this.rankedLanguage(entry));
  }

  /** One language of a `Ranking`, with its terms and counts. */
  rankedLanguage({ language, ids, members }: Ranking['languages'][number]): RankedLanguage {
    const table = this.table;
    const records = this.records;
    const globalOf = this.globalOf;
    if (table === null || records.length !== table.size || members.length !== ids.length) {
      throw new Error('rankedLanguage needs the ranking of the merged terms (order)');
    }
    const count = ids.length;
    const df = new Uint32Array(count);
    const cf = new Float64Array(count);
    // The records are read in id order, the order they lie in, and each term's counts and word
    // written at its rank: in rank order, every read would be a cache miss.
    const starts = new Uint32Array(count + 1);
    for (let k = 0; k < count; k++) {
      const id = members[k]!;
      const rank = globalOf[id]!;
      const record = records[id]!;
      df[rank] = table.df(record);
      cf[rank] = table.cf(record);
      starts[rank + 1] = 1 + table.length(record);
    }
    for (let rank = 0; rank < count; rank++) starts[rank + 1]! += starts[rank]!;
    const arena = new Uint16Array(starts[count]!);
    for (let k = 0; k < count; k++) {
      const id = members[k]!;
      table.putPrefixed(records[id]!, arena, starts[globalOf[id]!]!);
    }
    const lang = this.languages.names[language]!;
    return { lang, n: this.languages.documents[language]!, arena, df, cf };
  }
}

/** `MergedTerms.order`: the ranking without the terms' strings. */
export interface Ranking {
  /** Per merged id, its global id within its language. */
  readonly globalOf: Uint32Array;
  /**
   * Per language, in name order: its index, its merged ids in rank order, and the same ids in
   * id order (`members`).
   */
  readonly languages: ReadonlyArray<{
    readonly language: number;
    readonly ids: Uint32Array;
    readonly members: Uint32Array;
  }>;
}

/**
 * Sorts `items` by (`high[i]`, `low[i]`) ascending as unsigned 32-bit numbers, ties by
 * `tieBreak` over the items; returns a new array. An LSD radix sort in four 16-bit passes
 * (linear, no comparator calls; a pass whose digit every item shares is skipped), then a
 * comparator sort of each run of equal keys.
 */
export function sortByKeys(
  items: Uint32Array,
  high: Uint32Array,
  low: Uint32Array,
  tieBreak: (a: number, b: number) => number,
): Uint32Array {
  const n = items.length;
  let index = new Uint32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  if (n < 512) {
    index.sort((a, b) => {
      if (high[a] !== high[b]) return high[a]! < high[b]! ? -1 : 1;
      if (low[a] !== low[b]) return low[a]! < low[b]! ? -1 : 1;
      return tieBreak(items[a]!, items[b]!);
    });
  } else {
    let spare = new Uint32Array(n);
    const counts = new Uint32Array(0x10001);
    for (const [keys, shift] of [
      [low, 0],
      [low, 16],
      [high, 0],
      [high, 16],
    ] as const) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[((keys[i]! >>> shift) & 0xffff) + 1]!++;
      // One digit for every item (the high half of df below 65,536, for one): the pass would
      // leave the order as it is.
      if (counts.includes(n)) continue;
      for (let d = 0; d < 0x10000; d++) counts[d + 1]! += counts[d]!;
      for (let i = 0; i < n; i++) {
        const item = index[i]!;
        spare[counts[(keys[item]! >>> shift) & 0xffff]!++] = item;
      }
      [index, spare] = [spare, index];
    }
    // Equal (high, low) keys: hash collisions among terms of equal df, rare.
    let runStart = 0;
    for (let i = 1; i <= n; i++) {
      if (
        i < n &&
        high[index[i]!] === high[index[runStart]!] &&
        low[index[i]!] === low[index[runStart]!]
      ) {
        continue;
      }
      if (i - runStart > 1) {
        index.subarray(runStart, i).sort((a, b) => tieBreak(items[a]!, items[b]!));
      }
      runStart = i;
    }
  }
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = items[index[i]!]!;
  return out;
}

/**
 * The frequencies selection needs of one language: the terms with df >= `minRatio` × N (a
 * prefix of the ranked terms), and N.
 */
export function selectionTable(language: RankedLanguage, minRatio: number): LanguageCounts {
  const minDf = Math.max(1, Math.ceil(minRatio * language.n - 1e-9));
  const df = new Map<string, number>();
  const cf = new Map<string, number>();
  let count = 0;
  while (count < language.df.length && language.df[count]! >= minDf) count++;
  rankedTerms(language, count).forEach((term, id) => {
    df.set(term, language.df[id]!);
    cf.set(term, language.cf[id]!);
  });
  return { n: language.n, df, cf };
}
