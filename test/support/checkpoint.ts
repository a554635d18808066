/** A full count's checkpoint for tests that build a state store by hand. */
import { STATE_SCHEMA_VERSION, type StoredCheckpoint } from '../../src/state/df-store.js';

export const fullCountCheckpoint: StoredCheckpoint = {
  schemaVersion: STATE_SCHEMA_VERSION,
  windowEnd: '2026-11-30T00:00:00.000Z',
  lastKey: null,
  analysisKey: 'test',
  runId: 'r1',
  mode: 'full',
  writtenAt: '2026-11-30T00:00:00.000Z',
};
