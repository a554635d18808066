/**
 * Decides whether a run applies a delta to the stored state or recounts the whole corpus, and
 * from where its window starts. The state is a cache of corpus statistics: when it is missing,
 * unreadable, was built by another analyzer or under another state schema, the answer is a full
 * recount, never a guess.
 */
import { ANALYZER_VERSION } from '../analysis/tokenizer.js';
import type { Config } from '../config/types.js';
import {
  CheckpointCorruptError,
  type DfStore,
  StateCorruptError,
  StateSchemaError,
} from '../state/df-store.js';
import type { StateDir } from '../state/state-dir.js';
import type { TermDictionary } from '../state/term-dictionary.js';
import { ConfigError, StateError } from './errors.js';

export type FullReason =
  | 'requested'
  | 'noState'
  | 'noCheckpoint'
  | 'stateUnreadable'
  | 'schemaChanged'
  | 'checkpointCorrupt'
  | 'analyzerChanged';

export interface FullPlan {
  readonly mode: 'full';
  readonly reason: FullReason;
  readonly warning: string | null;
}

export interface DeltaPlan {
  readonly mode: 'delta';
  readonly store: DfStore;
  readonly from: Date;
  readonly generation: string;
  /** The run that wrote the checkpoint the plan starts from. */
  readonly checkpointRunId: string;
}

export type RunPlan = FullPlan | DeltaPlan;

export interface PlanOptions {
  /** How the state's term dictionary is read (`OpenOptions.readDictionary`). */
  readonly readDictionary?: (path: string) => Promise<TermDictionary>;
  /**
   * When the integrity check may start (`OpenOptions.checkAfter`); default at once. A dry run,
   * which takes no lock, waits until it has connected.
   */
  readonly checkAfter?: Promise<unknown>;
}

/**
 * What the stored counts depend on besides the corpus: the analyzer and the fields it reads.
 * A change of either makes the stored counts incomparable, so it forces a recount.
 */
export function analysisKey(config: Config): string {
  const { lang, text } = config.source.fields;
  const detect = config.analysis.detectLanguage === 'on' ? ';detect=eld-2.1.0-small' : '';
  const { languageVariants } = config.analysis;
  const variants = languageVariants.length === 0 ? '' : `;variants=${languageVariants.join(',')}`;
  return `${ANALYZER_VERSION};lang=${lang};text=${text.join(',')}${detect}${variants}`;
}

/**
 * Reads the state and decides. It writes nothing, so a run may plan before it holds the run
 * lock, beside its connection to Redis (under the state directory's lock, `StateLock`), and
 * check afterwards that no other run committed in between (`stillCurrent`): the guard for a
 * directory whose locks do not hold. The window's end is checked against the plan by
 * `checkWindow`.
 */
export async function planRun(
  stateDir: StateDir,
  config: Config,
  full: boolean,
  options: PlanOptions = {},
): Promise<RunPlan> {
  if (full) return { mode: 'full', reason: 'requested', warning: null };
  let current: Awaited<ReturnType<StateDir['current']>>;
  try {
    current = await stateDir.current();
  } catch (error) {
    return { mode: 'full', reason: 'stateUnreadable', warning: (error as Error).message };
  }
  if (current === null) return { mode: 'full', reason: 'noState', warning: null };
  const generation = current.generation;
  let store: DfStore;
  try {
    store = await stateDir.openCurrent(current, {
      skipCheckWithinHours: config.state.integrityCheckHours,
      deferCheck: true,
      ...(options.readDictionary === undefined ? {} : { readDictionary: options.readDictionary }),
      ...(options.checkAfter === undefined ? {} : { checkAfter: options.checkAfter }),
    });
  } catch (error) {
    // Written by another version of the job (the stored counts differ in kind, not in value).
    if (error instanceof StateSchemaError) {
      return {
        mode: 'full',
        reason: 'schemaChanged',
        warning: `${error.message}; recounting in full`,
      };
    }
    if (error instanceof StateCorruptError) {
      return {
        mode: 'full',
        reason: 'stateUnreadable',
        warning: `${error.message}; recounting in full`,
      };
    }
    throw error;
  }
  try {
    const checkpoint = store.readCheckpoint();
    if (checkpoint === null) {
      store.close();
      return { mode: 'full', reason: 'noCheckpoint', warning: null };
    }
    if (checkpoint.analysisKey !== analysisKey(config)) {
      store.close();
      return { mode: 'full', reason: 'analyzerChanged', warning: null };
    }
    return {
      mode: 'delta',
      store,
      from: new Date(checkpoint.windowEnd),
      generation,
      checkpointRunId: checkpoint.runId,
    };
  } catch (error) {
    if (error instanceof CheckpointCorruptError) {
      store.close();
      if (config.state.onCorruptCheckpoint === 'recount') {
        return {
          mode: 'full',
          reason: 'checkpointCorrupt',
          warning: `${error.message}; recounting in full`,
        };
      }
      throw new StateError(
        `${error.message} (${current.path}); run with --full to recount, or set state.onCorruptCheckpoint: recount`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Whether a plan made before the run lock was held still describes the state: the same
 * generation in force and, for a delta, the same checkpoint (every run that commits writes its
 * own). A run that committed in between makes the plan stale; the caller plans again. A full
 * count is kept only when it was asked for, or when there was no state and still is none: any
 * other reason was read from a state that another run, holding the lock, may have been writing
 * (a read that timed out on that run's database lock looks unreadable), and is read again.
 */
export async function stillCurrent(stateDir: StateDir, plan: RunPlan): Promise<boolean> {
  if (plan.mode === 'full' && plan.reason === 'requested') return true;
  if (plan.mode === 'full' && plan.reason !== 'noState') return false;
  let current: Awaited<ReturnType<StateDir['current']>>;
  try {
    current = await stateDir.current();
  } catch {
    return false;
  }
  if (plan.mode === 'full') return current === null;
  if (current?.generation !== plan.generation) return false;
  try {
    return plan.store.readCheckpoint()?.runId === plan.checkpointRunId;
  } catch {
    return false;
  }
}

/**
 * Refuses a window that ends before a delta plan's checkpoint (closing its store): the state
 * already holds later changes, and only a full count can go back.
 */
export function checkWindow(plan: RunPlan, windowEnd: Date): void {
  if (plan.mode !== 'delta' || windowEnd.getTime() >= plan.from.getTime()) return;
  plan.store.close();
  throw new ConfigError(
    `--until ${windowEnd.toISOString()} is before the checkpoint (${plan.from.toISOString()}); use --full to recount up to an earlier time`,
  );
}
