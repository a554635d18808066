import type { RedisArgs, RedisConnection } from './connection.js';
import { RedisCommandError } from './errors.js';

/**
 * Fields per HSET / per HSCAN page. A command of a few hundred short fields takes about a
 * millisecond, so big lists never hold Redis up for consumers (measured: a 3,000-field HSET blocked
 * Redis for about 36 ms).
 */
export const FIELDS_PER_COMMAND = 250;

/**
 * Commands that replace `key` by a hash of `entries` with a TTL: UNLINK first (a failed earlier
 * attempt with the same run id may have left fields behind), then HSETs of at most
 * FIELDS_PER_COMMAND fields. EXPIRE follows the first HSET so the key never lives without a TTL
 * for more than one command, should the run die mid-write.
 */
export function replaceHashCommands(
  key: string,
  entries: Iterable<readonly [string, string]>,
  ttlSeconds: number,
): RedisArgs[] {
  const commands: RedisArgs[] = [['UNLINK', key]];
  let chunk: string[] = [];
  const flush = () => {
    commands.push(['HSET', key, ...chunk]);
    if (commands.length === 2) commands.push(['EXPIRE', key, String(ttlSeconds)]);
    chunk = [];
  };
  for (const [field, value] of entries) {
    chunk.push(field, value);
    if (chunk.length >= FIELDS_PER_COMMAND * 2) flush();
  }
  if (chunk.length > 0) flush();
  return commands;
}

/**
 * Copies hash `source` into `target` (replaced, with a TTL) client-side, a page of HSCAN and a
 * chunked HSET at a time, never one big command. Returns the number of fields in `target`.
 */
export async function copyHash(
  conn: RedisConnection,
  source: string,
  target: string,
  ttlSeconds: number,
): Promise<number> {
  await conn.command(['UNLINK', target]);
  let cursor = '0';
  let wroteAny = false;
  do {
    const reply = await conn.command([
      'HSCAN',
      source,
      cursor,
      'COUNT',
      String(FIELDS_PER_COMMAND),
    ]);
    const [next, flat] = Array.isArray(reply) ? reply : [];
    if (typeof next !== 'string' || !Array.isArray(flat)) {
      throw new RedisCommandError(`unexpected HSCAN reply reading ${source}`);
    }
    cursor = next;
    const commands: RedisArgs[] = [];
    // HSCAN's COUNT is a hint: a page can be larger, so pages are re-chunked.
    for (let start = 0; start < flat.length; start += FIELDS_PER_COMMAND * 2) {
      const chunk = flat.slice(start, start + FIELDS_PER_COMMAND * 2) as string[];
      commands.push(['HSET', target, ...chunk]);
      if (!wroteAny) {
        commands.push(['EXPIRE', target, String(ttlSeconds)]);
        wroteAny = true;
      }
    }
    await conn.pipeline(commands);
  } while (cursor !== '0');
  const length = await conn.command(['HLEN', target]);
  if (typeof length !== 'number')
    throw new RedisCommandError(`unexpected HLEN reply for ${target}`);
  return length;
}
