/**
 * The checkpoint: where the last successful run's window ended, and with which analyzer.
 * Written only after a successful publish, atomically.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

export const CHECKPOINT_SCHEMA_VERSION = 1;
export const CHECKPOINT_FILE = 'checkpoint.json';

export interface Checkpoint {
  readonly schemaVersion: number;
  /** End of the last completed window (exclusive), ISO 8601. */
  readonly windowEnd: string;
  readonly runId: string;
  readonly analyzerVersion: string;
  readonly mode: 'delta' | 'full';
  readonly writtenAt: string;
}

export class CheckpointError extends Error {}

export async function readCheckpoint(dir: string): Promise<Checkpoint | null> {
  const path = join(dir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`checkpoint ${path} is not valid JSON`, { cause: error });
  }
  const record = value as Partial<Checkpoint> | null;
  if (
    record === null ||
    typeof record !== 'object' ||
    record.schemaVersion !== CHECKPOINT_SCHEMA_VERSION ||
    typeof record.windowEnd !== 'string' ||
    !Number.isFinite(Date.parse(record.windowEnd)) ||
    typeof record.runId !== 'string' ||
    typeof record.analyzerVersion !== 'string'
  ) {
    throw new CheckpointError(`checkpoint ${path} is malformed or of an unknown schema version`);
  }
  return record as Checkpoint;
}

export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, CHECKPOINT_FILE), `${JSON.stringify(checkpoint, null, 2)}\n`);
}
