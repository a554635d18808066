/**
 * Configuration errors. Defined here rather than in `src/job` because the config layer sits below
 * every other layer and must not import from them; `src/job/errors.ts` re-exports this class.
 */

/** Exit code for usage and configuration errors (the CLI contract: 2). */
export const CONFIG_ERROR_EXIT_CODE = 2;

/** Bad configuration, flags or environment: nothing was touched. */
export class ConfigError extends Error {
  readonly exitCode: number = CONFIG_ERROR_EXIT_CODE;
  /** Every problem found, each starting with the path of the field (or the file name). */
  readonly problems: readonly string[];
  /** The configuration file involved, when there was one. */
  readonly file: string | null;

  constructor(
    problems: readonly string[] | string,
    options?: { cause?: unknown; file?: string | null },
  ) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    const file = options?.file ?? null;
    super(
      formatMessage(list, file),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ConfigError';
    this.problems = Object.freeze(list);
    this.file = file;
  }
}

function formatMessage(problems: readonly string[], file: string | null): string {
  const where = file === null ? '' : ` in ${file}`;
  if (problems.length === 0) return `invalid configuration${where}`;
  if (problems.length === 1 && file === null) return problems[0] ?? 'invalid configuration';
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return `invalid configuration${where} (${problems.length} ${noun}):\n  - ${problems.join('\n  - ')}`;
}
