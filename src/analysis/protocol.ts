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
   * re-encoded, rather than in memory (null).
   */
  readonly recordDir: string | null;
  /**
   * Bytes per block of a worker's records (4 MB by default): the unit in which the encoding is
   * shared out between the workers (`EncodePlan`).
   */
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

export interface EncodeTask extends BarrierTask {
  readonly kind: 'encode';
  /**
   * Per worker id: local term id -> the term's global id within its language (views of one
   * SharedArrayBuffer, so that each task carries them without a copy). The worker whose
   * records hold the global ids already (`DrainResult.finalIds`) has none.
   */
  readonly maps: ReadonlyMap<string, Uint32Array>;
  /** Per worker id, what it encodes; a worker missing here encodes all of its own blocks. */
  readonly plans: ReadonlyMap<string, EncodePlan>;
  /** Where the worker posts its documents, as `EncodedDocuments` pieces. */
  readonly port: MessagePort;
  /**
   * One Int32: pieces the worker may still post before the job has taken them. The worker
   * takes one per piece and waits at 0; the job gives one back per piece it has stored.
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
  /**
   * Whether this worker's records hold the state's term ids already (`FullCounter`'s
   * `finalIds`): its table is the one the merge takes over, and its documents need no re-encoding.
   */
  readonly finalIds: boolean;
  readonly terms: WorkerTerms;
  /** Its records, which another worker may encode in part (`EncodeTask.plans`). */
  readonly blocks: RecordBlockList;
}

/** A worker's blocks of records as `FullCounter.blockList` describes them. */
export interface RecordBlockList {
  /** The file that holds them, end to end; null when they are in the worker's memory. */
  readonly path: string | null;
  /** Bytes per block. */
  readonly sizes: readonly number[];
  /** Documents per block. */
  readonly documents: readonly number[];
}

/** What one worker encodes (`EncodeTask.plans`). */
export interface EncodePlan {
  /** Its own blocks [0, ownBlocks); the blocks after them are in others' `foreign`. */
  readonly ownBlocks: number;
  /** Blocks of other workers' record files that it re-encodes in their stead. */
  readonly foreign: readonly ForeignBlocks[];
}

/** Blocks [first, end) of another worker's record file, with that worker's map and languages. */
export interface ForeignBlocks {
  /** The worker whose records they are: its map in `EncodeTask.maps`. */
  readonly owner: string;
  readonly path: string;
  readonly sizes: readonly number[];
  readonly documents: readonly number[];
  readonly first: number;
  readonly end: number;
  /** The owner's language names, by the index its records hold. */
  readonly langs: readonly string[];
}

/** One worker's documents with global term ids, as the state stores them. */
export interface EncodedDocuments {
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
