/**
 * `stopword-refresh rollback --to <version> | --previous`: puts a kept version live again in one
 * atomic swap, under the run lock so it cannot race a nightly run, and records it in the history.
 * Prints one JobResult-shaped JSON on stdout, whatever the outcome.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { ExitCode } from '../job/errors.js';
import { type ResultContract, round } from '../job/result.js';
import { newRunId } from '../job/run-job.js';
import {
  type LiveState,
  LockHeldError,
  type RedisPublisher,
  type RunLock,
  UnknownVersionError,
  type VersionInfo,
} from '../publish/index.js';
import { type CommandContext, printJson } from './shared.js';
import {
  addOpsOptions,
  errorMessage,
  loadOpsConfig,
  type OpsFlags,
  openPublisher,
} from './versions-command.js';

interface RollbackFlags extends OpsFlags {
  to?: number;
  previous?: boolean;
}

export interface RollbackLanguage {
  stopwords: number;
  added: number;
  removed: number;
}

/** The JobResult contract's first six keys, then what a rollback adds. */
export interface RollbackResult extends ResultContract {
  mode: 'rollback';
  dryRun: false;
  /** The version live when the command ended. */
  version: number | null;
  /** The version live before it; `null` when nothing was. */
  previousVersion: number | null;
  /** Whether the swap happened. */
  published: boolean;
  exitCode: number;
  /** Per language of either version: the words now live and how they differ from before. */
  languages: Record<string, RollbackLanguage>;
  /** Languages live before and gone now. */
  removedLanguages: string[];
  phases: Record<string, number>;
  warnings: string[];
}

/** A refusal worth its own exit code; the message is shown as it is. */
class RollbackRefused extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function parseVersion(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) {
    throw new InvalidArgumentError('expected a version number such as 12 (see "versions").');
  }
  return Number(value);
}

export function rollbackCommand(context: CommandContext): Command {
  return addOpsOptions(
    new Command('rollback').description(
      'put a kept version live again, atomically, and notify consumers on <prefix>:updates',
    ),
  )
    .option('--to <version>', 'the kept version to put live (see "versions")', parseVersion)
    .option('--previous', 'the newest kept version older than the live one')
    .addHelpText(
      'after',
      `
Give exactly one of --to and --previous.

Exit codes:
  0  the version is live
  1  the rollback failed; the live lists are unchanged
  2  usage or configuration error, or the version is not kept (the kept ones are listed)
  3  a run or another rollback holds the run lock; nothing was changed

stdout carries only the JSON result; the rollback is recorded in the run history (<prefix>:runs).`,
    )
    .action(async (flags: RollbackFlags) => {
      const result = await rollback(flags, context);
      if (!result.success)
        context.stderr(`stopword-refresh rollback: ${result.errors.join('; ')}\n`);
      printJson(context, result);
      context.setExitCode(result.exitCode);
    });
}

async function rollback(flags: RollbackFlags, context: CommandContext): Promise<RollbackResult> {
  const started = new Date();
  const startedMs = performance.now();
  const result: RollbackResult = {
    success: false,
    durationSeconds: 0,
    documentsProcessed: 0,
    stopwordsUpdated: 0,
    errors: [],
    timestamp: started.toISOString(),
    runId: newRunId(started),
    mode: 'rollback',
    dryRun: false,
    version: null,
    previousVersion: null,
    published: false,
    exitCode: ExitCode.failed,
    languages: {},
    removedLanguages: [],
    phases: {},
    warnings: [],
  };
  let publisher: RedisPublisher | null = null;
  let lock: RunLock | null = null;
  try {
    if ((flags.to === undefined) === (flags.previous !== true)) {
      throw new RollbackRefused(
        flags.to === undefined
          ? 'say which version to put live: pass --to <version> or --previous'
          : 'pass either --to <version> or --previous, not both',
        ExitCode.usage,
      );
    }
    const config = loadOpsConfig(flags, context.env);
    const active = await openPublisher(config, context.env);
    publisher = active;
    const connectedMs = performance.now();
    result.phases.connect = round((connectedMs - startedMs) / 1000);

    try {
      lock = await active.acquireLock({ runId: result.runId });
    } catch (error) {
      if (error instanceof LockHeldError) {
        throw new RollbackRefused(`${error.message}; nothing was changed`, ExitCode.locked);
      }
      throw error;
    }
    const before = await active.readLive();
    result.previousVersion = before.version;
    result.version = before.version;
    const target =
      flags.to ??
      previousVersion(await active.listVersions(), before.version, config.redis.keyPrefix);

    if (context.signal.aborted) throw new Error('interrupted by a signal before the swap');
    // A lock lost while reading (Redis lost its data, a stall past the TTL) means another run may
    // be publishing now: the swap's fencing would refuse the loser, but better not to race at all.
    await lock.assertHeld();
    const swapped = await active.rollback({ runId: result.runId, to: target });
    result.published = true;
    result.version = swapped.version;
    result.removedLanguages = swapped.removed;
    result.phases.rollback = round((performance.now() - connectedMs) / 1000);

    try {
      compare(before, await active.readLive(), result);
    } catch (error) {
      result.warnings.push(
        `version ${swapped.version} is live, but its lists could not be read back to count the changes: ${errorMessage(error)}`,
      );
    }
    result.success = true;
    result.exitCode = ExitCode.ok;
  } catch (error) {
    result.success = false;
    result.exitCode = exitCodeOf(error);
    result.errors.push(describeFailure(error, result.published));
  } finally {
    result.durationSeconds = round((performance.now() - startedMs) / 1000);
    if (
      publisher !== null &&
      result.exitCode !== ExitCode.usage &&
      result.exitCode !== ExitCode.locked
    ) {
      // History is for what changed or tried to; a refusal that touched nothing is not recorded.
      await publisher.recordRun(JSON.stringify(result)).catch((error: unknown) => {
        result.warnings.push(
          `the rollback could not be recorded in the history: ${errorMessage(error)}`,
        );
      });
    }
    if (lock !== null) {
      const held = lock;
      await held.release().catch((error: unknown) => {
        result.warnings.push(
          `the run lock could not be released (${errorMessage(error)}); it expires within ${Math.ceil(held.ttlMs / 1000)} s`,
        );
      });
    }
    await publisher?.close().catch(() => undefined);
  }
  return result;
}

/** The newest kept version below the live one. */
function previousVersion(
  versions: readonly VersionInfo[],
  live: number | null,
  prefix: string,
): number {
  const kept = versions.map((v) => v.version).sort((a, b) => a - b);
  if (live === null) {
    throw new RollbackRefused(
      `nothing is live under the key prefix ${prefix} yet, so there is no previous version`,
      ExitCode.usage,
    );
  }
  const older = kept.filter((version) => version < live);
  const previous = older[older.length - 1];
  if (previous === undefined) {
    throw new RollbackRefused(
      `no kept version is older than the live version ${live}; kept versions: ${kept.join(', ')}`,
      ExitCode.usage,
    );
  }
  return previous;
}

function compare(before: LiveState, after: LiveState, result: RollbackResult): void {
  let changed = 0;
  const languages = [...new Set([...before.lists.keys(), ...after.lists.keys()])].sort();
  for (const lang of languages) {
    const old = before.lists.get(lang) ?? new Map<string, string>();
    const now = after.lists.get(lang) ?? new Map<string, string>();
    let added = 0;
    for (const word of now.keys()) if (!old.has(word)) added++;
    let removed = 0;
    for (const word of old.keys()) if (!now.has(word)) removed++;
    result.languages[lang] = { stopwords: now.size, added, removed };
    changed += added + removed;
  }
  result.stopwordsUpdated = changed;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof RollbackRefused) return error.exitCode;
  if (error instanceof ConfigError || error instanceof UnknownVersionError) return ExitCode.usage;
  return ExitCode.failed;
}

function describeFailure(error: unknown, swapped: boolean): string {
  if (error instanceof UnknownVersionError) {
    return `${error.message} (see "stopword-refresh versions"); nothing was changed`;
  }
  if (error instanceof RollbackRefused || error instanceof ConfigError) return error.message;
  return swapped
    ? `rollback: ${errorMessage(error)}`
    : `rollback failed: ${errorMessage(error)}; the live lists are unchanged`;
}
