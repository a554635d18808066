/**
 * What reporting needs of a finished run. A structural subset of the JobResult (DESIGN §7), so
 * that ops stays below the job layer and any JobResult can be passed as it is.
 */
export interface LanguageReport {
  readonly documents: number;
  readonly stopwords: number;
  readonly added: number;
  readonly removed: number;
  readonly published: boolean;
}

export interface RunReport {
  readonly success: boolean;
  readonly durationSeconds: number;
  readonly documentsProcessed: number;
  readonly stopwordsUpdated: number;
  readonly errors: readonly string[];
  /** When the run started (ISO 8601). */
  readonly timestamp: string;
  readonly runId: string;
  readonly mode: string;
  readonly dryRun: boolean;
  readonly version: number | null;
  readonly published: boolean;
  readonly exitCode: number;
  readonly window: { readonly from: string | null; readonly to: string | null };
  readonly languages: Readonly<Record<string, LanguageReport>>;
  readonly phases: Readonly<Record<string, number>>;
}

/**
 * The exit codes of `src/job/errors.ts`, repeated because ops may not import the job layer;
 * a unit test keeps the two in step.
 */
export const REPORTED_EXIT_CODES = {
  ok: 0,
  locked: 3,
  guardrail: 4,
  deadline: 5,
} as const;

/** How a run ended, as far as metrics and alerts care. */
export type Outcome = 'success' | 'failure' | 'guardrail' | 'deadline' | 'locked';

export function outcomeOf(report: Pick<RunReport, 'success' | 'exitCode'>): Outcome {
  if (report.success && report.exitCode === REPORTED_EXIT_CODES.ok) return 'success';
  switch (report.exitCode) {
    case REPORTED_EXIT_CODES.locked:
      return 'locked';
    case REPORTED_EXIT_CODES.guardrail:
      return 'guardrail';
    case REPORTED_EXIT_CODES.deadline:
      return 'deadline';
    default:
      // Exit 2 from a run (a reference resolved at use time, say) is as broken as exit 1 at 2 a.m.
      return 'failure';
  }
}
