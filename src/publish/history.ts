/**
 * `P:runs` (DESIGN §6): the most recent JobResults as JSON strings, newest first. `status` reads
 * it to say how the last run went; it is bounded so a job that runs for years stays small.
 */
import type { RedisConnection } from './connection.js';
import { InvalidPublishInputError, RedisCommandError } from './errors.js';
import type { PublishKeys } from './keys.js';

/** Over three months of nightly runs, with room for reruns and rollbacks. */
export const RUN_HISTORY_LIMIT = 100;

export function runsKey(keys: PublishKeys): string {
  return `${keys.prefix}:runs`;
}

/**
 * Prepends one result and trims the list to `limit` entries in one MULTI, so the list never grows
 * past the bound even if the process dies between the two commands.
 */
export async function recordRun(
  conn: RedisConnection,
  keys: PublishKeys,
  json: string,
  limit: number = RUN_HISTORY_LIMIT,
): Promise<void> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidPublishInputError(`history limit must be an integer >= 1, got ${limit}`);
  }
  assertJsonObject(json);
  const key = runsKey(keys);
  await conn.transaction([
    ['LPUSH', key, json],
    ['LTRIM', key, '0', String(limit - 1)],
  ]);
}

/** Up to `count` results, newest first, as the JSON strings they were recorded as. */
export async function recentRuns(
  conn: RedisConnection,
  keys: PublishKeys,
  count: number,
): Promise<string[]> {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidPublishInputError(`count must be an integer >= 0, got ${count}`);
  }
  if (count === 0) return [];
  const key = runsKey(keys);
  const reply = await conn.command(['LRANGE', key, '0', String(count - 1)]);
  if (!Array.isArray(reply) || !reply.every((item) => typeof item === 'string')) {
    throw new RedisCommandError(`unexpected reply reading ${key}`);
  }
  return reply as string[];
}

/** Readers parse every entry; one that is not a JSON object would only confuse them. */
function assertJsonObject(json: string): void {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidPublishInputError('a history entry must be a JSON object, got invalid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPublishInputError('a history entry must be a JSON object');
  }
}
