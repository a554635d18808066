/**
 * The state directory. Each full count builds a new generation (`gen-<runId>/state.sqlite`);
 * `CURRENT` names the live one and is replaced atomically, so a full count that dies half-way
 * leaves the previous generation in force. Delta runs change the current generation inside one
 * SQLite transaction. Generations other than the current one are leftovers of runs that died and
 * are removed; other files (checkpoint.json, the alerting memory) are left alone.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { DfStore, type OpenOptions } from './df-store.js';

const CURRENT = 'CURRENT';
const DB_FILE = 'state.sqlite';
const GENERATION = /^gen-[A-Za-z0-9-]+$/;

export class StateDirError extends Error {}

export interface CurrentState {
  readonly generation: string;
  readonly path: string;
}

export class StateDir {
  constructor(readonly dir: string) {}

  async ensure(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw new StateDirError(
        `cannot create the state directory ${this.dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** The generation `CURRENT` names, or null when there is none (or it names nothing valid). */
  async current(): Promise<CurrentState | null> {
    let name: string;
    try {
      name = (await readFile(join(this.dir, CURRENT), 'utf8')).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateDirError(
        `cannot read ${join(this.dir, CURRENT)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!GENERATION.test(name)) return null;
    return { generation: name, path: join(this.dir, name, DB_FILE) };
  }

  openCurrent(current: CurrentState, options: OpenOptions = {}): Promise<DfStore> {
    return DfStore.open(current.path, options);
  }

  /** A fresh generation for a full count; not in force until `promote`. */
  async createGeneration(
    runId: string,
  ): Promise<{ generation: string; store: DfStore; path: string }> {
    const generation = `gen-${runId}`;
    const dir = join(this.dir, generation);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const path = join(dir, DB_FILE);
    return { generation, store: DfStore.create(path), path };
  }

  /** Puts a closed generation in force, then removes every other one. */
  async promote(generation: string): Promise<void> {
    await writeFileAtomic(join(this.dir, CURRENT), `${generation}\n`);
    await this.removeLeftovers(generation);
  }

  /** Removes generations other than `keep` (half-built ones from runs that died). */
  async removeLeftovers(keep: string | null): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of entries) {
      if (GENERATION.test(name) && name !== keep) {
        await rm(join(this.dir, name), { recursive: true, force: true });
      }
    }
  }
}
