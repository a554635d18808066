/**
 * Messages between the job and the analysis workers. Chunks travel as transferred buffers and
 * document-frequency tables come back as one joined string plus a transferred count array, so
 * neither direction pays for structured cloning of many small objects.
 */
import type { FieldNames } from '../config/types.js';
import type { BadReason } from './document.js';

export interface WorkerSettings {
  readonly fields: FieldNames;
  readonly maxDocumentBytes: number;
  /** Documents with `updatedAt` at or after this instant belong to a later run. */
  readonly windowEndMs: number;
}

export interface AnalyzeTask {
  readonly kind: 'analyze';
  /** Whole NDJSON lines, UTF-8, ending at a line boundary. */
  readonly chunk: Uint8Array;
}

export interface DrainTask {
  readonly kind: 'drain';
  /** One Int32 counter; every worker waits on it so that each takes exactly one drain task. */
  readonly barrier: SharedArrayBuffer;
  readonly workers: number;
  readonly timeoutMs: number;
}

export type WorkerTask = AnalyzeTask | DrainTask;

export interface BadSample {
  /** 1-based line within the chunk. */
  readonly line: number;
  readonly reason: BadReason;
  readonly id: string | null;
}

export interface AnalyzeResult {
  readonly kind: 'analyze';
  readonly workerId: string;
  readonly lines: number;
  /** Live documents counted into document frequencies. */
  readonly counted: number;
  /** Tombstoned documents, which a full count leaves out. */
  readonly deleted: number;
  /** Documents changed at or after the window end. */
  readonly outsideWindow: number;
  readonly bad: Partial<Record<BadReason, number>>;
  readonly samples: readonly BadSample[];
}

export interface LanguageTable {
  readonly lang: string;
  /** Documents of this language. */
  readonly n: number;
  /** Terms joined by '\n' (a term never contains whitespace). */
  readonly terms: string;
  /** Document frequency of each term, in the order of `terms`. */
  readonly counts: Uint32Array;
}

export interface DrainResult {
  readonly kind: 'drain';
  readonly workerId: string;
  /** Every document this worker counted since it started: checked against the task results. */
  readonly counted: number;
  readonly tables: readonly LanguageTable[];
}

export type WorkerResult = AnalyzeResult | DrainResult;
