import type { RedisArgs, RedisConnection } from './connection.js';
import { InvalidPublishInputError, RedisCommandError, UnknownVersionError } from './errors.js';
import { copyHash, replaceHashCommands } from './hash-writes.js';
import { assertLanguage, assertRunId, type PublishKeys } from './keys.js';
import { type VersionMeta, versionMetaFields } from './meta-fields.js';
import type { PreparedSwap } from './swap.js';
import type { PublishInput, RollbackInput } from './types.js';
import { listVersions, readVersionMeta } from './versions.js';

/**
 * The steps before a swap, apart from the swap itself so that a test can play a run that stages
 * and then stalls (stale token, expired staging) without reaching into the publisher.
 */

/**
 * Takes the next version number and fencing token, then writes every language into its staging
 * hash and its version copy, plus the version meta, all with the staging TTL: a run that dies
 * before its swap leaves nothing that outlives the TTL, and never touches live keys.
 */
export async function stagePublish(
  conn: RedisConnection,
  keys: PublishKeys,
  stagingTtlSeconds: number,
  input: PublishInput,
): Promise<PreparedSwap> {
  assertRunId(input.runId);
  if (Number.isNaN(input.publishedAt.getTime())) {
    throw new InvalidPublishInputError('publishedAt is not a valid date');
  }
  const languages = [...input.lists.entries()]
    .filter(([, words]) => words.size > 0)
    .map(([lang]) => lang)
    .sort();
  languages.forEach(assertLanguage);

  // Allocated first, even if the run fails later: numbers only ever grow.
  const [versionReply, tokenReply] = await conn.transaction([
    ['HINCRBY', keys.meta, 'versionSeq', '1'],
    ['HINCRBY', keys.meta, 'fenceSeq', '1'],
  ]);
  const version = counter(versionReply, keys.meta);
  const token = counter(tokenReply, keys.meta);

  const counts: Record<string, number> = {};
  const commands: RedisArgs[] = [];
  for (const lang of languages) {
    const words = input.lists.get(lang) ?? new Map<string, string>();
    counts[lang] = words.size;
    commands.push(
      ...replaceHashCommands(keys.staging(input.runId, lang), words, stagingTtlSeconds),
      ...replaceHashCommands(keys.versionCopy(version, lang), words, stagingTtlSeconds),
    );
  }
  const meta: VersionMeta = {
    version,
    publishedAt: input.publishedAt.toISOString(),
    runId: input.runId,
    languages,
    counts,
    analyzerVersion: input.analyzerVersion,
  };
  commands.push(
    ['UNLINK', keys.versionMeta(version)],
    ['HSET', keys.versionMeta(version), ...versionMetaFields(meta)],
    ['EXPIRE', keys.versionMeta(version), String(stagingTtlSeconds)],
  );
  await conn.pipeline(commands);

  return {
    runId: input.runId,
    token,
    meta,
    score: Math.floor(input.publishedAt.getTime() / 1000),
  };
}

/**
 * Checks the target is kept, takes a fencing token and copies the target's lists into staging
 * client-side (HSCAN pages and chunked HSETs): copying inside Redis in one command or script
 * would block consumers for the whole size of the lists.
 */
export async function stageRollback(
  conn: RedisConnection,
  keys: PublishKeys,
  stagingTtlSeconds: number,
  input: RollbackInput,
): Promise<PreparedSwap> {
  assertRunId(input.runId);
  if (!Number.isSafeInteger(input.to)) {
    throw new InvalidPublishInputError(`rollback target must be an integer, got ${input.to}`);
  }
  const meta = await readVersionMeta(conn, keys, input.to);
  if (meta === null) {
    const available = (await listVersions(conn, keys))
      .map((info) => info.version)
      .sort((a, b) => a - b);
    throw new UnknownVersionError(input.to, available);
  }

  const token = counter(await conn.command(['HINCRBY', keys.meta, 'fenceSeq', '1']), keys.meta);

  await Promise.all(
    meta.languages.map(async (lang) => {
      const source = keys.versionCopy(meta.version, lang);
      const copied = await copyHash(
        conn,
        source,
        keys.staging(input.runId, lang),
        stagingTtlSeconds,
      );
      const expected = meta.counts[lang];
      // A vanished copy is left for the swap to report; a partial one must never go live.
      if (copied > 0 && expected !== undefined && copied !== expected) {
        throw new RedisCommandError(
          `${source} holds ${copied} words but version ${meta.version} was published with ${expected}`,
        );
      }
    }),
  );

  return { runId: input.runId, token, meta, score: null };
}

function counter(reply: unknown, key: string): number {
  if (typeof reply !== 'number' || !Number.isSafeInteger(reply)) {
    throw new RedisCommandError(`unexpected counter reply from ${key}`);
  }
  return reply;
}
