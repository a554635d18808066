/**
 * A run plans from its state while it connects, before it holds the run lock: the plan must be
 * found stale when another run committed in between (a delta's checkpoint, or a full count's new
 * generation), and a window that ends before a delta's checkpoint is refused with its store
 * closed.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTermCounts } from '../../src/analysis/term-ids.js';
import { lengthPrefixed } from '../../src/analysis/term-table.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/job/errors.js';
import {
  analysisKey,
  checkWindow,
  type DeltaPlan,
  planRun,
  stillCurrent,
} from '../../src/job/state-plan.js';
import { DfStore } from '../../src/state/df-store.js';
import { StateDir } from '../../src/state/state-dir.js';
import { fullCountCheckpoint } from '../support/checkpoint.js';

let dir: string;
let config: Config;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-plan-'));
  config = loadConfig({ env: {} });
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A state directory whose generation `generation` holds a full count made by run `runId`. */
async function stateWith(name: string, generation: string, runId: string): Promise<StateDir> {
  const root = join(dir, name);
  await mkdir(join(root, generation), { recursive: true });
  const store = DfStore.create(join(root, generation, 'state.sqlite'));
  store.loadLanguage('en', 1, lengthPrefixed(['the', 'cat']), [1, 1], [2, 1]);
  const record = encodeTermCounts([0, 1], [2, 1]);
  store.loadDocuments(
    ['a'],
    ['en'],
    new Uint16Array([0]),
    new Float64Array([100]),
    record,
    new Uint32Array([record.length]),
    0,
  );
  store.finishLoad({ ...fullCountCheckpoint, analysisKey: analysisKey(config), runId });
  store.close();
  await writeFile(join(root, 'CURRENT'), `${generation}\n`);
  return new StateDir(root);
}

async function deltaPlan(state: StateDir): Promise<DeltaPlan> {
  const plan = await planRun(state, config, false);
  if (plan.mode !== 'delta') throw new Error(`planned ${plan.mode}: ${plan.reason}`);
  await plan.store.verified;
  return plan;
}

describe('a plan made before the run lock', () => {
  it('is current until another run commits a delta to the state', async () => {
    const state = await stateWith('delta', 'gen-a', 'run-a');
    const plan = await deltaPlan(state);
    expect(plan.checkpointRunId).toBe('run-a');
    expect(await stillCurrent(state, plan)).toBe(true);
    // Another run, holding the lock this one has not yet taken, commits a night's changes.
    const other = await DfStore.open(join(state.dir, 'gen-a', 'state.sqlite'));
    const transaction = other.begin();
    transaction.apply({
      id: 'b',
      updatedAtMs: 200,
      deleted: false,
      lang: 'en',
      terms: ['dog'],
      tfs: [1],
    });
    transaction.writeCheckpoint({
      ...fullCountCheckpoint,
      analysisKey: analysisKey(config),
      runId: 'run-b',
      mode: 'delta',
    });
    transaction.commit();
    other.close();
    expect(await stillCurrent(state, plan)).toBe(false);
    plan.store.close();
    // Planned again, it starts from the new checkpoint.
    const again = await deltaPlan(state);
    expect(again.checkpointRunId).toBe('run-b');
    expect(await stillCurrent(state, again)).toBe(true);
    again.store.close();
  });

  it('is stale once a full count has put another generation in force, or none is left', async () => {
    const state = await stateWith('generation', 'gen-a', 'run-a');
    const plan = await deltaPlan(state);
    await writeFile(join(state.dir, 'CURRENT'), 'gen-b\n');
    expect(await stillCurrent(state, plan)).toBe(false);
    plan.store.close();

    const empty = new StateDir(join(dir, 'empty'));
    const full = await planRun(empty, config, false);
    expect(full).toMatchObject({ mode: 'full', reason: 'noState' });
    expect(await stillCurrent(empty, full)).toBe(true);
    // A state that appeared meanwhile makes a plan for none stale too.
    await stateWith('empty', 'gen-c', 'run-c');
    expect(await stillCurrent(empty, full)).toBe(false);
    // A recount on request depends on no state.
    const requested = await planRun(empty, config, true);
    expect(await stillCurrent(empty, requested)).toBe(true);
  });

  it('is made again under the lock when it found the state unreadable or unusable', async () => {
    // Read while another run writes the state, a database can be locked (SQLite's busy wait ends
    // in an error) or a dictionary gone: a full count decided then is not trusted.
    const state = await stateWith('unreadable', 'gen-a', 'run-a');
    const generation = join(state.dir, 'gen-a');
    const named = (await readdir(generation)).find((name) => name.startsWith('dictionary-'))!;
    const bytes = await readFile(join(generation, named));
    await writeFile(join(generation, named), bytes.subarray(0, 20));
    const plan = await planRun(state, config, false);
    expect(plan).toMatchObject({ mode: 'full', reason: 'stateUnreadable' });
    expect(await stillCurrent(state, plan)).toBe(false);
    // The same holds for a state counted by another analyzer, or without a checkpoint.
    const other = {
      ...config,
      source: { ...config.source, fields: { ...config.source.fields, text: ['title'] } },
    };
    await writeFile(join(generation, named), bytes);
    const changed = await planRun(state, other, false);
    expect(changed).toMatchObject({ mode: 'full', reason: 'analyzerChanged' });
    expect(await stillCurrent(state, changed)).toBe(false);
    // Read again, the state gives a delta.
    const again = await deltaPlan(state);
    expect(await stillCurrent(state, again)).toBe(true);
    again.store.close();
  });

  it('refuses a window that ends before the checkpoint, and closes its store', async () => {
    const state = await stateWith('window', 'gen-a', 'run-a');
    const plan = await deltaPlan(state);
    const from = new Date(fullCountCheckpoint.windowEnd);
    checkWindow(plan, from);
    expect(() => checkWindow(plan, new Date(from.getTime() - 1))).toThrow(ConfigError);
    expect(() => checkWindow(plan, new Date(from.getTime() - 1))).toThrow(
      /--until 2026-11-29T23:59:59.999Z is before the checkpoint \(2026-11-30T00:00:00.000Z\)/,
    );
    expect(() => plan.store.readCheckpoint()).toThrow(/not open/);
  });
});
