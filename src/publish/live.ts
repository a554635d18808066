import type { RedisArgs, RedisConnection } from './connection.js';
import { SwapConflictError } from './errors.js';
import type { PublishKeys } from './keys.js';
import { pairsToMap, parseInteger, parseLanguages } from './meta-fields.js';
import type { LiveState, WordList } from './types.js';

const READ_ATTEMPTS = 5;

/**
 * The live meta and every live list, all of one version. Every swap moves the `fence` in P:meta
 * up together with the lists, so if the fence reads the same before and after the lists, no swap
 * happened in between. That check replaces a MULTI around all the HGETALLs: with 50 lists of 3000
 * words such a MULTI holds Redis for over 10 ms, which consumers would feel.
 */
export async function readLive(conn: RedisConnection, keys: PublishKeys): Promise<LiveState> {
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt += 1) {
    const meta = pairsToMap(await conn.command(['HGETALL', keys.meta]), keys.meta);
    const languages = parseLanguages(meta.get('languages'), keys.meta);
    // One pipeline on one connection: the fence is read after every list.
    const replies = await conn.pipeline([
      ...languages.map((lang): RedisArgs => ['HGETALL', keys.live(lang)]),
      ['HGET', keys.meta, 'fence'],
    ]);
    const fenceAfter = replies.pop();
    if ((fenceAfter ?? null) !== (meta.get('fence') ?? null)) continue;

    const lists = new Map<string, WordList>();
    languages.forEach((lang, index) => {
      lists.set(lang, pairsToMap(replies[index], keys.live(lang)));
    });
    return {
      version: parseInteger(meta.get('version'), keys.meta, 'version'),
      fence: parseInteger(meta.get('fence'), keys.meta, 'fence') ?? 0,
      publishedAt: meta.get('publishedAt') ?? null,
      runId: meta.get('runId') ?? null,
      analyzerVersion: meta.get('analyzerVersion') ?? null,
      languages,
      lists,
    };
  }
  throw new SwapConflictError(
    `the live version changed during each of ${READ_ATTEMPTS} attempts to read it`,
  );
}
