/**
 * Error classes with their exit codes. Callers use `instanceof`, never message matching.
 * Messages must be safe to show: no credentials, no document text.
 */
export const ExitCode = {
  /** Success, also when nothing changed. */
  ok: 0,
  /** The run failed; live lists, state and checkpoint are unchanged. */
  failed: 1,
  /** Usage or configuration error; nothing was read or written. */
  usage: 2,
  /** Another run holds the lock; this one did nothing. */
  locked: 3,
  /** A guardrail refused the new lists; live lists and state are unchanged. */
  guardrail: 4,
  /** The run passed maxDurationSeconds and was stopped; nothing was published. */
  deadline: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class StopwordRefreshError extends Error {
  readonly exitCode: number = ExitCode.failed;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration, flags or environment: exit 2, nothing was touched. */
import { ConfigError } from '../config/errors.js';

export { ConfigError };

/** The corpus could not be read, or too much of it was bad. */
export class SourceError extends StopwordRefreshError {}

/** The checkpoint or DF state could not be read or written. */
export class StateError extends StopwordRefreshError {}

/** Redis could not be read or written, or the swap was refused. */
export class PublishError extends StopwordRefreshError {}

/** Another run holds the lock, or this run lost it. */
export class LockError extends StopwordRefreshError {}

/** A guardrail refused the new lists. */
export class GuardrailError extends StopwordRefreshError {
  override readonly exitCode: number = ExitCode.guardrail;
}

/** The analysis pool failed. */
export class AnalysisError extends StopwordRefreshError {}

/** The run passed maxDurationSeconds and was stopped before publishing. */
export class DeadlineError extends StopwordRefreshError {
  override readonly exitCode: number = ExitCode.deadline;
}

/** The run was interrupted by a signal. */
export class InterruptedError extends StopwordRefreshError {}

/** What a failed run reports: a message safe to show and its exit code. */
export interface Failure {
  readonly name: string;
  readonly message: string;
  readonly exitCode: number;
}

export function toFailure(error: unknown): Failure {
  if (error instanceof StopwordRefreshError || error instanceof ConfigError) {
    return { name: error.name, message: error.message, exitCode: error.exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'Error', message: `unexpected failure: ${message}`, exitCode: ExitCode.failed };
}
