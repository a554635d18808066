/**
 * One run of the job, as phases: resolve → connect (lock, live lists) → plan → analyse (count or
 * apply the delta) → select → guardrails → publish → commit state and checkpoint. The run first
 * takes its state directory's lock (`run.lock`), then reads the state while it connects, and
 * checks the plan against it again once the run lock in Redis is held.
 * Never throws: every outcome is a JobResult with its exit code. Nothing reaches Redis before the
 * analysis has succeeded, and the state is committed only after the publish, so a failure leaves
 * yesterday's lists live and the next run redoes the same window.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type DfTables, selectionTable } from '../analysis/df-table.js';
import type { BadReason } from '../analysis/document.js';
import { formatConfidence, type LanguageSelection, selectStopwords } from '../analysis/select.js';
import { ANALYZER_VERSION } from '../analysis/tokenizer.js';
import { resolveChecked } from '../config/env-refs.js';
import type { Config } from '../config/types.js';
import type { MongoSource } from '../corpus/mongo-source.js';
import { parseSourceUri, SourceUriError } from '../corpus/source-uri.js';
import type { Logger } from '../ops/logger.js';
import type { Progress } from '../ops/progress.js';
import {
  type LiveState,
  LockHeldError,
  type RedisPublisher,
  type RunLock,
  type WordList,
} from '../publish/index.js';
import { writeCheckpoint } from '../state/checkpoint.js';
import {
  type DeltaTransaction,
  type DfStore,
  DuplicateDocumentError,
  STATE_SCHEMA_VERSION,
  StateCorruptError,
} from '../state/df-store.js';
import type { DocumentWriter } from '../state/document-writer.js';
import { StateDir } from '../state/state-dir.js';
import { StateLock, StateLockHeldError } from '../state/state-lock.js';
import {
  type AnalysisWorkers,
  analyzeCorpus,
  type CorpusInput,
  readDictionaryOnWorker,
  startAnalysisWorkers,
  stopAnalysisWorkers,
} from './analysis-pool.js';
import { connectRedis } from './connect.js';
import {
  ConfigError,
  DeadlineError,
  ExitCode,
  GuardrailError,
  InterruptedError,
  LockError,
  PublishError,
  SourceError,
  StateError,
  StopwordRefreshError,
  toFailure,
} from './errors.js';
import { checkGuardrails, describeViolations } from './guardrails.js';
import { type JobResult, round } from './result.js';
import {
  analysisKey,
  checkWindow,
  type FullPlan,
  planRun,
  type RunPlan,
  stillCurrent,
} from './state-plan.js';

export interface RunJobOptions {
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly dryRun: boolean;
  readonly full: boolean;
  /** Publish even when a guardrail objects. */
  readonly force?: boolean;
  readonly until: Date | null;
  readonly logger: Logger;
  readonly progress: Progress;
  /** Aborted by SIGTERM/SIGINT: intake stops and nothing is published. */
  readonly signal: AbortSignal;
  readonly now?: () => Date;
}

/** A delta's integrity check failed after the run had started its analysis. */
class IntegrityCheckFailed extends Error {}

const LANGUAGE_REASONS: ReadonlySet<BadReason> = new Set(['missingLanguage', 'invalidLanguage']);

export function newRunId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function emptyResult(runId: string, startedAt: Date, dryRun: boolean): JobResult {
  return {
    success: false,
    durationSeconds: 0,
    documentsProcessed: 0,
    stopwordsUpdated: 0,
    errors: [],
    timestamp: startedAt.toISOString(),
    runId,
    mode: 'full',
    dryRun,
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
}

export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const startedMs = performance.now();
  const runId = newRunId(startedAt);
  const { config } = options;
  const logger = options.logger.child({ runId });
  const result = emptyResult(runId, startedAt, options.dryRun);
  const phase = async <T>(name: string, work: () => Promise<T> | T): Promise<T> => {
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
  const abort = (error: StopwordRefreshError): void => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  const onSignal = (): void =>
    abort(new InterruptedError('the run was interrupted by a signal; nothing was published'));
  if (options.signal.aborted) onSignal();
  options.signal.addEventListener('abort', onSignal, { once: true });
  const deadline = setTimeout(() => {
    abort(
      new DeadlineError(
        `the run exceeded maxDurationSeconds (${config.maxDurationSeconds} s) and was stopped; nothing was published`,
      ),
    );
  }, config.maxDurationSeconds * 1000);
  deadline.unref();
  const signal = controller.signal;
  const checkSignal = (): void => {
    if (!signal.aborted) return;
    const reason: unknown = signal.reason;
    throw reason instanceof StopwordRefreshError
      ? reason
      : new InterruptedError('the run was interrupted');
  };

  let publisher: RedisPublisher | null = null;
  let source: MongoSource | null = null;
  let mongoModule: typeof import('./mongo-input.js') | null = null;
  let lock: RunLock | null = null;
  let deltaStore: DfStore | null = null;
  let transaction: DeltaTransaction | null = null;
  let building: { generation: string; store: DfStore; path: string } | null = null;
  /** A full count's document writer, until it is closed. */
  let writer: DocumentWriter | null = null;
  const stateDir = new StateDir(config.state.dir);
  /** The state directory's lock, held from before the state is read until the run ends. */
  let stateLock: StateLock | null = null;
  /** Started early; null once the analysis has taken them over (and ends them). */
  let analysisWorkers: AnalysisWorkers | null = null;
  /** The plan made while the job connects; null once the plan phase has taken it. */
  let early: Promise<RunPlan> | null = null;
  /** Resolves once the job holds the run lock (a dry run: once it has connected, or not). */
  let onConnected = (): void => {};
  let notConnected = (_reason: Error): void => {};
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    notConnected = reject;
  });
  connected.catch(() => {});
  logger.info(
    { dryRun: options.dryRun, full: options.full, force: options.force === true },
    'run started',
  );
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
    if (!options.dryRun) {
      // Before anything of the state is read: no other run writes it while this one holds it.
      try {
        await stateDir.ensure();
        stateLock = StateLock.acquire(config.state.dir, { runId, now });
      } catch (error) {
        if (error instanceof StateLockHeldError) throw error;
        throw new StateError((error as Error).message, { cause: error });
      }
    }
    // The workers load their modules while the job connects and reads its state.
    const workers = startAnalysisWorkers(config.analysis.workers);
    analysisWorkers = workers;
    const readDictionary = (path: string) => readDictionaryOnWorker(workers, path);
    // The state is read while the job connects, its dictionary by a worker: the plan writes
    // nothing, and is checked against the state again once the run lock is held
    // (`stillCurrent`). The integrity check reads the whole database, which would hold up the
    // writes of a run writing it: under the state directory's lock none can, so it starts at
    // once; a dry run, which takes no lock, starts it once connected, as late as it can.
    early = planRun(stateDir, config, options.full, {
      readDictionary,
      ...(options.dryRun ? { checkAfter: connected } : {}),
    });
    early.catch(() => {});
    // A file's window ends by this host's clock; MongoDB's by the server's, read once connected.
    let windowEnd = windowEndFor(options.until, startedAt, config.source.safetyLagSeconds);
    result.window = { from: null, to: windowEnd.toISOString() };

    const connection = await phase('connect', () =>
      connectRedis({
        config,
        env: options.env,
        runId,
        dryRun: options.dryRun,
        onLockLost: (message) => abort(new LockError(message)),
      }),
    );
    onConnected();
    publisher = connection.publisher;
    lock = connection.lock;
    const live = connection.live;
    if (connection.warning !== null) {
      result.warnings.push(connection.warning);
      logger.warn({ err: connection.warning }, 'dry run continues without Redis');
    }
    checkSignal();

    if (location.kind === 'mongodb') {
      // The driver is loaded only for a MongoDB source: a run on a file starts about 50 ms sooner.
      const driver = await import('./mongo-input.js');
      mongoModule = driver;
      const mongo = location;
      const opened = await phase('source', () => driver.openMongo(config, mongo, logger));
      source = opened;
      const { serverNow, warning } = await driver.inspectMongo(opened, config);
      windowEnd = windowEndFor(options.until, serverNow, config.source.safetyLagSeconds);
      result.window = { from: null, to: windowEnd.toISOString() };
      if (warning !== null) {
        result.warnings.push(warning);
        logger.warn(warning);
      }
      logger.info({ source: opened.location }, 'MongoDB source open');
    }

    const selectionRatio = Math.min(
      config.analysis.minDocumentRatio,
      config.analysis.leaveDocumentRatio,
    );
    /**
     * Waits for a delta's integrity check, which runs while the workers analyse; a failure
     * becomes IntegrityCheckFailed, on which the run counts in full instead.
     */
    const verify = async (store: DfStore): Promise<void> => {
      try {
        await store.verified;
      } catch (error) {
        if (error instanceof StateCorruptError) {
          throw new IntegrityCheckFailed(error.message, { cause: error });
        }
        throw error;
      }
      const readAhead = store.readAhead;
      if (readAhead !== null) {
        logger.info(
          { bytes: readAhead.bytesRead, seconds: round(readAhead.seconds) },
          'state database was not in the page cache: read through before its check',
        );
      }
    };
    const warningsBefore = result.warnings.length;
    const planAndAnalyze = async (recount: Omit<FullPlan, 'mode'> | null) => {
      const plan: RunPlan = await phase('plan', async () => {
        // The state directory exists by now, unless this is a dry run, which creates nothing.
        if (recount !== null) return { mode: 'full' as const, ...recount };
        const planned = early;
        early = null;
        let made: RunPlan | null = planned === null ? null : await planned;
        if (made !== null && !(await stillCurrent(stateDir, made))) {
          logger.info(
            { planned: made.mode === 'full' ? made.reason : 'delta' },
            'reading the state again under the run lock: read before it, it may have been changing',
          );
          if (made.mode === 'delta') made.store.close();
          made = null;
        }
        made ??= await planRun(stateDir, config, options.full, { readDictionary });
        checkWindow(made, windowEnd);
        return made;
      });
      result.mode = plan.mode;
      if (plan.mode === 'full') {
        result.modeReason = plan.reason;
        if (plan.warning !== null) result.warnings.push(plan.warning);
      } else {
        deltaStore = plan.store;
        result.window.from = plan.from.toISOString();
        const integrity = plan.store.integrity;
        if (integrity !== null && !integrity.checked) {
          logger.info(
            { soundAt: integrity.soundAt.toISOString() },
            'integrity check skipped: the state was known sound within state.integrityCheckHours',
          );
        }
      }
      logger.info(
        { mode: plan.mode, from: result.window.from, to: result.window.to },
        'window fixed',
      );

      const keepRecords = plan.mode === 'full' && !options.dryRun;
      if (!options.dryRun) {
        // Unfinished generations of runs that died (with a full count's record files, which can
        // be large) go now, under the lock, whatever this run's mode.
        await stateDir.removeLeftovers((await stateDir.current())?.generation ?? null);
        // So do dictionary files a delta run wrote but never committed.
        deltaStore?.removeStaleDictionaries();
      }
      if (keepRecords) building = await stateDir.createGeneration(runId);
      if (deltaStore !== null) transaction = deltaStore.begin();
      const activeTransaction = transaction;
      const activeBuild = building;
      // Its thread starts when the workers start handing on the documents, after the count.
      const documentWriter: Pick<DocumentWriter, 'take'> | null =
        activeBuild === null
          ? null
          : {
              take: (port, credits) => {
                writer ??= activeBuild.store.documentWriter();
                return writer.take(port, credits);
              },
            };
      // Full mode: document-term pairs counted, and the frequencies selection needs.
      let occurrences = 0;
      const selectionCounts: DfTables = new Map();

      let input: CorpusInput;
      let undated = 0;
      if (location.kind === 'file') {
        input = { kind: 'file', path: location.path };
      } else {
        const window = {
          fromMs: plan.mode === 'delta' ? plan.from.getTime() : null,
          toMs: windowEnd.getTime(),
        };
        // Opened above for every MongoDB location.
        const mongo = await mongoModule!.mongoInput(source!, window, plan.mode === 'full', signal);
        if (mongo.total !== null) options.progress.total(mongo.total);
        if (mongo.undated === null) {
          result.warnings.push(
            `could not count the documents whose ${config.source.fields.updatedAt} is not a date`,
          );
        } else {
          undated = mongo.undated;
        }
        logger.info({ documents: mongo.total }, 'documents in the window');
        input = mongo.input;
      }

      const started = analysisWorkers;
      analysisWorkers = null;
      const analysis = phase('analyze', () =>
        analyzeCorpus({
          input,
          workers: config.analysis.workers,
          ...(started === null ? {} : { started }),
          settings: {
            fields: config.source.fields,
            maxDocumentBytes: config.source.maxDocumentBytes,
            mode: plan.mode,
            keepRecords,
            recordDir: activeBuild === null ? null : dirname(activeBuild.path),
            windowStartMs: plan.mode === 'delta' ? plan.from.getTime() : null,
            windowEndMs: windowEnd.getTime(),
            detectLanguage: config.analysis.detectLanguage === 'on',
            languageVariants: config.analysis.languageVariants,
            dictionary: activeTransaction?.sharedTerms() ?? null,
          },
          signal,
          onProgress: (count) => options.progress.documents(count),
          onChanges: (changes) => {
            for (const change of changes) activeTransaction?.apply(change);
          },
          ...(plan.mode === 'delta' ? { applyAfter: plan.store.verified } : {}),
          onLanguage: (language) => {
            // The dictionaries go into the new state while the workers encode the documents.
            activeBuild?.store.loadLanguage(
              language.lang,
              language.n,
              language.arena,
              language.df,
              language.cf,
            );
            for (const df of language.df) occurrences += df;
            selectionCounts.set(language.lang, selectionTable(language, selectionRatio));
          },
          onLanguagesDone: () => activeBuild?.store.saveDictionary(),
          onNumbering: (numbering, langs, ids) => {
            activeBuild?.store.loadNumbering(numbering, langs, ids);
          },
          ...(documentWriter === null ? {} : { documentWriter }),
        }).catch((error: unknown) => {
          // The state's integrity check failed (`applyAfter`): not the source's fault.
          if (error instanceof StateCorruptError) throw error;
          if (error instanceof DuplicateDocumentError) {
            const rule =
              location.kind === 'file'
                ? 'a corpus file holds one line per document'
                : `the documents' ${config.source.fields.id} must be unique`;
            throw new SourceError(`${error.message} in the source: ${rule}`, { cause: error });
          }
          if (mongoModule !== null) throw mongoModule.sourceFailure(error);
          const code = (error as NodeJS.ErrnoException).code;
          if (
            location.kind === 'file' &&
            (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')
          ) {
            throw new SourceError(`cannot read the corpus file ${location.path}: ${code}`, {
              cause: error,
            });
          }
          throw error;
        }),
      );
      let outcome: Awaited<typeof analysis>;
      try {
        outcome = await analysis;
      } catch (error) {
        // A failed check stops the analysis: then the state, not the input, is what failed.
        if (plan.mode === 'delta' && !signal.aborted) await verify(plan.store);
        throw error;
      }
      if (plan.mode === 'delta') await verify(plan.store);
      return {
        plan,
        outcome,
        activeTransaction,
        activeBuild,
        occurrences,
        selectionCounts,
        undated,
      };
    };
    let analysed: Awaited<ReturnType<typeof planAndAnalyze>>;
    try {
      analysed = await planAndAnalyze(null);
    } catch (error) {
      if (!(error instanceof IntegrityCheckFailed)) throw error;
      // Nothing the delta did is kept: its transaction goes, and the whole corpus is counted.
      logger.warn({ err: error.message }, 'state failed its integrity check; recounting in full');
      (transaction as DeltaTransaction | null)?.rollback();
      transaction = null;
      (deltaStore as DfStore | null)?.close();
      deltaStore = null;
      result.warnings.length = warningsBefore;
      result.window.from = null;
      analysed = await planAndAnalyze({
        reason: 'stateUnreadable',
        warning: `${error.message}; recounting in full`,
      });
    }
    const { plan, outcome, activeTransaction, activeBuild, occurrences, selectionCounts, undated } =
      analysed;
    checkSignal();
    const stats = outcome.stats;
    // Documents no window query can see count as bad, so a corpus full of them fails loudly.
    stats.bad.invalidUpdatedAt += undated;

    const bad: Partial<Record<BadReason, number>> = {};
    let rejected = 0;
    for (const [reason, count] of Object.entries(stats.bad) as Array<[BadReason, number]>) {
      if (count === 0) continue;
      bad[reason] = count;
      if (!LANGUAGE_REASONS.has(reason)) rejected += count;
    }
    const read =
      stats.counted + stats.deleted + stats.outsideWindow + stats.beforeWindow + rejected;
    result.documents = {
      read,
      counted: stats.counted,
      deleted: stats.deleted,
      outsideWindow: stats.outsideWindow,
      ...(plan.mode === 'delta' ? { beforeWindow: stats.beforeWindow } : {}),
      ...(config.analysis.detectLanguage === 'on'
        ? { languagesDetected: stats.languagesDetected }
        : {}),
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

    const checkpoint = {
      schemaVersion: STATE_SCHEMA_VERSION,
      windowEnd: windowEnd.toISOString(),
      lastKey: null,
      analysisKey: analysisKey(config),
      runId,
      mode: plan.mode,
      writtenAt: startedAt.toISOString(),
    };
    const tables: DfTables = await phase('count', async () => {
      if (activeBuild !== null) {
        const documents = writer as DocumentWriter | null;
        await documents?.close();
        writer = null;
        activeBuild.store.finishLoad(checkpoint);
        const recordBytes = documents?.recordBytes ?? 0;
        result.state = {
          documents: stats.counted,
          recordBytes,
          bytesPerTerm: occurrences === 0 ? 0 : round(recordBytes / occurrences, 3),
        };
      }
      if (activeTransaction === null || deltaStore === null) return selectionCounts;
      activeTransaction.flush();
      result.state = { ...activeTransaction.stats };
      const fromState: DfTables = new Map();
      for (const { lang, n } of deltaStore.languages()) {
        if (n === 0) continue;
        const minDf = Math.max(1, Math.ceil(selectionRatio * n - 1e-9));
        fromState.set(lang, { n, ...deltaStore.termsAtLeast(lang, minDf) });
      }
      return fromState;
    });
    checkSignal();

    const liveSets = new Map<string, ReadonlySet<string>>();
    if (live !== null)
      for (const [lang, words] of live.lists) liveSets.set(lang, new Set(words.keys()));
    const selections = await phase('select', () =>
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

    const violations =
      live === null ? [] : checkGuardrails(selections, liveSets, config.guardrails);
    if (violations.length > 0) {
      const message = `guardrails refused the new lists: ${describeViolations(violations)}`;
      result.guardrails = violations.map((v) => v.message);
      if (options.dryRun) {
        result.warnings.push(message);
      } else if (options.force === true) {
        result.warnings.push(`${message}; published anyway because of --force`);
        logger.warn({ violations: result.guardrails }, 'guardrails overridden by --force');
      } else {
        throw new GuardrailError(`${message}; pass --force to publish them anyway`);
      }
    }
    checkSignal();

    if (!options.dryRun && publisher !== null) {
      // What was read at the start (live lists, fence) is only worth comparing against while it
      // is still what Redis holds.
      let restarted: boolean;
      try {
        restarted = (await publisher.serverRunId()) !== connection.serverRunId;
      } catch (error) {
        throw new PublishError(`Redis: ${messageOf(error)}`, { cause: error });
      }
      if (restarted) {
        throw new PublishError(
          'Redis restarted during the run, so the live lists it read may be gone or older; nothing was published and the next run starts over',
        );
      }
    }
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
      const heldLock = lock;
      const published = await phase('publish', async () => {
        try {
          await heldLock?.assertHeld();
          checkSignal();
          return await active.publish({
            runId,
            lists,
            analyzerVersion: ANALYZER_VERSION,
            publishedAt: now(),
          });
        } catch (error) {
          if (error instanceof StopwordRefreshError) throw error;
          throw new PublishError(`publishing to Redis failed: ${messageOf(error)}`, {
            cause: error,
          });
        }
      });
      result.version = published.version;
      result.published = true;
      logger.info({ version: published.version, removed: published.removed }, 'published');
    }

    if (!options.dryRun) {
      await phase('commit', async () => {
        try {
          if (activeTransaction !== null) {
            activeTransaction.writeCheckpoint(checkpoint);
            activeTransaction.commit();
            transaction = null;
          }
          if (activeBuild !== null) {
            activeBuild.store.close();
            await stateDir.promote(activeBuild.generation);
            building = null;
            const size = await stat(activeBuild.path).catch(() => null);
            if (size !== null && result.state !== undefined) result.state.fileBytes = size.size;
          }
        } catch (error) {
          // The lists are live already; the next run redoes this window from the old checkpoint.
          throw new StateError(
            `the lists are live, but the state in ${config.state.dir} could not be committed: ${messageOf(error)}`,
            { cause: error },
          );
        }
        await writeCheckpoint(config.state.dir, {
          schemaVersion: 1,
          windowEnd: checkpoint.windowEnd,
          runId,
          analyzerVersion: ANALYZER_VERSION,
          mode: plan.mode,
          writtenAt: now().toISOString(),
        }).catch((error: unknown) => {
          result.warnings.push(
            `checkpoint.json (a copy for operators) was not written: ${messageOf(error)}`,
          );
        });
      });
    }
    result.success = true;
    result.exitCode = ExitCode.ok;
  } catch (error) {
    const failure = toFailure(
      error instanceof LockHeldError
        ? new LockError(lockHeldMessage(error), { cause: error })
        : error instanceof StateLockHeldError
          ? new LockError(`${error.message}; this run did nothing`, { cause: error })
          : error,
    );
    const locked = error instanceof LockHeldError || error instanceof StateLockHeldError;
    result.success = false;
    result.exitCode = locked ? ExitCode.locked : failure.exitCode;
    result.errors.push(failure.message);
    logger.error({ err: failure.message, kind: failure.name }, 'run failed');
  } finally {
    clearTimeout(deadline);
    options.signal.removeEventListener('abort', onSignal);
    const unused = analysisWorkers as AnalysisWorkers | null;
    if (unused !== null) await stopAnalysisWorkers(unused);
    notConnected(new Error('the run ended before it held the lock'));
    // A plan the run never took (it failed while connecting) leaves nothing open.
    const untaken = await (early as Promise<RunPlan> | null)?.catch(() => null);
    if (untaken?.mode === 'delta') untaken.store.close();
    try {
      (transaction as DeltaTransaction | null)?.rollback();
    } catch {
      // Closing the store below rolls back as well.
    }
    (deltaStore as DfStore | null)?.close();
    await (source as MongoSource | null)?.close();
    // Ended before its generation goes, as the generation's files are its own too.
    await (writer as DocumentWriter | null)?.terminate();
    const leftover = building as { generation: string; store: DfStore } | null;
    if (leftover !== null) {
      leftover.store.close();
      await stateDir.removeLeftovers(
        (await stateDir.current().catch(() => null))?.generation ?? null,
      );
    }
    // Released once nothing of the state is open or being written.
    (stateLock as StateLock | null)?.release();
    result.durationSeconds = round((performance.now() - startedMs) / 1000);
    const heldLock = lock as RunLock | null;
    if (heldLock !== null) {
      await heldLock.release().catch((error: unknown) => {
        logger.warn({ err: messageOf(error) }, 'lock not released; it expires by itself');
      });
    }
    // A dry run writes nothing to Redis, not even its own history entry.
    const active = publisher as RedisPublisher | null;
    if (active !== null && !options.dryRun) {
      await active.recordRun(JSON.stringify(result)).catch((error: unknown) => {
        logger.warn({ err: messageOf(error) }, 'run not recorded in the history');
      });
    }
    await active?.close().catch(() => undefined);
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
      mode: result.mode,
    },
    'run finished',
  );
  return result;
}

function lockHeldMessage(error: LockHeldError): string {
  const holder = error.info.holder;
  const who =
    holder === null
      ? 'another process'
      : `run ${holder.runId} on ${holder.host} (pid ${holder.pid}) since ${holder.acquiredAt}`;
  return `another run holds the lock: ${who}; this run did nothing`;
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
  return `${what} (${result.mode}): ${result.documentsProcessed.toLocaleString('en-US')} documents, ${languages} languages`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
