/**
 * Failures of the Redis publisher. `publish` may not import `job`, so these classes are its own;
 * the job layer maps them (all are `PublisherError`) onto its `PublishError` and exit codes.
 * Callers branch on `instanceof` or `code`, never on message text. Messages name Redis only by
 * its redacted URL: no password ever reaches them.
 */
export type PublisherErrorCode =
  | 'REDIS_UNAVAILABLE'
  | 'INVALID_REDIS_URL'
  | 'REDIS_COMMAND_FAILED'
  | 'STALE_FENCE'
  | 'STAGING_MISSING'
  | 'SWAP_CONFLICT'
  | 'UNKNOWN_VERSION'
  | 'INVALID_PUBLISH_INPUT'
  | 'LOCK_HELD'
  | 'LOCK_LOST';

export abstract class PublisherError extends Error {
  abstract readonly code: PublisherErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Redis could not be reached, or the connection was lost mid-operation. */
export class RedisUnavailableError extends PublisherError {
  readonly code = 'REDIS_UNAVAILABLE';
}

/** The Redis URL does not parse; carries no cause, since URL parse errors echo their input. */
export class InvalidRedisUrlError extends PublisherError {
  readonly code = 'INVALID_REDIS_URL';
}

/** Redis answered with an error (OOM, WRONGTYPE, NOPERM, …) or a reply of an unexpected shape. */
export class RedisCommandError extends PublisherError {
  readonly code = 'REDIS_COMMAND_FAILED';
}

/** A newer swap was applied after this run took its fencing token: this run must not overwrite it. */
export class StaleFenceError extends PublisherError {
  readonly code = 'STALE_FENCE';
  constructor(
    readonly token: number,
    readonly liveFence: number,
  ) {
    super(
      `swap refused: fencing token ${token} is not newer than the live token ${liveFence} (a newer publish or rollback was applied)`,
    );
  }
}

/** A staging hash (or the version copy) vanished before the swap, usually because its TTL ran out. */
export class StagingMissingError extends PublisherError {
  readonly code = 'STAGING_MISSING';
  constructor(readonly missingKey: string) {
    super(
      `swap refused: ${missingKey} is missing (staging expired before the swap, or the version was trimmed)`,
    );
  }
}

/** The live version kept changing between reading it and swapping; another writer is running. */
export class SwapConflictError extends PublisherError {
  readonly code = 'SWAP_CONFLICT';
}

/** A rollback target that is not (or no longer) kept. */
export class UnknownVersionError extends PublisherError {
  readonly code = 'UNKNOWN_VERSION';
  constructor(
    readonly requested: number,
    readonly available: readonly number[],
  ) {
    super(
      available.length === 0
        ? `version ${requested} is not available: no versions are kept`
        : `version ${requested} is not available; kept versions: ${available.join(', ')}`,
    );
  }
}

/** Lists or options the publisher refuses before touching Redis (e.g. a language code that would collide with a reserved key). */
export class InvalidPublishInputError extends PublisherError {
  readonly code = 'INVALID_PUBLISH_INPUT';
}
