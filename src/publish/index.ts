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
