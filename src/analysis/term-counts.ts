/**
 * One document's distinct terms with their number of occurrences (term frequency, tf), filled
 * by the tokeniser (`addTerms`) and read by the counters. One instance is reused from document
 * to document. The terms are kept in a plain array in first-seen order, next to a typed array
 * of counts, so that reading them back is a loop over two arrays; a repeated word costs one
 * hash lookup, a new one a lookup and an insert.
 */
export class TermCounts {
  private readonly index = new Map<string, number>();
  /** Distinct terms in first-seen order; `terms.length === size`. */
  readonly terms: string[] = [];
  /** `tfs[i]`: occurrences of `terms[i]` (at least 1); valid below `size`. */
  tfs = new Uint32Array(1024);
  size = 0;

  add(term: string): void {
    const at = this.index.get(term);
    if (at !== undefined) {
      this.tfs[at]!++;
      return;
    }
    const next = this.size++;
    this.index.set(term, next);
    this.terms.push(term);
    if (next >= this.tfs.length) {
      const grown = new Uint32Array(this.tfs.length * 2);
      grown.set(this.tfs);
      this.tfs = grown;
    }
    this.tfs[next] = 1;
  }

  clear(): void {
    this.index.clear();
    this.terms.length = 0;
    this.size = 0;
  }

  /** term -> tf, for callers off the hot path. */
  toMap(): Map<string, number> {
    return new Map(this.terms.map((term, i) => [term, this.tfs[i]!]));
  }
}
