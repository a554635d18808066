/**
 * What a run left behind, read back for comparison: the stored document and collection
 * frequencies of a state directory and the live lists of a key prefix.
 */
import type { createClient } from 'redis';
import { fromDist } from './dist.js';

const { StateDir } =
  await fromDist<typeof import('../../src/state/state-dir.js')>('state/state-dir.js');

export type Tables = Record<
  string,
  { n: number; df: Record<string, number>; cf: Record<string, number> }
>;

/** N and every non-zero document frequency and collection frequency per language, in a stable order. */
export async function stateTables(stateDir: string): Promise<Tables> {
  const state = new StateDir(stateDir);
  const current = await state.current();
  if (current === null) throw new Error(`no state in ${stateDir}`);
  const store = await state.openCurrent(current);
  try {
    const out: Tables = {};
    for (const [lang, t] of store.exportTables())
      out[lang] = {
        n: t.n,
        df: Object.fromEntries([...t.df].sort()),
        cf: Object.fromEntries([...t.cf].sort()),
      };
    return out;
  } finally {
    store.close();
  }
}

/** Every live list named by the prefix's meta. */
export async function liveLists(
  client: ReturnType<typeof createClient>,
  prefix: string,
): Promise<Record<string, Record<string, string>>> {
  const meta = await client.hGetAll(`${prefix}:meta`);
  const out: Record<string, Record<string, string>> = {};
  for (const lang of JSON.parse(meta.languages ?? '[]') as string[]) {
    out[lang] = await client.hGetAll(`${prefix}:${lang}`);
  }
  return out;
}
