/**
 * What every command receives from the entry point, and the JSON printing they share.
 */
import { randomBytes } from 'node:crypto';
import { ANALYZER_VERSION } from '../analysis/tokenizer.js';
import { toFailure } from '../job/errors.js';
import type { JobResult } from '../job/result.js';

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
  return {
    success: false,
    durationSeconds: 0,
    documentsProcessed: 0,
    stopwordsUpdated: 0,
    errors: [failure.message],
    timestamp: started.toISOString(),
    runId: `${started
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`,
    mode: 'full',
    dryRun,
    version: null,
    published: false,
    exitCode: failure.exitCode,
    analyzerVersion: ANALYZER_VERSION,
    window: { from: null, to: null },
    languages: {},
    phases: {},
    documents: {
      read: 0,
      counted: 0,
      deleted: 0,
      outsideWindow: 0,
      rejected: 0,
      bad: {},
      badSamples: [],
    },
    warnings: [],
  };
}
