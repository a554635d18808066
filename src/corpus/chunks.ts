/**
 * What every source hands to the analysis: chunks of whole documents in fresh buffers, so each
 * chunk can be transferred to a worker thread without a copy.
 */
export type CorpusChunk =
  /** NDJSON: whole UTF-8 lines, ending at a line boundary. */
  | { readonly kind: 'chunk'; readonly bytes: Uint8Array }
  /** NDJSON: one line longer than the limit, skipped unread. */
  | { readonly kind: 'overlongLine'; readonly bytes: number }
  /** MongoDB: whole BSON documents, back to back, as the server sent them. */
  | { readonly kind: 'bson'; readonly bytes: Uint8Array };
