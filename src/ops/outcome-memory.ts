/**
 * What the last reported run left behind, so that the first success after a failure can send a
 * recovery notice. A small JSON file; losing it only costs one recovery notice.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeAtomically } from './textfile.js';

export const MEMORY_FILE = 'ops-last-outcome.json';

export interface OutcomeMemory {
  readonly schemaVersion: 1;
  /** True after an alerted failure, until a run succeeds. */
  readonly failing: boolean;
  /** Start of the first failed run in the current streak. */
  readonly failingSince: string | null;
  /** Failed runs in the current streak. */
  readonly failedRuns: number;
  readonly lastRunId: string;
  readonly lastOutcome: string;
  readonly updatedAt: string;
}

/** The memory file for a state directory. */
export function memoryPath(stateDir: string): string {
  return join(stateDir, MEMORY_FILE);
}

/** Null when there is none or it cannot be read; a corrupt file is treated as none. */
export async function readMemory(path: string): Promise<OutcomeMemory | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as Partial<OutcomeMemory> | null;
    if (
      value === null ||
      value.schemaVersion !== 1 ||
      typeof value.failing !== 'boolean' ||
      typeof value.failedRuns !== 'number'
    ) {
      return null;
    }
    return value as OutcomeMemory;
  } catch {
    return null;
  }
}

export async function writeMemory(path: string, memory: OutcomeMemory): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, `${JSON.stringify(memory, null, 2)}\n`);
}
