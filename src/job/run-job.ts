/**
 * One run of the job, as phases: resolve → connect → analyse → select → publish → checkpoint.
 * Never throws: every outcome is a JobResult with its exit code. Nothing reaches Redis or the
 * state directory before the analysis has succeeded, so a failure leaves yesterday's lists live.
 */
import { randomBytes } from 'node:crypto';
import type { BadReason } from '../analysis/document.js';
import { formatConfidence, type LanguageSelection, selectStopwords } from '../analysis/select.js';
import { ANALYZER_VERSION } from '../analysis/tokenizer.js';
import { resolveChecked } from '../config/env-refs.js';
import type { Config } from '../config/types.js';
import { parseSourceUri, SourceUriError } from '../corpus/source-uri.js';
import type { Logger } from '../ops/logger.js';
import type { Progress } from '../ops/progress.js';
import { type LiveState, RedisPublisher, type WordList } from '../publish/index.js';
import { writeCheckpoint } from '../state/checkpoint.js';
import { analyzeFile } from './analysis-pool.js';
import {
  ConfigError,
  DeadlineError,
  ExitCode,
  InterruptedError,
  PublishError,
  SourceError,
  StateError,
  StopwordRefreshError,
  toFailure,
} from './errors.js';
import { type JobResult, round } from './result.js';

export interface RunJobOptions {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly dryRun: boolean;
  readonly full: boolean;
  readonly until: Date | null;
  readonly logger: Logger;
  readonly progress: Progress;
  /** Aborted by SIGTERM/SIGINT: intake stops and nothing is published. */
  readonly signal: AbortSignal;
  readonly now?: () => Date;
}

const LANGUAGE_REASONS: ReadonlySet<BadReason> = new Set(['missingLanguage', 'invalidLanguage']);

export function newRunId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const startedMs = performance.now();
  const runId = newRunId(startedAt);
  const { config, logger: baseLogger } = options;
  const logger = baseLogger.child({ runId });
  const result: JobResult = {
    success: false,
    durationSeconds: 0,
    documentsProcessed: 0,
    stopwordsUpdated: 0,
    errors: [],
    timestamp: startedAt.toISOString(),
    runId,
    mode: 'full',
    dryRun: options.dryRun,
    version: null,
    published: false,
    exitCode: ExitCode.failed,
    analyzerVersion: ANALYZER_VERSION,
    window: { from: null, to: null },
    languages: {},
    phases: {},
    documents: {
      read: 0,
      counted: 0,
      deleted: 0,
      outsideWindow: 0,
      rejected: 0,
      bad: {},
      badSamples: [],
    },
    warnings: [],
  };
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    logger.debug({ phase: name }, 'phase started');
    options.progress.phase(name);
    try {
      return await work();
    } finally {
      result.phases[name] = round((performance.now() - t0) / 1000);
    }
  };

  const controller = new AbortController();
  const onAbort = (): void =>
    controller.abort(
      new InterruptedError('the run was interrupted by a signal; nothing was published'),
    );
  if (options.signal.aborted) onAbort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => {
    controller.abort(
      new DeadlineError(
        `the run exceeded maxDurationSeconds (${config.maxDurationSeconds} s) and was stopped; nothing was published`,
      ),
    );
  }, config.maxDurationSeconds * 1000);
  deadline.unref();
  const signal = controller.signal;
  const checkSignal = (): void => {
    if (signal.aborted) throw signalError(signal);
  };

  let publisher: RedisPublisher | null = null;
  logger.info({ dryRun: options.dryRun, full: options.full }, 'run started');
  try {
    const sourceUri = resolveChecked(config.source.uri, 'source.uri', options.env);
    if (sourceUri.trim().length === 0) {
      throw new ConfigError(
        'source.uri: no source is configured; pass --source file:PATH or --source mongodb://HOST/DB',
      );
    }
    let location: ReturnType<typeof parseSourceUri>;
    try {
      location = parseSourceUri(sourceUri);
    } catch (error) {
      if (error instanceof SourceUriError) throw new ConfigError(`source.uri: ${error.message}`);
      throw error;
    }
    const windowEnd = windowEndFor(options.until, startedAt, config.source.safetyLagSeconds);
    result.window = { from: null, to: windowEnd.toISOString() };

    const live = await phase('connect', async () => {
      try {
        const redisUrl = resolveChecked(config.redis.url, 'redis.url', options.env);
        publisher = await RedisPublisher.connect({
          url: redisUrl,
          keyPrefix: config.redis.keyPrefix,
          keepVersions: config.redis.keepVersions,
          connectTimeoutSeconds: config.redis.connectTimeoutSeconds,
          stagingTtlSeconds: config.redis.stagingTtlSeconds,
        });
        return await publisher.readLive();
      } catch (error) {
        const failure =
          error instanceof ConfigError
            ? error
            : new PublishError(`Redis: ${messageOf(error)}`, { cause: error });
        if (!options.dryRun) throw failure;
        result.warnings.push(`${failure.message}; the dry run compares against no live lists`);
        logger.warn({ err: failure.message }, 'dry run continues without Redis');
        return null;
      }
    });
    checkSignal();

    if (location.kind !== 'file') {
      throw new SourceError(
        'MongoDB sources are not supported by this version; export the corpus to NDJSON and use --source file:PATH',
      );
    }
    const filePath = location.path;
    const { tables, stats } = await phase('analyze', () =>
      analyzeFile({
        path: filePath,
        workers: config.analysis.workers,
        settings: {
          fields: config.source.fields,
          maxDocumentBytes: config.source.maxDocumentBytes,
          windowEndMs: windowEnd.getTime(),
        },
        signal,
        onProgress: (count) => options.progress.documents(count),
      }).catch((error: unknown) => {
        if (
          (error as NodeJS.ErrnoException).code === 'ENOENT' ||
          (error as NodeJS.ErrnoException).code === 'EACCES'
        ) {
          throw new SourceError(
            `cannot read the corpus file ${filePath}: ${(error as NodeJS.ErrnoException).code}`,
            { cause: error },
          );
        }
        throw error;
      }),
    );
    checkSignal();

    const bad: Partial<Record<BadReason, number>> = {};
    let rejected = 0;
    for (const [reason, count] of Object.entries(stats.bad) as Array<[BadReason, number]>) {
      if (count === 0) continue;
      bad[reason] = count;
      if (!LANGUAGE_REASONS.has(reason)) rejected += count;
    }
    const read = stats.counted + stats.deleted + stats.outsideWindow + rejected;
    result.documents = {
      read,
      counted: stats.counted,
      deleted: stats.deleted,
      outsideWindow: stats.outsideWindow,
      rejected,
      bad,
      badSamples: stats.samples,
    };
    result.documentsProcessed = stats.counted + stats.deleted;
    if (rejected > 0) {
      result.warnings.push(`skipped ${rejected} bad document(s) of ${read}; see documents.bad`);
      logger.warn({ rejected, bad }, 'bad documents skipped');
    }
    const badRatio = read === 0 ? 0 : rejected / read;
    if (badRatio > config.source.maxBadDocumentRatio) {
      throw new SourceError(
        `${rejected} of ${read} documents (${(badRatio * 100).toFixed(2)}%) are bad, above source.maxBadDocumentRatio (${(config.source.maxBadDocumentRatio * 100).toFixed(2)}%); nothing was published`,
      );
    }

    const liveSets = new Map<string, ReadonlySet<string>>();
    if (live !== null)
      for (const [lang, words] of live.lists) liveSets.set(lang, new Set(words.keys()));
    const selections = await phase('select', async () =>
      selectStopwords(tables, liveSets, config.analysis),
    );
    let changed = 0;
    for (const s of selections) {
      result.languages[s.lang] = {
        documents: s.documents,
        stopwords: s.words.length,
        added: s.added,
        removed: s.removed,
        published: s.published,
        ...(s.skipped === null ? {} : { skipped: s.skipped }),
      };
      changed += s.added + s.removed;
    }
    result.stopwordsUpdated = changed;
    const lists = toWordLists(selections);
    checkSignal();

    if (options.dryRun) {
      result.stopwords = Object.fromEntries(
        [...lists].map(([lang, words]) => [lang, Object.fromEntries(words)]),
      );
      result.version = live?.version ?? null;
    } else if (live !== null && publisher !== null && sameAsLive(lists, live)) {
      result.version = live.version;
      logger.info({ version: live.version }, 'lists unchanged; nothing to publish');
    } else if (publisher !== null) {
      const active: RedisPublisher = publisher;
      const published = await phase('publish', async () => {
        try {
          return await active.publish({
            runId,
            lists,
            analyzerVersion: ANALYZER_VERSION,
            publishedAt: now(),
          });
        } catch (error) {
          throw new PublishError(`publishing to Redis failed: ${messageOf(error)}`, {
            cause: error,
          });
        }
      });
      result.version = published.version;
      result.published = true;
      logger.info({ version: published.version, removed: published.removed }, 'published');
      await phase('checkpoint', async () => {
        try {
          await writeCheckpoint(config.state.dir, {
            schemaVersion: 1,
            windowEnd: windowEnd.toISOString(),
            runId,
            analyzerVersion: ANALYZER_VERSION,
            mode: result.mode,
            writtenAt: now().toISOString(),
          });
        } catch (error) {
          // The lists are live already; the next run recounts in full either way.
          throw new StateError(
            `version ${published.version} is live, but the checkpoint in ${config.state.dir} could not be written: ${messageOf(error)}`,
            { cause: error },
          );
        }
      });
    }
    result.success = true;
    result.exitCode = ExitCode.ok;
  } catch (error) {
    const failure = toFailure(error);
    result.success = false;
    result.exitCode = failure.exitCode;
    result.errors.push(failure.message);
    logger.error({ err: failure.message, kind: failure.name }, 'run failed');
  } finally {
    clearTimeout(deadline);
    options.signal.removeEventListener('abort', onAbort);
    if (publisher !== null) await (publisher as RedisPublisher).close().catch(() => undefined);
    result.durationSeconds = round((performance.now() - startedMs) / 1000);
  }
  options.progress.stop(
    result.success,
    result.success ? summary(result) : (result.errors[0] ?? 'failed'),
  );
  logger.info(
    {
      success: result.success,
      durationSeconds: result.durationSeconds,
      documents: result.documentsProcessed,
      version: result.version,
    },
    'run finished',
  );
  return result;
}

export function windowEndFor(until: Date | null, now: Date, safetyLagSeconds: number): Date {
  if (until !== null) {
    if (until.getTime() > now.getTime()) {
      throw new ConfigError(
        `--until ${until.toISOString()} is in the future; a window never ends after now`,
      );
    }
    return until;
  }
  return new Date(now.getTime() - safetyLagSeconds * 1000);
}

function toWordLists(selections: readonly LanguageSelection[]): Map<string, WordList> {
  const lists = new Map<string, WordList>();
  for (const s of selections) {
    if (!s.published) continue;
    lists.set(s.lang, new Map(s.words.map((w) => [w.word, formatConfidence(w.confidence)])));
  }
  return lists;
}

function sameAsLive(lists: ReadonlyMap<string, WordList>, live: LiveState): boolean {
  if (live.version === null || live.analyzerVersion !== ANALYZER_VERSION) return false;
  if (lists.size !== live.lists.size) return false;
  for (const [lang, words] of lists) {
    const current = live.lists.get(lang);
    if (current === undefined || current.size !== words.size) return false;
    for (const [word, confidence] of words) if (current.get(word) !== confidence) return false;
  }
  return true;
}

function summary(result: JobResult): string {
  const languages = Object.values(result.languages).filter((l) => l.published).length;
  const what = result.dryRun
    ? 'dry run'
    : result.published
      ? `published version ${result.version}`
      : 'unchanged';
  return `${what}: ${result.documentsProcessed.toLocaleString('en-US')} documents, ${languages} languages`;
}

function signalError(signal: AbortSignal): StopwordRefreshError {
  const reason: unknown = signal.reason;
  return reason instanceof StopwordRefreshError
    ? reason
    : new InterruptedError('the run was interrupted');
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
