/**
 * The MongoDB source: the documents of one window, read with the official driver.
 *
 * - Keyset paging on (updatedAt, _id): each page is one short query that resumes after the last
 *   key read, limited to `pageSize` documents and fetched in one batch, so no cursor stays open
 *   between pages and the server's idle-session timeout cannot end a long run. Equal timestamps
 *   are neither lost nor read twice; skip/offset is never used.
 * - Raw BSON: the driver hands over each document's bytes unparsed; they are packed into chunks
 *   and decoded by the analysis workers. The main thread decodes one document per page (the last,
 *   for its key).
 * - The next page is fetched while the current one is analysed.
 * - Transient failures (network, failover, lost cursor) are retried with backoff, resuming after
 *   the last key read; authentication failures and unreachable servers end the run at once.
 */
import {
  BSON,
  type Collection,
  type Document,
  type Filter,
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  type ReadPreferenceMode,
} from 'mongodb';
import type { FieldNames, SourceConfig } from '../config/types.js';
import type { CorpusChunk } from './chunks.js';
import { redactMongoUri, scrubMongoSecret } from './mongo-uri.js';

export interface MongoSourceOptions {
  readonly uri: string;
  readonly database: string;
  readonly collection: string;
  readonly fields: FieldNames;
  readonly readPreference: ReadPreferenceMode;
  /** 0 = no limit. */
  readonly maxStalenessSeconds: number;
  readonly connectTimeoutSeconds: number;
  readonly retries: number;
  readonly pageSize: number;
  /** Target size of the chunks handed to the workers. */
  readonly chunkBytes?: number;
  /** A page ends early once it holds this many bytes (default 64 MiB). */
  readonly pageBytes?: number;
  /** Called before each retry, for the log. */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Backoff before the first retry, doubled each time up to 10 s; for tests. */
  readonly retryDelayMs?: number;
}

/** The source's options from the `source` section of the configuration. */
export function mongoSourceOptions(
  source: SourceConfig,
  location: { readonly uri: string; readonly database: string },
): MongoSourceOptions {
  return {
    uri: location.uri,
    database: location.database,
    collection: source.collection,
    fields: source.fields,
    readPreference: source.readPreference,
    maxStalenessSeconds: source.maxStalenessSeconds,
    connectTimeoutSeconds: source.connectTimeoutSeconds,
    retries: source.retries,
    pageSize: source.batchSize,
  };
}

export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: string;
}

/** `[from, to)` in epoch milliseconds; `from` null reads everything before `to`. */
export interface SourceWindow {
  readonly fromMs: number | null;
  readonly toMs: number;
}

export type MongoFailure = 'auth' | 'unreachable' | 'config' | 'read';

export class MongoSourceError extends Error {
  constructor(
    message: string,
    readonly failure: MongoFailure,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MongoSourceError';
  }
}

interface Key {
  readonly updatedAt: Date;
  readonly id: unknown;
}

interface Page {
  readonly documents: readonly Uint8Array[];
  readonly last: Key | null;
  /** More documents may follow in the window. */
  readonly full: boolean;
}

const DEFAULT_CHUNK_BYTES = 128 * 1024;
const DEFAULT_PAGE_BYTES = 64 * 1024 * 1024;
const MAX_RETRY_DELAY_MS = 10_000;
const COUNT_TIME_LIMIT_MS = 60_000;

/** Server error codes after which the same query, sent again, may well succeed. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  43, // CursorNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

const AUTH_CODES: ReadonlySet<number> = new Set([
  18, // AuthenticationFailed
  13, // Unauthorized
]);

export class MongoSource {
  /** Only the fields the job reads leave the server. */
  private readonly projection: Document;

  private constructor(
    private readonly options: MongoSourceOptions,
    private readonly client: MongoClient,
    private readonly collection: Collection<Document>,
  ) {
    const { id, lang, text, updatedAt, deleted } = options.fields;
    this.projection = { _id: 1 };
    for (const field of [id, lang, ...text, updatedAt, deleted]) this.projection[field] = 1;
  }

  /** Connects and proves the server answers and accepts the credentials. */
  static async open(options: MongoSourceOptions): Promise<MongoSource> {
    const timeoutMs = options.connectTimeoutSeconds * 1000;
    let client: MongoClient;
    try {
      client = new MongoClient(options.uri, {
        appName: 'stopword-refresh',
        readPreference: options.readPreference,
        ...(options.maxStalenessSeconds > 0
          ? { maxStalenessSeconds: options.maxStalenessSeconds }
          : {}),
        serverSelectionTimeoutMS: timeoutMs,
        connectTimeoutMS: timeoutMs,
        // A page is one short query; a server silent this long is gone.
        socketTimeoutMS: Math.max(timeoutMs * 4, 120_000),
        retryReads: true,
        maxPoolSize: 4,
      });
    } catch (error) {
      throw describe(error, options.uri, 'config');
    }
    try {
      await client.db(options.database).command({ ping: 1 });
    } catch (error) {
      await client.close().catch(() => undefined);
      throw describe(error, options.uri, 'unreachable');
    }
    const collection = client.db(options.database).collection(options.collection);
    return new MongoSource(options, client, collection);
  }

  /** Where the source is, without credentials. */
  get location(): string {
    return `${redactMongoUri(this.options.uri)} collection ${this.options.collection}`;
  }

  /** The server's clock (`hello.localTime`), so the window does not depend on this host's. */
  async serverTime(): Promise<Date> {
    const reply = await this.withRetries(() => this.client.db('admin').command({ hello: 1 }));
    const localTime: unknown = reply['localTime'];
    if (!(localTime instanceof Date) || Number.isNaN(localTime.getTime())) {
      throw new MongoSourceError('the server did not report its time (hello.localTime)', 'read');
    }
    return localTime;
  }

  /** Documents in the window, for progress; null when the count fails or takes too long. */
  async count(window: SourceWindow): Promise<number | null> {
    try {
      return await this.collection.countDocuments(this.windowFilter(window, null), {
        maxTimeMS: COUNT_TIME_LIMIT_MS,
      });
    } catch {
      return null;
    }
  }

  /**
   * Documents whose updatedAt is missing or not a date: no window query can see them, so a full
   * count reports them as bad. Null when the count fails or takes too long.
   */
  async countUndated(): Promise<number | null> {
    try {
      return await this.collection.countDocuments(
        { [this.options.fields.updatedAt]: { $not: { $type: 'date' } } },
        { maxTimeMS: COUNT_TIME_LIMIT_MS },
      );
    } catch {
      return null;
    }
  }

  /** Whether an index starts with (updatedAt, _id), which every page query needs to be cheap. */
  async hasKeysetIndex(): Promise<boolean> {
    const indexes = await this.withRetries(() => this.collection.listIndexes().toArray());
    return indexes.some((index) => {
      const keys = Object.entries((index['key'] ?? {}) as Record<string, unknown>);
      return (
        keys.length >= 2 &&
        keys[0]?.[0] === this.options.fields.updatedAt &&
        keys[0]?.[1] === 1 &&
        keys[1]?.[0] === '_id' &&
        keys[1]?.[1] === 1
      );
    });
  }

  /** The window's documents in (updatedAt, _id) order, as chunks of raw BSON. */
  async *chunks(window: SourceWindow, signal: AbortSignal): AsyncGenerator<CorpusChunk> {
    const ignore = (): void => undefined;
    let pending: Promise<Page> | null = this.page(window, null, signal);
    while (pending !== null) {
      const page: Page = await pending;
      pending = null;
      if (page.full && page.last !== null) {
        pending = this.page(window, page.last, signal);
        // Awaited on the next turn; until then a failure must not count as unhandled.
        pending.catch(ignore);
      }
      yield* this.pack(page.documents);
    }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }

  private windowFilter(window: SourceWindow, after: Key | null): Filter<Document> {
    const field = this.options.fields.updatedAt;
    const to = new Date(window.toMs);
    if (after === null) {
      return window.fromMs === null
        ? { [field]: { $lt: to } }
        : { [field]: { $gte: new Date(window.fromMs), $lt: to } };
    }
    // Both branches follow the (updatedAt, _id) index; the first page's lower bound is implied.
    return {
      $or: [
        { [field]: { $gt: after.updatedAt, $lt: to } },
        { [field]: after.updatedAt, _id: { $gt: after.id } } as Filter<Document>,
      ],
    };
  }

  private async page(window: SourceWindow, after: Key | null, signal: AbortSignal): Promise<Page> {
    const { pageSize, fields } = this.options;
    const maxBytes = this.options.pageBytes ?? DEFAULT_PAGE_BYTES;
    const { documents, full } = await this.withRetries(async () => {
      const cursor = this.collection.find(this.windowFilter(window, after), {
        projection: this.projection,
        sort: { [fields.updatedAt]: 1, _id: 1 },
        limit: pageSize,
        batchSize: pageSize,
        raw: true,
      });
      const read: Uint8Array[] = [];
      let bytes = 0;
      try {
        // Whole server batches (at most 16 MiB each), one await per batch.
        while (await cursor.hasNext()) {
          for (const raw of cursor.readBufferedDocuments()) {
            const document = raw as unknown as Uint8Array;
            read.push(document);
            bytes += document.byteLength;
          }
          // Large documents: end the page early (closing the cursor) and resume after the last
          // one read, so a page holds about maxBytes at most, plus one server batch.
          if (bytes >= maxBytes) return { documents: read, full: true };
        }
      } finally {
        await cursor.close();
      }
      return { documents: read, full: read.length === pageSize };
    }, signal);
    const lastBytes = documents.at(-1);
    if (lastBytes === undefined) return { documents, last: null, full: false };
    const last = BSON.deserialize(lastBytes, { validation: { utf8: false } });
    const updatedAt = valueAt(last, fields.updatedAt);
    if (!(updatedAt instanceof Date)) {
      // Only dates match the window's range query; anything else means the server disagrees.
      throw new MongoSourceError(
        `the last document of a page has no date in ${fields.updatedAt}`,
        'read',
      );
    }
    return { documents, last: { updatedAt, id: last['_id'] }, full };
  }

  private *pack(documents: readonly Uint8Array[]): Generator<CorpusChunk> {
    const target = this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    let start = 0;
    while (start < documents.length) {
      let end = start;
      let size = 0;
      while (
        end < documents.length &&
        (size === 0 || size + (documents[end]?.byteLength ?? 0) <= target)
      ) {
        size += documents[end]?.byteLength ?? 0;
        end++;
      }
      const bytes = new Uint8Array(size);
      let offset = 0;
      for (let i = start; i < end; i++) {
        const document = documents[i] as Uint8Array;
        bytes.set(document, offset);
        offset += document.byteLength;
      }
      yield { kind: 'bson', bytes };
      start = end;
    }
  }

  private async withRetries<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const base = this.options.retryDelayMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await work();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.options.retries) {
          throw describe(error, this.options.uri, 'read', attempt);
        }
        const delayMs = Math.min(base * 2 ** attempt, MAX_RETRY_DELAY_MS);
        this.options.onRetry?.({
          attempt: attempt + 1,
          delayMs,
          error: scrubMongoSecret(errorText(error), this.options.uri),
        });
        await sleep(delayMs, signal);
      }
    }
  }
}

export function isTransient(error: unknown): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (error instanceof MongoServerError && typeof error.code === 'number') {
    return TRANSIENT_CODES.has(error.code);
  }
  return error instanceof MongoError && error.hasErrorLabel('RetryableReadError');
}

/** A message fit for the JobResult: what failed, the server (no password), and what to check. */
function describe(
  error: unknown,
  uri: string,
  during: MongoFailure,
  retries = 0,
): MongoSourceError {
  if (error instanceof MongoSourceError) return error;
  const where = redactMongoUri(uri);
  const text = scrubMongoSecret(errorText(error), uri);
  if (error instanceof MongoParseError) {
    return new MongoSourceError(
      `source.uri is not a usable MongoDB connection string: ${text}`,
      'config',
    );
  }
  if (error instanceof MongoServerError && AUTH_CODES.has(Number(error.code))) {
    const what =
      error.code === 18
        ? 'refused the credentials (authentication failed); check the user, password and authSource in source.uri'
        : 'refused the request (not authorized); the user needs the read role on the database';
    return new MongoSourceError(`MongoDB at ${where} ${what}`, 'auth', { cause: error });
  }
  if (error instanceof MongoServerSelectionError || during === 'unreachable') {
    const timeout = error instanceof MongoServerSelectionError;
    return new MongoSourceError(
      timeout
        ? `MongoDB at ${where} is unreachable: no usable server within source.connectTimeoutSeconds (${text})`
        : `MongoDB at ${where} could not be used: ${text}`,
      'unreachable',
      { cause: error },
    );
  }
  const after = retries > 0 ? ` after ${retries} retr${retries === 1 ? 'y' : 'ies'}` : '';
  return new MongoSourceError(`reading MongoDB at ${where} failed${after}: ${text}`, during, {
    cause: error,
  });
}

function errorText(error: unknown): string {
  if (error instanceof MongoServerError && error.codeName !== undefined) {
    return `${error.message} (${error.codeName})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function valueAt(document: Document, path: string): unknown {
  let current: unknown = document;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
