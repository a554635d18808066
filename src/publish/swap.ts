import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection.js';
import {
  RedisCommandError,
  StagingMissingError,
  StaleFenceError,
  SwapConflictError,
} from './errors.js';
import type { PublishKeys } from './keys.js';
import {
  parseInteger,
  parseLanguages,
  type VersionMeta,
  versionMetaFields,
} from './meta-fields.js';
import { SWAP_SCRIPT } from './swap-script.js';
import type { SwapResult } from './types.js';

const SWAP_SHA = createHash('sha1').update(SWAP_SCRIPT).digest('hex');

/** Another writer moving `P:meta` this often in a row means something is badly wrong. */
const CONFLICT_RETRIES = 5;

/** Everything staged and allocated for one swap; `commitSwap` puts it live. */
export interface PreparedSwap {
  /** The run performing the swap; owns `P:staging:<runId>:*`. */
  runId: string;
  /** Fencing token taken for this swap. */
  token: number;
  /** The version going live and what it holds (languages sorted). */
  meta: VersionMeta;
  /** `P:versions` score for a new version; `null` for a rollback, whose version is listed already. */
  score: number | null;
}

export async function commitSwap(
  conn: RedisConnection,
  keys: PublishKeys,
  prepared: PreparedSwap,
): Promise<SwapResult> {
  const { meta, token } = prepared;
  const incoming = new Set(meta.languages);
  for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt += 1) {
    const [fenceText, languagesText] = asStrings(
      await conn.command(['HMGET', keys.meta, 'fence', 'languages']),
      keys.meta,
    );
    const expectedFence = parseInteger(fenceText, keys.meta, 'fence') ?? 0;
    const removed = parseLanguages(languagesText, keys.meta).filter((lang) => !incoming.has(lang));

    const scriptKeys = [keys.meta, keys.versions, keys.versionMeta(meta.version)];
    for (const lang of meta.languages) {
      scriptKeys.push(
        keys.staging(prepared.runId, lang),
        keys.live(lang),
        keys.versionCopy(meta.version, lang),
      );
    }
    for (const lang of removed) scriptKeys.push(keys.live(lang));

    const metaFields = [
      ...versionMetaFields(meta),
      'swappedAt',
      new Date().toISOString(),
      'swapRunId',
      prepared.runId,
    ];
    const args = [
      String(token),
      String(expectedFence),
      String(meta.languages.length),
      String(meta.version),
      prepared.score === null ? '' : String(prepared.score),
      keys.updatesChannel,
      JSON.stringify({ version: meta.version, languages: meta.languages }),
      ...metaFields,
    ];

    const reply = await evalSwap(conn, scriptKeys, args);
    const [code, detail] = Array.isArray(reply) ? reply : [];
    switch (code) {
      case 1:
        return { version: meta.version, fence: token, removed };
      case -1:
        throw new StaleFenceError(token, Number(detail));
      case -2:
        throw new StagingMissingError(String(detail));
      case -3:
        continue;
      default:
        throw new RedisCommandError(
          `unexpected reply from the swap script: ${JSON.stringify(reply)}`,
        );
    }
  }
  throw new SwapConflictError(
    `${keys.meta} changed under every one of ${CONFLICT_RETRIES} swap attempts: another writer is running`,
  );
}

async function evalSwap(
  conn: RedisConnection,
  scriptKeys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const tail = [String(scriptKeys.length), ...scriptKeys, ...args];
  try {
    return await conn.command(['EVALSHA', SWAP_SHA, ...tail]);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    // First use on this server (or after SCRIPT FLUSH / a restart): EVAL also caches it.
    return conn.command(['EVAL', SWAP_SCRIPT, ...tail]);
  }
}

function isNoScript(err: unknown): boolean {
  return (
    err instanceof RedisCommandError &&
    err.cause instanceof Error &&
    err.cause.message.startsWith('NOSCRIPT')
  );
}

function asStrings(reply: unknown, key: string): (string | undefined)[] {
  if (!Array.isArray(reply)) throw new RedisCommandError(`unexpected reply reading ${key}`);
  return reply.map((item: unknown) => (typeof item === 'string' ? item : undefined));
}
