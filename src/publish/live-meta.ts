/**
 * `P:meta` alone: what is live and how it got there, without reading the lists. `status` needs
 * only this, and reading every list would cost a status call as much as a run's first read.
 */
import type { RedisConnection } from './connection.js';
import type { PublishKeys } from './keys.js';
import { pairsToMap, parseCounts, parseInteger, parseLanguages } from './meta-fields.js';

export interface LiveMeta {
  /** `null` before the first publish. */
  version: number | null;
  /** Fencing token of the swap that put the live version there; 0 before the first swap. */
  fence: number;
  /** When the live version was first published, and by which run. */
  publishedAt: string | null;
  runId: string | null;
  /** When the live version was put live, and by which run (or rollback): differ after a rollback. */
  swappedAt: string | null;
  swapRunId: string | null;
  analyzerVersion: string | null;
  languages: string[];
  counts: Record<string, number>;
}

export async function readLiveMeta(conn: RedisConnection, keys: PublishKeys): Promise<LiveMeta> {
  const meta = pairsToMap(await conn.command(['HGETALL', keys.meta]), keys.meta);
  return {
    version: parseInteger(meta.get('version'), keys.meta, 'version'),
    fence: parseInteger(meta.get('fence'), keys.meta, 'fence') ?? 0,
    publishedAt: meta.get('publishedAt') ?? null,
    runId: meta.get('runId') ?? null,
    swappedAt: meta.get('swappedAt') ?? null,
    swapRunId: meta.get('swapRunId') ?? null,
    analyzerVersion: meta.get('analyzerVersion') ?? null,
    languages: parseLanguages(meta.get('languages'), keys.meta),
    counts: parseCounts(meta.get('counts'), keys.meta),
  };
}
