/**
 * Frequency tables: per language, the number of documents N and, per term, its document
 * frequency df (documents containing it) and collection frequency cf (occurrences in all of
 * them). Selection needs both (see select.ts).
 *
 * A worker counts into its own `FullCounter` (term -> local id -> df, cf) and, when the counts
 * are to be stored, keeps each document's local term ids with their frequencies. At the end the
 * job merges every worker's counts, ranks the terms of each language by df into global ids, and
 * hands each worker a local -> global map so that it can re-encode its documents. Pure data
 * structures.
 */
import type { EncodedDocuments, LanguageTable } from './protocol.js';
import type { TermCounts } from './term-counts.js';
import { ByteWriter, readTermCounts, sortTermCounts } from './term-ids.js';

export interface LanguageCounts {
  n: number;
  /** Term -> documents containing it. */
  readonly df: Map<string, number>;
  /** Term -> occurrences in all documents (at least its df); same keys as `df`. */
  readonly cf: Map<string, number>;
}

export type DfTables = Map<string, LanguageCounts>;

/**
 * A copy of `term` that shares no memory with the document it was cut from. V8 represents a
 * long slice as a view into its parent string, so a slice kept as a map key would keep the whole
 * document alive for the rest of the run.
 */
export function detach(term: string): string {
  return term.length < 13 ? term : Buffer.from(term, 'utf8').toString('utf8');
}

class LanguageDictionary {
  readonly ids = new Map<string, number>();
  readonly terms: string[] = [];
  /**
   * df and cf of term id i at [2i] and [2i + 1]: side by side, counting a term touches one cache
   * line, where two arrays would cost a second cache miss per term on a large vocabulary.
   */
  counts = new Float64Array(2048);
  n = 0;

  idOf(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.terms.length;
      const copy = detach(term);
      this.ids.set(copy, id);
      this.terms.push(copy);
      if (2 * id + 1 >= this.counts.length) this.counts = grow(this.counts, 2 * id + 2);
    }
    return id;
  }
}

function grow<T extends Uint16Array | Uint32Array | Float64Array>(array: T, need: number): T {
  if (need <= array.length) return array;
  const grown = new (array.constructor as new (n: number) => T)(Math.max(need, array.length * 2));
  grown.set(array);
  return grown;
}

export class FullCounter {
  private readonly dictionaries = new Map<string, LanguageDictionary>();
  private readonly langIndex = new Map<string, number>();
  private readonly langNames: string[] = [];
  private scratchIds = new Uint32Array(4096);
  private scratchTfs = new Uint32Array(4096);
  // Per-document records, kept only when the counts are to be stored.
  private readonly docIds: string[] = [];
  private docLang = new Uint16Array(1024);
  private docUpdatedAt = new Float64Array(1024);
  private docEnds = new Uint32Array(1024);
  private readonly records = new ByteWriter(1 << 20);
  counted = 0;

  constructor(private readonly keepRecords: boolean) {}

  private dictionary(lang: string): LanguageDictionary {
    let dict = this.dictionaries.get(lang);
    if (dict === undefined) {
      dict = new LanguageDictionary();
      this.dictionaries.set(lang, dict);
      this.langIndex.set(lang, this.langNames.length);
      this.langNames.push(lang);
    }
    return dict;
  }

  /** Counts one live document: its distinct terms, each with its occurrences (at least 1). */
  addDocument(id: string, lang: string, updatedAtMs: number, terms: TermCounts): void {
    const dict = this.dictionary(lang);
    dict.n++;
    this.counted++;
    if (terms.size > this.scratchIds.length) {
      this.scratchIds = new Uint32Array(terms.size * 2);
      this.scratchTfs = new Uint32Array(terms.size * 2);
    }
    const ids = this.scratchIds;
    const tfs = this.scratchTfs;
    const k = terms.size;
    for (let i = 0; i < k; i++) {
      const termId = dict.idOf(terms.terms[i]!);
      const tf = terms.tfs[i]!;
      const counts = dict.counts;
      counts[2 * termId]!++;
      counts[2 * termId + 1]! += tf;
      ids[i] = termId;
      tfs[i] = tf;
    }
    if (!this.keepRecords) return;
    const doc = this.docIds.length;
    this.docIds.push(id);
    this.docLang = grow(this.docLang, doc + 1);
    this.docUpdatedAt = grow(this.docUpdatedAt, doc + 1);
    this.docEnds = grow(this.docEnds, doc + 1);
    this.docLang[doc] = this.langIndex.get(lang)!;
    this.docUpdatedAt[doc] = updatedAtMs;
    // In first-seen order: `encode` sorts once, by global id.
    this.records.writeTermCounts(ids, tfs, k, false);
    this.docEnds[doc] = this.records.length;
  }

  /** This worker's counts, terms in local-id order. */
  tables(): LanguageTable[] {
    const out: LanguageTable[] = [];
    for (const [lang, dict] of this.dictionaries) {
      const size = dict.terms.length;
      const df = new Uint32Array(size);
      const cf = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        df[i] = dict.counts[2 * i]!;
        cf[i] = dict.counts[2 * i + 1]!;
      }
      out.push({ lang, n: dict.n, terms: dict.terms.join('\n'), counts: df, cf });
    }
    return out;
  }

  /** Re-encodes every kept document with global ids; `maps` gives local -> global per language. */
  encode(maps: ReadonlyMap<string, Uint32Array>): EncodedDocuments {
    const records = this.records;
    const out = new ByteWriter(Math.max(records.length + 1024, 1024));
    const ends = new Uint32Array(this.docIds.length);
    const bytes = records.bytes();
    const langMaps = this.langNames.map((lang) => maps.get(lang));
    let offset = 0;
    for (let doc = 0; doc < this.docIds.length; doc++) {
      const { ids, tfs, end } = readTermCounts(bytes, offset, false);
      offset = end;
      const map = langMaps[this.docLang[doc]!];
      if (map === undefined)
        throw new Error(`no id map for language ${this.langNames[this.docLang[doc]!]}`);
      for (let i = 0; i < ids.length; i++) ids[i] = map[ids[i]!]!;
      sortTermCounts(ids, tfs, ids.length);
      out.writeTermCounts(ids, tfs, ids.length);
      ends[doc] = out.length;
    }
    return {
      ids: this.docIds,
      langs: this.langNames,
      langOf: this.docLang.slice(0, this.docIds.length),
      updatedAt: this.docUpdatedAt.slice(0, this.docIds.length),
      records: out.take(),
      ends,
    };
  }
}

/** Adds serialised tables into `into`. */
export function mergeTables(into: DfTables, tables: readonly LanguageTable[]): void {
  for (const table of tables) {
    let target = into.get(table.lang);
    if (target === undefined) {
      target = { n: 0, df: new Map(), cf: new Map() };
      into.set(table.lang, target);
    }
    target.n += table.n;
    if (table.counts.length === 0) continue;
    const terms = table.terms.split('\n');
    if (terms.length !== table.counts.length || terms.length !== table.cf.length) {
      throw new Error(
        `table for ${table.lang} has ${terms.length} terms but ${table.counts.length} document and ${table.cf.length} collection frequencies`,
      );
    }
    const { df, cf } = target;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i]!;
      df.set(term, (df.get(term) ?? 0) + table.counts[i]!);
      cf.set(term, (cf.get(term) ?? 0) + table.cf[i]!);
    }
  }
}

/**
 * Ranks a language's terms by document frequency (then by term): index = global id, with the
 * document and collection frequency of each.
 */
export function rankTerms(table: LanguageCounts): {
  terms: string[];
  df: Uint32Array;
  cf: Float64Array;
} {
  const { df, cf } = table;
  const terms = [...df.keys()].sort((a, b) => {
    const d = df.get(b)! - df.get(a)!;
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const dfs = new Uint32Array(terms.length);
  const cfs = new Float64Array(terms.length);
  for (let i = 0; i < terms.length; i++) {
    const term = terms[i]!;
    dfs[i] = df.get(term)!;
    cfs[i] = cf.get(term) ?? 0;
  }
  return { terms, df: dfs, cf: cfs };
}

/** For one worker's table of a language: local id -> global id. */
export function localToGlobal(
  table: LanguageTable,
  globalIds: ReadonlyMap<string, number>,
): Uint32Array {
  const map = new Uint32Array(table.counts.length);
  if (table.counts.length === 0) return map;
  const terms = table.terms.split('\n');
  for (let i = 0; i < terms.length; i++) {
    const id = globalIds.get(terms[i]!);
    if (id === undefined) throw new Error(`term missing from the merged table of ${table.lang}`);
    map[i] = id;
  }
  return map;
}
