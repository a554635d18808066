export { loadRedisDriver } from './connection.js';
export {
  InvalidPublishInputError,
  InvalidRedisUrlError,
  PublisherError,
  type PublisherErrorCode,
  RedisCommandError,
  RedisUnavailableError,
  StagingMissingError,
  StaleFenceError,
  SwapConflictError,
  UnknownVersionError,
} from './errors.js';
export { RUN_HISTORY_LIMIT } from './history.js';
export type { LiveMeta } from './live-meta.js';
export {
  DEFAULT_LOCK_TTL_SECONDS,
  LockHeldError,
  type LockHolder,
  type LockInfo,
  LockLostError,
  RunLock,
  type RunLockOptions,
} from './lock.js';
export { redactUrl } from './redact-url.js';
export { RedisPublisher } from './redis-publisher.js';
export type {
  LiveState,
  PublisherOptions,
  PublishInput,
  RollbackInput,
  SwapResult,
  VersionInfo,
  WordList,
} from './types.js';
export { publisherOptions } from './types.js';
