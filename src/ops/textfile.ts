/**
 * The node_exporter textfile. The collector may read the file at any moment, so it is replaced
 * by a rename of a complete temporary file (whose name does not end in `.prom`, so it is never
 * collected half-written). Like the Pushgateway push, a write either replaces the file's contents
 * (after a success) or carries over the families the new text does not declare (after any other
 * run): a failed run keeps the last success.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

interface Family {
  readonly name: string;
  readonly lines: string[];
}

/** Splits exposition text into families, by the metric name of each HELP, TYPE or sample line. */
export function parseFamilies(text: string): Family[] {
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const name = familyNameOf(line);
    if (name === null) continue;
    let family = byName.get(name);
    if (family === undefined) {
      family = { name, lines: [] };
      byName.set(name, family);
      families.push(family);
    }
    family.lines.push(line);
  }
  return families;
}

function familyNameOf(line: string): string | null {
  const meta = /^#\s+(?:HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (meta !== null) return meta[1] ?? null;
  if (line.startsWith('#')) return null;
  return /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1] ?? null;
}

/**
 * `current` plus the families of `previous` it does not declare, limited to `known` names so a
 * family this job no longer writes does not live on forever.
 */
export function mergeFamilies(
  previous: string,
  current: string,
  known: ReadonlySet<string>,
): string {
  const declared = new Set(parseFamilies(current).map((f) => f.name));
  const carried = parseFamilies(previous).filter((f) => known.has(f.name) && !declared.has(f.name));
  const body = current.endsWith('\n') || current === '' ? current : `${current}\n`;
  return body + carried.map((f) => `${f.lines.join('\n')}\n`).join('');
}

/**
 * Writes `current` atomically; with `carry`, merged with the families of those names that the
 * file held before.
 */
export async function writeTextfile(
  path: string,
  current: string,
  carry: ReadonlySet<string> | null,
): Promise<void> {
  if (carry === null) {
    await writeAtomically(path, current);
    return;
  }
  let previous = '';
  try {
    previous = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeAtomically(path, mergeFamilies(previous, current, carry));
}

/** Temp file in the same directory, fsync, rename: readers see the old file or the new one. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
