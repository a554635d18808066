import type { RedisConfig } from '../config/types.js';

export interface PublisherOptions {
  /** `redis[s]://[[user]:password@]host[:port][/db]`; never echoed unredacted. */
  url: string;
  /** `P` of the key layout; a hash tag such as `{stopwords}` keeps every key in one cluster slot. */
  keyPrefix: string;
  /** Published versions kept for rollback, newest first; the live one is always kept besides. */
  keepVersions: number;
  connectTimeoutSeconds: number;
  /** Lifetime of staging hashes and of a version's keys until its swap persists them. */
  stagingTtlSeconds: number;
}

/** The publisher's options for a resolved URL, from the `redis` section of the configuration. */
export function publisherOptions(redis: RedisConfig, url: string): PublisherOptions {
  return {
    url,
    keyPrefix: redis.keyPrefix,
    keepVersions: redis.keepVersions,
    connectTimeoutSeconds: redis.connectTimeoutSeconds,
    stagingTtlSeconds: redis.stagingTtlSeconds,
  };
}

/** word -> confidence as a decimal string, e.g. `'0.8731'`. */
export type WordList = Map<string, string>;

export interface LiveState {
  /** `null` before the first publish. */
  version: number | null;
  /** Fencing token of the swap that put the live version there; 0 before the first swap. */
  fence: number;
  publishedAt: string | null;
  runId: string | null;
  analyzerVersion: string | null;
  languages: string[];
  lists: Map<string, WordList>;
}

export interface VersionInfo {
  version: number;
  publishedAt: string;
  runId: string;
  languages: string[];
  counts: Record<string, number>;
  analyzerVersion: string;
  live: boolean;
}

export interface PublishInput {
  runId: string;
  /** Languages with an empty list are treated as absent: a Redis hash cannot be empty. */
  lists: Map<string, WordList>;
  analyzerVersion: string;
  publishedAt: Date;
}

export interface RollbackInput {
  runId: string;
  to: number;
}

export interface SwapResult {
  /** The version now live. */
  version: number;
  /** The fencing token of this swap, now recorded in `P:meta`. */
  fence: number;
  /** Languages that were live before and are gone now. */
  removed: string[];
}
