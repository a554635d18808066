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

export type RunPlan =
  | FullPlan
  | {
      readonly mode: 'delta';
      readonly store: DfStore;
      readonly from: Date;
      readonly generation: string;
    };

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

export async function planRun(
  stateDir: StateDir,
  config: Config,
  full: boolean,
  windowEnd: Date,
): Promise<RunPlan> {
  if (full) return { mode: 'full', reason: 'requested', warning: null };
  let current: Awaited<ReturnType<StateDir['current']>>;
  try {
    current = await stateDir.current();
  } catch (error) {
    return { mode: 'full', reason: 'stateUnreadable', warning: (error as Error).message };
  }
  if (current === null) return { mode: 'full', reason: 'noState', warning: null };
  let store: DfStore;
  try {
    store = await stateDir.openCurrent(current, {
      skipCheckWithinHours: config.state.integrityCheckHours,
      deferCheck: true,
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
    const from = new Date(checkpoint.windowEnd);
    if (windowEnd.getTime() < from.getTime()) {
      store.close();
      throw new ConfigError(
        `--until ${windowEnd.toISOString()} is before the checkpoint (${checkpoint.windowEnd}); use --full to recount up to an earlier time`,
      );
    }
    return { mode: 'delta', store, from, generation: current.generation };
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
