import { InvalidPublishInputError } from './errors.js';

/**
 * Key names of DESIGN §6, with prefix P:
 *
 *   P:<lang>                   hash    live list, word -> confidence
 *   P:meta                     hash    live version and counters (see below)
 *   P:v:<version>:<lang>       hash    immutable copy of a published version
 *   P:v:<version>:meta         hash    (addition) what a version holds: version, publishedAt (ISO),
 *                                      runId, languages (JSON array), counts (JSON object lang ->
 *                                      words), analyzerVersion. Lets `versions`, trimming and
 *                                      rollback work without scanning the keyspace.
 *   P:versions                 zset    version -> published epoch seconds
 *   P:staging:<runId>:<lang>   hash    written before the swap, with a TTL
 *   P:updates                  channel `{"version":N,"languages":[…]}` after every swap
 *
 * `P:meta` fields: version, fence, publishedAt, runId, analyzerVersion, languages, counts (as in
 * the version meta), plus swappedAt / swapRunId (when and by which run the live version was put
 * there: differs from publishedAt / runId after a rollback), and the counters versionSeq (highest
 * version ever allocated) and fenceSeq (highest fencing token ever handed out).
 */
export class PublishKeys {
  constructor(readonly prefix: string) {
    if (prefix === '' || /\s/.test(prefix)) {
      throw new InvalidPublishInputError(
        `key prefix must be non-empty without spaces, got '${prefix}'`,
      );
    }
  }

  live(lang: string): string {
    return `${this.prefix}:${lang}`;
  }

  get meta(): string {
    return `${this.prefix}:meta`;
  }

  get versions(): string {
    return `${this.prefix}:versions`;
  }

  get updatesChannel(): string {
    return `${this.prefix}:updates`;
  }

  versionCopy(version: number, lang: string): string {
    return `${this.prefix}:v:${version}:${lang}`;
  }

  versionMeta(version: number): string {
    return `${this.prefix}:v:${version}:meta`;
  }

  /** A SCAN pattern for every key of one version, for versions whose meta is gone. */
  versionPattern(version: number): string {
    return `${escapeGlob(this.prefix)}:v:${version}:*`;
  }

  staging(runId: string, lang: string): string {
    return `${this.prefix}:staging:${runId}:${lang}`;
  }
}

/**
 * BCP-47-like codes only. Besides rejecting garbage, this is what keeps a language from colliding
 * with the fixed keys: `meta`, `runs`, `lock`, `versions`, `staging`, `updates` and `v` all fail
 * the 2–3 letter primary subtag.
 */
const LANGUAGE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

export function assertLanguage(lang: string): void {
  if (!LANGUAGE.test(lang)) {
    throw new InvalidPublishInputError(
      `language '${lang}' is not a language code (e.g. 'en', 'pt-BR') and cannot be published`,
    );
  }
}

export function assertRunId(runId: string): void {
  if (runId === '' || runId.length > 200 || /[\s\u0000-\u001f]/.test(runId)) {
    throw new InvalidPublishInputError('run id must be 1–200 characters without spaces');
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
