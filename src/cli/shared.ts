/**
 * What every command receives from the entry point, and the JSON printing they share.
 */
import { toFailure } from '../job/errors.js';
import type { JobResult } from '../job/result.js';
import { emptyResult, newRunId } from '../job/run-job.js';

export interface CommandContext {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
}

export function printJson(context: CommandContext, value: unknown): void {
  context.stdout(`${JSON.stringify(value)}\n`);
}

/** A JobResult for a run that failed before it started (bad configuration). */
export function failureResult(error: unknown, started: Date, dryRun: boolean): JobResult {
  const failure = toFailure(error);
  const result = emptyResult(newRunId(started), started, dryRun);
  result.errors.push(failure.message);
  result.exitCode = failure.exitCode;
  return result;
}
