/**
 * The JobResult printed on stdout (DESIGN §7). The first six keys are a fixed contract.
 */
import type { BadReason } from '../analysis/document.js';
import type { BadDocumentSample } from './analysis-pool.js';

export interface LanguageResult {
  documents: number;
  stopwords: number;
  added: number;
  removed: number;
  published: boolean;
  skipped?: string;
}

export interface DocumentsResult {
  /** Lines of the source (NDJSON) or documents returned by the query. */
  read: number;
  /** Live documents counted into the document frequencies. */
  counted: number;
  deleted: number;
  /** Changed at or after the window end: left for the next run. */
  outsideWindow: number;
  /** Delta runs: documents changed before the window, applied by earlier runs. */
  beforeWindow?: number;
  /** With analysis.detectLanguage on: documents whose language was detected from their text. */
  languagesDetected?: number;
  /** Documents skipped as bad (language problems are kept under `und` and not included). */
  rejected: number;
  bad: Partial<Record<BadReason, number>>;
  /** The first bad document of each reason, by line. */
  badSamples: BadDocumentSample[];
}

/** The keys every result on stdout starts with: the fixed contract's six, and the run id. */
export interface ResultContract {
  success: boolean;
  durationSeconds: number;
  documentsProcessed: number;
  stopwordsUpdated: number;
  errors: string[];
  timestamp: string;
  runId: string;
}

export interface JobResult extends ResultContract {
  mode: 'delta' | 'full';
  /**
   * Why a run counted the whole corpus: requested, noState, stateUnreadable, schemaChanged,
   * analyzerChanged, …
   */
  modeReason?: string;
  dryRun: boolean;
  version: number | null;
  published: boolean;
  exitCode: number;
  analyzerVersion: string;
  window: { from: string | null; to: string | null };
  languages: Record<string, LanguageResult>;
  phases: Record<string, number>;
  documents: DocumentsResult;
  warnings: string[];
  /** What the guardrails objected to (also when overridden by --force or in a dry run). */
  guardrails?: string[];
  /** What the run did to the stored document frequencies. */
  state?: Record<string, number>;
  /** Only in a dry run: the lists that would be published, word -> confidence. */
  stopwords?: Record<string, Record<string, string>>;
}

export function round(seconds: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(seconds * f) / f;
}
