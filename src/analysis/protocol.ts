/**
 * Messages between the job and the analysis workers. A corpus file is handed out as byte ranges
 * the workers read themselves; other chunks travel as transferred buffers, and term tables come
 * back as transferred typed arrays (the terms' characters in one arena), so neither direction
 * pays for structured cloning of many small objects.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FieldNames } from '../config/types.js';
import type { BadReason } from './document.js';
import type { SharedTerms } from './term-table.js';

export interface WorkerSettings {
  readonly fields: FieldNames;
  readonly maxDocumentBytes: number;
  /**
   * `full`: count every live document changed before the window end into the worker's tables.
   * `delta`: return the documents changed inside the window, for the job to apply to the state.
   */
  readonly mode: 'full' | 'delta';
  /** Full mode: keep each document's terms and their frequencies so the counts can be stored. */
  readonly keepRecords: boolean;
  /**
   * With `keepRecords`: a directory where each worker keeps its records in a file until they are
   * handed on, rather than in memory (null).
   */
  readonly recordDir: string | null;
  /** Bytes per block of a worker's records (4 MB by default), which it writes and reads whole. */
  readonly recordBlockBytes?: number;
  /** Delta mode: documents changed before this instant were applied by an earlier run. */
  readonly windowStartMs: number | null;
  /** Documents with `updatedAt` at or after this instant belong to a later run. */
  readonly windowEndMs: number;
  /** Detect the language of documents whose language field is missing or malformed. */
  readonly detectLanguage: boolean;
  /** BCP-47 tags counted as languages of their own rather than under their primary subtag. */
  readonly languageVariants: readonly string[];
  /**
   * Delta mode: the state's terms as the run found them, shared read-only, so that workers
   * report a changed document's known terms by id (null: every term as a string).
   */
  readonly dictionary?: readonly SharedTerms[] | null;
}

export type AnalyzeTask =
  | {
      readonly kind: 'analyze';
      /** `ndjson`: whole UTF-8 lines ending at a line boundary; `bson`: whole BSON documents. */
      readonly format: 'ndjson' | 'bson';
      /** Transferred to the worker. */
      readonly chunk: Uint8Array;
    }
  | {
      readonly kind: 'analyze';
      /** The NDJSON lines that start in a range of the corpus file, read by the worker. */
      readonly format: 'range';
      /** As corpus/ndjson-range.ts's `LineRange` describes it (analysis may not import it). */
      readonly range: {
        readonly fd: number;
        readonly start: number;
        readonly end: number;
        readonly size: number;
        readonly maxLineBytes: number;
      };
    };

interface BarrierTask {
  /** One Int32 counter; every worker waits on it so that each takes exactly one such task. */
  readonly barrier: SharedArrayBuffer;
  readonly workers: number;
  readonly timeoutMs: number;
}

export interface DrainTask extends BarrierTask {
  readonly kind: 'drain';
}

/**
 * The run's settings, given to each worker once, before any other task: the workers are started
 * before the run knows them (whether it is a delta, the state's dictionary), so that they load
 * while the job connects and reads its state.
 */
export interface ConfigureTask extends BarrierTask {
  readonly kind: 'configure';
  readonly settings: WorkerSettings;
}

/** Nothing to do: holding every worker at the barrier proves that all of them have started. */
export interface ReadyTask extends BarrierTask {
  readonly kind: 'ready';
}

/** Each worker hands its documents on as the state stores them (`EncodedDocuments`). */
export interface EncodeTask extends BarrierTask {
  readonly kind: 'encode';
  /**
   * Per worker id, the number of its numbering (`EncodedDocuments.numbering`): 0 for the worker
   * whose ids are the global ones, 1, 2, … for the others.
   */
  readonly numberings: ReadonlyMap<string, number>;
  /** Where the worker posts its documents, as `EncodedDocuments` pieces. */
  readonly port: MessagePort;
  /**
   * One Int32: pieces the worker may still post before they have been taken. The worker takes
   * one per piece and waits at 0; the receiver (the job, or its document writer) gives one back
   * per piece it has stored.
   */
  readonly credits: SharedArrayBuffer;
  /** Bytes of encoded records per piece. */
  readonly pieceBytes: number;
}

export type WorkerTask = ConfigureTask | AnalyzeTask | DrainTask | EncodeTask | ReadyTask;

export interface BadSample {
  /** 1-based line within the chunk. */
  readonly line: number;
  readonly reason: BadReason;
  readonly id: string | null;
}

export interface ChangedDocument {
  readonly id: string;
  readonly lang: string;
  readonly updatedAtMs: number;
  readonly deleted: boolean;
  /** Distinct terms the shared dictionary holds, as pairs (id, occurrences), ascending by id. */
  readonly known: Uint32Array;
  /** The other distinct terms (empty for a tombstone). */
  readonly terms: string[];
  /** Occurrences of `terms[i]` in the document, at least 1. */
  readonly tfs: Uint32Array;
}

export interface AnalyzeResult {
  readonly kind: 'analyze';
  readonly workerId: string;
  readonly lines: number;
  /** Live documents counted (full) or changed (delta). */
  readonly counted: number;
  /** Tombstoned documents: left out of a full count, subtracted by a delta. */
  readonly deleted: number;
  /** Documents changed at or after the window end. */
  readonly outsideWindow: number;
  /** Delta mode: documents changed before the window, already applied. */
  readonly beforeWindow: number;
  /** Documents whose language was detected from their text. */
  readonly languagesDetected: number;
  readonly bad: Partial<Record<BadReason, number>>;
  readonly samples: readonly BadSample[];
  /** Delta mode: the changed documents, live and deleted. */
  readonly changes: readonly ChangedDocument[];
}

/**
 * A `CountingTable`'s memory as a worker hands it to the merge (`CountingTable.handOver`), its
 * two arrays transferred, not copied: slots of stride 2, [key, record position + 1], and the
 * records end to end in id order in `heap[0, top)`.
 */
export interface CountedTerms {
  readonly slots: Int32Array;
  readonly heap: Int32Array;
  readonly top: number;
  /** Terms, ids dense from 0 in first-seen order (all languages together). */
  readonly size: number;
  /** Per id, the part of the collection frequency past 2^32, for the few terms that have one. */
  readonly cfHigh: ReadonlyMap<number, number>;
  /** Terms per language index: each language's ids run from 0 to its count, in first-seen order. */
  readonly languageSizes: readonly number[];
}

/** One worker's terms with their counts, and the languages its records' indices name. */
export interface WorkerTerms extends CountedTerms {
  /** Language names by the worker's language index. */
  readonly langs: readonly string[];
  /** Documents counted per language index. */
  readonly documents: Float64Array;
}

export interface DrainResult {
  readonly kind: 'drain';
  readonly workerId: string;
  /** Every document this worker counted since it started: checked against the task results. */
  readonly counted: number;
  readonly terms: WorkerTerms;
}

/**
 * One worker's documents as the state stores them: each one's term record holds the worker's
 * own ids within the document's language, which `numbering` maps to the global ids (0: they
 * are the global ids).
 */
export interface EncodedDocuments {
  readonly numbering: number;
  readonly ids: string[];
  readonly langs: string[];
  readonly langOf: Uint16Array;
  readonly updatedAt: Float64Array;
  readonly records: Uint8Array;
  readonly ends: Uint32Array;
}

/** The end of a worker's encode task: what it posted on the task's port. */
export interface EncodeResult {
  readonly kind: 'encode';
  readonly workerId: string;
  readonly documents: number;
  readonly pieces: number;
}

export type WorkerResult = AnalyzeResult | DrainResult | EncodeResult;
