import type { RedisConnection } from './connection.js';
import { RedisCommandError, SwapConflictError } from './errors.js';
import { FIELDS_PER_COMMAND } from './hash-writes.js';
import type { PublishKeys } from './keys.js';
import { pairsToMap, parseInteger, parseLanguages } from './meta-fields.js';
import type { LiveState, WordList } from './types.js';

const READ_ATTEMPTS = 20;

/**
 * The live meta and every live list, all of one version. Every swap moves the `fence` in P:meta
 * up together with the lists, so if the fence reads the same before and after the lists, no swap
 * happened in between. That check replaces a MULTI around the reads: with 50 lists of 3000 words
 * such a MULTI holds Redis for over 10 ms, which consumers would feel; for the same reason each
 * list is read in HSCAN pages rather than one HGETALL.
 */
export async function readLive(conn: RedisConnection, keys: PublishKeys): Promise<LiveState> {
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt += 1) {
    const meta = pairsToMap(await conn.command(['HGETALL', keys.meta]), keys.meta);
    const languages = parseLanguages(meta.get('languages'), keys.meta);
    const lists = await scanHashes(
      conn,
      languages.map((lang) => keys.live(lang)),
    ).then((read) => new Map(languages.map((lang, i): [string, WordList] => [lang, read[i]!])));
    const fenceAfter = await conn.command(['HGET', keys.meta, 'fence']);
    if ((fenceAfter ?? null) !== (meta.get('fence') ?? null)) {
      // A swap happened meanwhile; give the next one a moment to finish before reading again.
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * (attempt + 1), 100)));
      continue;
    }

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

/**
 * Hashes read in HSCAN pages of about FIELDS_PER_COMMAND fields; each round is one pipeline with
 * the next page of every hash not finished yet.
 */
export async function scanHashes(
  conn: RedisConnection,
  keys: readonly string[],
): Promise<Array<Map<string, string>>> {
  const out = keys.map(() => new Map<string, string>());
  let pending = keys.map((key, index) => ({ key, index, cursor: '0' }));
  while (pending.length > 0) {
    const replies = await conn.pipeline(
      pending.map(({ key, cursor }) => ['HSCAN', key, cursor, 'COUNT', String(FIELDS_PER_COMMAND)]),
    );
    const next: typeof pending = [];
    pending.forEach((scan, i) => {
      const reply = replies[i];
      const [cursor, flat] = Array.isArray(reply) ? reply : [];
      if (typeof cursor !== 'string' || !Array.isArray(flat)) {
        throw new RedisCommandError(`unexpected HSCAN reply reading ${scan.key}`);
      }
      const map = out[scan.index]!;
      for (let k = 0; k + 1 < flat.length; k += 2) map.set(String(flat[k]), String(flat[k + 1]));
      if (cursor !== '0') next.push({ ...scan, cursor });
    });
    pending = next;
  }
  return out;
}
