/**
 * The MongoDB side of a run: open the source as configured, fix the window end by the server's
 * clock, and turn the window into the analysis input with its counts. Failures become the job's
 * errors: a malformed connection string is a usage error (exit 2), the rest source errors (1).
 */
import type { Config } from '../config/types.js';
import {
  MongoSource,
  MongoSourceError,
  mongoSourceOptions,
  type SourceWindow,
} from '../corpus/mongo-source.js';
import type { Logger } from '../ops/logger.js';
import type { CorpusInput } from './analysis-pool.js';
import { ConfigError, SourceError } from './errors.js';

export async function openMongo(
  config: Config,
  location: { readonly uri: string; readonly database: string },
  logger: Logger,
): Promise<MongoSource> {
  return MongoSource.open({
    ...mongoSourceOptions(config.source, location),
    onRetry: (info) => logger.warn(info, 'MongoDB read failed; retrying'),
  }).catch((error: unknown) => {
    throw sourceFailure(error);
  });
}

/** The server's clock, and a warning when the (updatedAt, _id) index is missing. */
export async function inspectMongo(
  source: MongoSource,
  config: Config,
): Promise<{ serverNow: Date; warning: string | null }> {
  const serverNow = await source.serverTime().catch((error: unknown) => {
    throw sourceFailure(error);
  });
  const indexed = await source.hasKeysetIndex().catch(() => true);
  const warning = indexed
    ? null
    : `the collection ${config.source.collection} has no index on (${config.source.fields.updatedAt}: 1, _id: 1); every page scans the collection (see docs/mongodb.md)`;
  return { serverNow, warning };
}

export interface MongoInput {
  readonly input: CorpusInput;
  /** Documents in the window, when the count succeeded in time. */
  readonly total: number | null;
  /** Full runs: documents no window query can see (updatedAt not a date); null if uncounted. */
  readonly undated: number | null;
}

export async function mongoInput(
  source: MongoSource,
  window: SourceWindow,
  full: boolean,
  signal: AbortSignal,
): Promise<MongoInput> {
  const [total, undated] = await Promise.all([
    source.count(window),
    full ? source.countUndated() : Promise.resolve(0),
  ]);
  return { input: { kind: 'chunks', chunks: source.chunks(window, signal) }, total, undated };
}

/** A source failure as the job reports it. */
export function sourceFailure(error: unknown): Error {
  if (!(error instanceof MongoSourceError)) return error as Error;
  return error.failure === 'config'
    ? new ConfigError(error.message, { cause: error })
    : new SourceError(error.message, { cause: error });
}
