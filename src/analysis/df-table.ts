/**
 * Document-frequency tables: per language, the number of documents N and term -> df.
 * Pure data structures; the workers fill them and the job merges the workers' tables.
 */
import type { LanguageTable } from './protocol.js';

export interface LanguageCounts {
  n: number;
  readonly df: Map<string, number>;
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

export class DfAccumulator {
  readonly tables: DfTables = new Map();
  counted = 0;

  /** Adds one document's distinct terms. */
  addDocument(lang: string, terms: Iterable<string>): void {
    let table = this.tables.get(lang);
    if (table === undefined) {
      table = { n: 0, df: new Map() };
      this.tables.set(lang, table);
    }
    table.n++;
    this.counted++;
    const df = table.df;
    for (const term of terms) {
      const count = df.get(term);
      if (count === undefined) df.set(detach(term), 1);
      else df.set(term, count + 1);
    }
  }

  /** Serialises and empties the tables. */
  drain(): LanguageTable[] {
    const out: LanguageTable[] = [];
    for (const [lang, table] of this.tables) {
      const counts = new Uint32Array(table.df.size);
      const terms: string[] = new Array(table.df.size);
      let i = 0;
      for (const [term, df] of table.df) {
        terms[i] = term;
        counts[i] = df;
        i++;
      }
      out.push({ lang, n: table.n, terms: terms.join('\n'), counts });
    }
    this.tables.clear();
    return out;
  }
}

/** Adds serialised tables into `into`. */
export function mergeTables(into: DfTables, tables: readonly LanguageTable[]): void {
  for (const table of tables) {
    let target = into.get(table.lang);
    if (target === undefined) {
      target = { n: 0, df: new Map() };
      into.set(table.lang, target);
    }
    target.n += table.n;
    if (table.counts.length === 0) continue;
    const terms = table.terms.split('\n');
    if (terms.length !== table.counts.length) {
      throw new Error(
        `table for ${table.lang} has ${terms.length} terms but ${table.counts.length} counts`,
      );
    }
    const df = target.df;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i]!;
      df.set(term, (df.get(term) ?? 0) + table.counts[i]!);
    }
  }
}
