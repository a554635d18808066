import type { RedisArgs, RedisConnection } from './connection.js';
import { RedisCommandError } from './errors.js';
import type { PublishKeys } from './keys.js';
import {
  pairsToMap,
  parseInteger,
  parseLanguages,
  parseVersionMeta,
  type VersionMeta,
} from './meta-fields.js';
import type { VersionInfo } from './types.js';

/** Kept versions with their meta, newest first. A listed version whose meta is gone is skipped: it cannot be rolled back to. */
export async function listVersions(
  conn: RedisConnection,
  keys: PublishKeys,
): Promise<VersionInfo[]> {
  const listed = await listedVersions(conn, keys);
  const [liveText, ...metas] = await conn.pipeline([
    ['HGET', keys.meta, 'version'],
    ...listed.map((version): RedisArgs => ['HGETALL', keys.versionMeta(version)]),
  ]);
  const live = parseInteger(
    typeof liveText === 'string' ? liveText : undefined,
    keys.meta,
    'version',
  );
  const infos: VersionInfo[] = [];
  listed.forEach((version, index) => {
    const key = keys.versionMeta(version);
    const fields = pairsToMap(metas[index], key);
    if (fields.size === 0) return;
    const meta = parseVersionMeta(fields, key);
    infos.push({ ...meta, live: meta.version === live });
  });
  return infos.sort((a, b) => b.version - a.version);
}

/** The meta of a version that can be rolled back to, or `null`. */
export async function readVersionMeta(
  conn: RedisConnection,
  keys: PublishKeys,
  version: number,
): Promise<VersionMeta | null> {
  const [score, reply] = await conn.pipeline([
    ['ZSCORE', keys.versions, String(version)],
    ['HGETALL', keys.versionMeta(version)],
  ]);
  const key = keys.versionMeta(version);
  const fields = pairsToMap(reply, key);
  if (score === null || fields.size === 0) return null;
  return parseVersionMeta(fields, key);
}

/**
 * Drops every version beyond the newest `keep`, except the live one: its copies, its meta and its
 * P:versions entry, in that order, so an interrupted trim leaves a listed version for the next
 * trim to finish rather than unlisted keys nobody would remove. Returns the versions dropped.
 */
export async function trimVersions(
  conn: RedisConnection,
  keys: PublishKeys,
  keep: number,
): Promise<number[]> {
  const listed = await listedVersions(conn, keys);
  const liveText = await conn.command(['HGET', keys.meta, 'version']);
  const live = parseInteger(
    typeof liveText === 'string' ? liveText : undefined,
    keys.meta,
    'version',
  );
  const doomed = listed
    .sort((a, b) => b - a)
    .slice(keep)
    .filter((version) => version !== live);
  for (const version of doomed) {
    const languagesText = await conn.command(['HGET', keys.versionMeta(version), 'languages']);
    const doomedKeys =
      typeof languagesText === 'string'
        ? parseLanguages(languagesText, keys.versionMeta(version)).map((lang) =>
            keys.versionCopy(version, lang),
          )
        : await scanKeys(conn, keys.versionPattern(version));
    // UNLINK frees the copies off Redis' main thread.
    await conn.command(['UNLINK', keys.versionMeta(version), ...doomedKeys]);
    await conn.command(['ZREM', keys.versions, String(version)]);
  }
  return doomed;
}

async function listedVersions(conn: RedisConnection, keys: PublishKeys): Promise<number[]> {
  const reply = await conn.command(['ZRANGE', keys.versions, '0', '-1']);
  if (!Array.isArray(reply))
    throw new RedisCommandError(`unexpected reply reading ${keys.versions}`);
  return reply.map((member: unknown) => {
    const version = parseInteger(
      typeof member === 'string' ? member : undefined,
      keys.versions,
      'member',
    );
    if (version === null) throw new RedisCommandError(`${keys.versions} holds an empty member`);
    return version;
  });
}

/** Only for versions whose meta vanished; with a meta, the keys are known without scanning. */
async function scanKeys(conn: RedisConnection, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const reply = await conn.command(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']);
    const [next, page] = Array.isArray(reply) ? reply : [];
    if (typeof next !== 'string' || !Array.isArray(page)) {
      throw new RedisCommandError('unexpected SCAN reply');
    }
    found.push(...(page as string[]));
    cursor = next;
  } while (cursor !== '0');
  return found;
}
