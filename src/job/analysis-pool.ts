/**
 * Runs the analysis of a corpus through the piscina pool: the main thread only hands out work,
 * ranges of a corpus file (which the workers read themselves) or the chunks a source produced
 * (NDJSON lines from a pipe, raw BSON documents); the workers parse, validate, tokenise and
 * count. At the end of a full count every worker's term table is drained and merged into the
 * largest, whose ids within each language become the global ids (df-table.ts); the others'
 * numberings (their ids -> the global ones) go to the job, and the workers stream their
 * documents back as they are, in pieces, while the job stores the dictionaries.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type MergedLanguage, MergedTerms } from '../analysis/df-table.js';
import { BAD_REASONS, type BadReason } from '../analysis/document.js';
import type {
  AnalyzeResult,
  ChangedDocument,
  ConfigureTask,
  DrainResult,
  DrainTask,
  EncodedDocuments,
  EncodeResult,
  EncodeTask,
  ReadyTask,
  WorkerSettings,
} from '../analysis/protocol.js';
import type { CorpusChunk } from '../corpus/chunks.js';
import { readNdjsonChunks } from '../corpus/ndjson-reader.js';
import type { DocumentWriter } from '../state/document-writer.js';
import { type LanguageParts, TermDictionary } from '../state/term-dictionary.js';
import type { ReadDictionaryTask } from './analysis-worker.js';
import { AnalysisError, InterruptedError } from './errors.js';

export interface BadDocumentSample {
  readonly line: number;
  readonly reason: BadReason;
  readonly id: string | null;
}

export interface AnalysisStats {
  /** Lines in the file, blank ones included (MongoDB: documents read). */
  lines: number;
  counted: number;
  deleted: number;
  outsideWindow: number;
  beforeWindow: number;
  languagesDetected: number;
  bad: Record<BadReason, number>;
  samples: BadDocumentSample[];
  bytes: number;
}

/** A corpus file, or chunks a source produces. */
export type CorpusInput =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'chunks'; readonly chunks: AsyncIterable<CorpusChunk> };

export interface AnalyzeOptions {
  readonly input: CorpusInput;
  readonly settings: WorkerSettings;
  readonly workers: number;
  /**
   * Workers from `startAnalysisWorkers`, `workers` of them, which the analysis takes over and
   * ends; without them it starts its own.
   */
  readonly started?: AnalysisWorkers;
  readonly chunkBytes?: number;
  readonly signal: AbortSignal;
  readonly onProgress?: (counted: number) => void;
  /** Delta mode: receives the changed documents of each chunk as they arrive. */
  readonly onChanges?: (changes: readonly ChangedDocument[]) => void;
  /**
   * Delta mode: the changes go to `onChanges` only once this has resolved (the state's
   * integrity check, which must finish before anything writes to the database); the workers
   * analyse meanwhile and their changes wait. When it rejects, none is handed on and the
   * analysis fails with its error, without waiting for the rest of the input.
   */
  readonly applyAfter?: Promise<unknown>;
  /** Changes waiting to be applied above which no more input is handed out (MAX_WAITING_CHANGES). */
  readonly maxWaitingChanges?: number;
  /**
   * Full mode with `keepRecords`: receives the numbering of each worker whose ids are not the
   * global ones (`numbering` 1, 2, …): per language `langs[i]`, `ids[i][id]` is the global id of
   * that worker's `id`. Once the merge has run, while the workers hand their documents on.
   */
  readonly onNumbering?: (
    numbering: number,
    langs: readonly string[],
    ids: readonly Uint32Array[],
  ) => void;
  /**
   * Full mode: receives each language's terms with their document and collection frequencies,
   * by global id, one language at a time in name order, while the workers hand on the
   * documents. Between two languages the event loop turns, so that the encoded pieces go to
   * `onDocuments` meanwhile and the workers do not stop for want of credits. Nothing else keeps
   * them: take what is needed.
   */
  readonly onLanguage?: (language: MergedLanguage) => void;
  /** Full mode: called once every language has gone to `onLanguage`. */
  readonly onLanguagesDone?: () => void;
  /**
   * Full mode with `keepRecords`: receives the documents, as the state stores them, in pieces of
   * a few MB. Each worker has at most PIECES_IN_FLIGHT pieces waiting for this callback.
   */
  readonly onDocuments?: (documents: EncodedDocuments) => void;
  /**
   * Full mode with `keepRecords`: stores the documents instead of `onDocuments`. Each worker
   * posts its pieces straight to the writer's thread; none passes through the job's.
   */
  readonly documentWriter?: Pick<DocumentWriter, 'take'>;
  /** Bytes of encoded records per piece handed on (default 4 MiB). */
  readonly pieceBytes?: number;
}

export type { MergedLanguage };

export interface AnalysisOutcome {
  readonly stats: AnalysisStats;
}

/** Encoded pieces a worker may post before the job has stored them. */
const PIECES_IN_FLIGHT = 2;
const DEFAULT_PIECE_BYTES = 4 << 20;

const WORKER_FILE = new URL('./analysis-worker.js', import.meta.url).href;
/**
 * NDJSON bytes per task (a range of the file, which the worker reads itself in blocks of
 * READ_BLOCK_BYTES). Each task costs a round trip through the job's thread and a search for the
 * range's first line. In a full run, 4 MB tasks took 3.9% less wall time than 512 KB ones at
 * 1M documents and 5.7% less at 200K (`npm run bench:compare`); the last task's imbalance,
 * about 2,000 documents, is a tenth of a second.
 * A delta's workers pass over most lines by their timestamp alone, so that a task costs little
 * more than handing it out: 4 MB took 0.15 s less than 1 MB at 1M documents.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;

function barrierTask<T extends ConfigureTask | DrainTask | EncodeTask | ReadyTask>(
  kind: T['kind'],
  workers: number,
  timeoutMs = 120_000,
): T {
  return { kind, barrier: new SharedArrayBuffer(4), workers, timeoutMs } as T;
}

/** How long the end of a run waits for a worker that has not started yet. */
const START_WAIT_MS = 10_000;

/**
 * Resolves once every worker has started (each takes one task of a barrier), or after
 * START_WAIT_MS. Node 20 aborts the whole process when a worker is terminated while it is still
 * loading its module (nodejs/node#43182, #53238), and a short run can end before its last
 * worker is up; `destroy` terminates them all.
 */
async function untilStarted(pool: Piscina, workers: number): Promise<void> {
  const task = barrierTask<ReadyTask>('ready', workers, START_WAIT_MS);
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, START_WAIT_MS);
  });
  const started = Promise.all(Array.from({ length: workers }, () => pool.run(task))).then(
    () => undefined,
    // A worker that cannot start fails the run elsewhere; it is ended all the same.
    () => undefined,
  );
  await Promise.race([started, giveUp]);
  clearTimeout(timer);
}

/** Longest the job's thread applies changes before it lets the event loop hand out work. */
const APPLY_SLICE_MS = 1;
/** Changes applied between two looks at the clock. */
const APPLY_BATCH = 16;

/**
 * Changed documents received and not yet applied above which no more of the input is handed
 * out: they wait in memory (a few KB each) while the job's thread applies them, or while the
 * state's integrity check runs (`applyAfter`), which takes about a second per GB of state.
 */
export const MAX_WAITING_CHANGES = 20_000;

/**
 * Hands the workers' changed documents to `apply` in slices of about APPLY_SLICE_MS, in the
 * order they arrive, yielding to the event loop between slices. Applied in one go, the changes of
 * a range (thousands, at tens of µs each) kept the job's thread from handing out the next ranges,
 * and the workers waited for it.
 */
class ChangeQueue {
  private readonly pending: Array<readonly ChangedDocument[]> = [];
  /** Changes of `pending[0]` already applied. */
  private done = 0;
  /** Changes pushed and not yet applied. */
  private waiting = 0;
  /** Resolved when `waiting` falls to `limit`, or when nothing more will be applied. */
  private wakeUps: Array<() => void> = [];
  private running = false;
  private pumping: Promise<void> = Promise.resolve();
  private stopped = false;
  /** What `apply` threw; nothing more is applied after it. */
  failure: unknown = null;

  constructor(
    private readonly apply: (changes: readonly ChangedDocument[]) => void,
    /** Nothing is applied before it resolves; its rejection is the queue's failure. */
    private gate: Promise<unknown> | null = null,
    private readonly limit = MAX_WAITING_CHANGES,
  ) {
    gate?.catch((error: unknown) => {
      this.failure ??= error;
      this.clear();
    });
  }

  push(changes: readonly ChangedDocument[]): void {
    if (this.stopped || this.failure !== null) return;
    this.pending.push(changes);
    this.waiting += changes.length;
    if (!this.running) {
      // `running` first: the pump may apply everything before its first await.
      this.running = true;
      this.pumping = this.pump();
    }
  }

  /** Resolves once every change pushed so far is applied, or `apply` has failed. */
  async drained(): Promise<void> {
    while (this.running) await this.pumping;
  }

  /**
   * Resolves once at most `limit` changes wait, or once none will be applied any more (failed or
   * stopped): the input is handed out no faster than the changes are applied.
   */
  room(signal: AbortSignal): Promise<void> {
    if (this.waiting <= this.limit || this.stopped || this.failure !== null || signal.aborted) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.wakeUps.push(done);
    });
  }

  /** Applies nothing more; `drained` then resolves after the slice under way, if any. */
  stop(): void {
    this.stopped = true;
    this.wake();
  }

  private wake(): void {
    const wakeUps = this.wakeUps;
    this.wakeUps = [];
    for (const resolve of wakeUps) resolve();
  }

  private clear(): void {
    this.pending.length = 0;
    this.waiting = 0;
    this.wake();
  }

  private async pump(): Promise<void> {
    try {
      if (this.gate !== null) {
        await this.gate;
        this.gate = null;
      }
      while (this.pending.length > 0 && !this.stopped) {
        const deadline = performance.now() + APPLY_SLICE_MS;
        do {
          const changes = this.pending[0]!;
          const end = Math.min(changes.length, this.done + APPLY_BATCH);
          this.apply(
            this.done === 0 && end === changes.length ? changes : changes.slice(this.done, end),
          );
          this.waiting -= end - this.done;
          this.done = end;
          if (end === changes.length) {
            this.pending.shift();
            this.done = 0;
          }
        } while (this.pending.length > 0 && performance.now() < deadline);
        if (this.waiting <= this.limit) this.wake();
        if (this.pending.length > 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.failure = error;
      this.clear();
    } finally {
      this.running = false;
    }
  }
}

/**
 * Analysis workers started ahead of the analysis: they load their modules while the job connects
 * and reads its state, and `analyzeCorpus` gives them the run's settings once it knows them.
 */
export interface AnalysisWorkers {
  readonly pool: Piscina;
  readonly workers: number;
  /** An error outside any task (a worker failing to start, say), kept until the analysis. */
  failure: unknown;
}

export function startAnalysisWorkers(workers: number): AnalysisWorkers {
  const pool = new Piscina({
    filename: WORKER_FILE,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 2 ** 31 - 1,
  });
  const started: AnalysisWorkers = { pool, workers, failure: null };
  // Unhandled, the pool's 'error' event would end the process.
  pool.on('error', (error: unknown) => {
    started.failure ??= error;
  });
  return started;
}

/**
 * A state's term dictionary read by one of the started workers (`ReadDictionaryTask`), for
 * `DfStore.open`: the job's thread meanwhile goes on (it connects to Redis).
 */
export async function readDictionaryOnWorker(
  started: AnalysisWorkers,
  path: string,
): Promise<TermDictionary> {
  const task: ReadDictionaryTask = { kind: 'readDictionary', path };
  return TermDictionary.fromParts((await started.pool.run(task)) as LanguageParts[]);
}

/** Ends workers that no analysis took over (the run failed before it analysed anything). */
export async function stopAnalysisWorkers(started: AnalysisWorkers): Promise<void> {
  await untilStarted(started.pool, started.workers);
  await started.pool.destroy();
}

function emptyBadCounts(): Record<BadReason, number> {
  return Object.fromEntries(BAD_REASONS.map((reason) => [reason, 0])) as Record<BadReason, number>;
}

export async function analyzeCorpus(options: AnalyzeOptions): Promise<AnalysisOutcome> {
  const workers = options.workers;
  const started = options.started ?? startAnalysisWorkers(workers);
  if (started.workers !== workers) {
    await stopAnalysisWorkers(started);
    throw new Error(`${started.workers} analysis workers were started for ${workers}`);
  }
  const pool = started.pool;
  const stats: AnalysisStats = {
    lines: 0,
    counted: 0,
    deleted: 0,
    outsideWindow: 0,
    beforeWindow: 0,
    languagesDetected: 0,
    bad: emptyBadCounts(),
    samples: [],
    bytes: 0,
  };
  // Line counts per chunk turn a sample's line-within-chunk into a line of the file.
  let lineCounts = new Uint32Array(1024);
  // The first sample of each reason, by position in the file.
  const firstSamples = new Map<BadReason, { seq: number; sample: BadDocumentSample }>();
  const offerSample = (seq: number, sample: BadDocumentSample): void => {
    const current = firstSamples.get(sample.reason);
    if (
      current === undefined ||
      seq < current.seq ||
      (seq === current.seq && sample.line < current.sample.line)
    ) {
      firstSamples.set(sample.reason, { seq, sample });
    }
  };
  const countedByWorker = new Map<string, number>();
  const inflight = new Set<Promise<void>>();
  const maxInflight = workers * 3;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  // Any error of a task fails the analysis, as one outside a task (a worker failing to start).
  const fail = (error: unknown): void => {
    started.failure ??= error;
  };
  const changes = new ChangeQueue(
    (applied) => options.onChanges?.(applied),
    options.applyAfter ?? null,
    options.maxWaitingChanges ?? MAX_WAITING_CHANGES,
  );

  const setLines = (seq: number, lines: number): void => {
    if (seq >= lineCounts.length) {
      const grown = new Uint32Array(lineCounts.length * 2);
      grown.set(lineCounts);
      lineCounts = grown;
    }
    lineCounts[seq] = lines;
  };
  const onResult = (seq: number, result: AnalyzeResult): void => {
    setLines(seq, result.lines);
    stats.counted += result.counted;
    stats.deleted += result.deleted;
    stats.outsideWindow += result.outsideWindow;
    stats.beforeWindow += result.beforeWindow;
    stats.languagesDetected += result.languagesDetected;
    if (result.changes.length > 0) changes.push(result.changes);
    for (const [reason, count] of Object.entries(result.bad) as Array<[BadReason, number]>) {
      stats.bad[reason] += count;
    }
    for (const sample of result.samples) offerSample(seq, sample);
    countedByWorker.set(
      result.workerId,
      (countedByWorker.get(result.workerId) ?? 0) + result.counted,
    );
    options.onProgress?.(stats.counted);
  };
  const track = (run: Promise<AnalyzeResult>, seq: number): void => {
    const task = run.then(
      (result) => onResult(seq, result),
      (error: unknown) => {
        fail(error);
      },
    );
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  };

  let file: FileHandle | null = null;
  try {
    // The run's settings, to every worker before its first task.
    const configureTask = {
      ...barrierTask<ConfigureTask>('configure', workers),
      settings: options.settings,
    };
    await Promise.all(Array.from({ length: workers }, () => pool.run(configureTask))).catch(
      (error: unknown) => {
        throw new AnalysisError(`analysis worker failed: ${errorMessage(error)}`, { cause: error });
      },
    );
    let seq = 0;
    const input = options.input;
    const maxLineBytes = options.settings.maxDocumentBytes * 6 + 64 * 1024;
    let pieces: AsyncIterable<CorpusChunk> | Iterable<CorpusRange> = [];
    let size = 0;
    let fd = -1;
    if (input.kind === 'chunks') {
      pieces = input.chunks;
    } else if (await isRegularFile(input.path)) {
      // The workers read the file themselves, a range each, through the job's descriptor.
      file = await open(input.path, 'r');
      fd = file.fd;
      size = (await file.stat()).size;
      pieces = fileRanges(size, chunkBytes, options.settings.mode === 'delta');
    } else {
      // A pipe or a device can only be streamed.
      pieces = readNdjsonChunks(input.path, {
        chunkBytes,
        maxLineBytes,
      });
    }
    for await (const item of pieces) {
      await changes.room(options.signal);
      if (options.signal.aborted) throw abortError(options.signal);
      if (started.failure !== null || changes.failure !== null) break;
      // A range's place in the file, whatever the order the ranges are handed out in.
      const mySeq = item.kind === 'range' ? item.index : seq;
      seq++;
      if (item.kind === 'range') {
        stats.bytes += item.end - item.start;
        const range = { fd, start: item.start, end: item.end, size, maxLineBytes };
        track(
          pool.run({ kind: 'analyze', format: 'range', range }, { signal: options.signal }),
          mySeq,
        );
        if (inflight.size >= maxInflight) await Promise.race(inflight);
        continue;
      }
      if (item.kind === 'overlongLine') {
        setLines(mySeq, 1);
        stats.bad.lineTooLong++;
        stats.bytes += item.bytes;
        offerSample(mySeq, { line: 1, reason: 'lineTooLong', id: null });
        continue;
      }
      stats.bytes += item.bytes.byteLength;
      track(
        pool.run(
          { kind: 'analyze', format: item.kind === 'bson' ? 'bson' : 'ndjson', chunk: item.bytes },
          { transferList: [item.bytes.buffer as ArrayBuffer], signal: options.signal },
        ),
        mySeq,
      );
      if (inflight.size >= maxInflight) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    await changes.drained();
    if (changes.failure !== null) throw changes.failure;
    if (options.signal.aborted) throw abortError(options.signal);
    const failure = started.failure;
    if (failure !== null) {
      throw new AnalysisError(`analysis worker failed: ${errorMessage(failure)}`, {
        cause: failure,
      });
    }

    if (options.settings.mode === 'full') {
      // One task object for all: they must share the barrier.
      const drainTask = barrierTask<DrainTask>('drain', workers);
      const drained = (await Promise.all(
        Array.from({ length: workers }, () => pool.run(drainTask)),
      )) as DrainResult[];
      let drainedCount = 0;
      for (const result of drained) drainedCount += result.counted;
      // A worker that died and was replaced would have lost its counts: refuse a partial answer.
      if (
        drainedCount !== stats.counted ||
        new Set(drained.map((d) => d.workerId)).size !== workers
      ) {
        throw new AnalysisError(
          `analysis workers returned ${drainedCount} documents but ${stats.counted} were counted`,
        );
      }
      // The largest table first: the merge takes it over, ids and all, and adds the others'
      // terms to it one by one.
      drained.sort((a, b) => b.terms.size - a.terms.size);
      const workerIds = drained.map((result) => result.workerId);
      // The workers hand their records on as they are, each in its own numbering, so they start
      // before the merge and hand on while it runs.
      const encoding = options.settings.keepRecords
        ? encodeDocuments(pool, workerIds, options)
        : Promise.resolve();
      // Observed from now on: the loop below lets the event loop turn while it may fail.
      encoding.catch(() => {});
      // Caught here and thrown once the workers have handed everything on, so that they have
      // finished with their record files when the analysis fails. The merged terms are copied
      // out meanwhile, a language at a time: done in one go, it kept the job's thread from
      // storing the workers' pieces for 0.7 s at 1M documents, and both workers waited for
      // credits with a core idle.
      let languageFailure: unknown = null;
      try {
        const merged = new MergedTerms();
        const langsOf = drained.map((result) => result.terms.langs);
        const numberings = drained.map((result) => merged.add(result.terms));
        drained.length = 0;
        const globalIds = merged.globalIds();
        if (options.settings.keepRecords) {
          numberings.forEach((ids, numbering) => {
            if (ids !== null) options.onNumbering?.(numbering, langsOf[numbering]!, ids);
          });
        }
        for (const language of globalIds.languages) {
          options.onLanguage?.(merged.mergedLanguage(language));
          await new Promise((resolve) => setImmediate(resolve));
        }
        options.onLanguagesDone?.();
      } catch (error) {
        languageFailure = error;
      }
      await encoding;
      if (languageFailure !== null) throw languageFailure;
    }

    let line = 0;
    const firstLine = new Float64Array(seq + 1);
    for (let i = 0; i < seq; i++) {
      firstLine[i] = line;
      line += lineCounts[i] ?? 0;
    }
    stats.lines = line;
    stats.samples = [...firstSamples.values()]
      .map(({ seq: s, sample }) => ({ ...sample, line: (firstLine[s] ?? 0) + sample.line }))
      .sort((a, b) => a.line - b.line);
    return { stats };
  } catch (error) {
    if (options.signal.aborted) throw abortError(options.signal);
    throw error;
  } finally {
    // No change may be applied once the caller has heard how the analysis ended.
    changes.stop();
    await changes.drained();
    await untilStarted(pool, workers);
    await pool.destroy();
    // Only now: no worker is left to read through the descriptor.
    await file?.close();
  }
}

/** A range of the corpus file: its worker analyses the lines that start in it. */
interface CorpusRange {
  readonly kind: 'range';
  /** The range's place in the file, from 0. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The file's ranges, from its start, or from its end when `lastFirst`. A delta run reads the
 * last ones first: a corpus exported in `updatedAt` order has its changed documents at its end,
 * and the job's thread then applies them while the workers pass over the rest of the file,
 * instead of after them with a core idle. Changes are applied in the order they come back from
 * the workers anyway, and a stale version never replaces a newer one.
 *
 * From the end, the first ranges are small and double up to `rangeBytes` (1/16 of it, twice,
 * then 1/8 twice, …): the job's thread has nothing to apply until a worker finishes its first
 * range, and a 4 MB range of changed documents kept it waiting about 0.3 s at 1M. The larger
 * ranges after them keep the handing out cheap over the lines the workers pass by.
 */
export function* fileRanges(
  size: number,
  rangeBytes: number,
  lastFirst: boolean,
): Generator<CorpusRange> {
  if (!lastFirst) {
    const count = Math.ceil(size / rangeBytes);
    for (let index = 0; index < count; index++) {
      const start = index * rangeBytes;
      yield { kind: 'range', index, start, end: Math.min(size, start + rangeBytes) };
    }
    return;
  }
  // Ends from the file's end backwards; a range's index is still its place from the start.
  const starts: number[] = [];
  let end = size;
  let step = Math.max(1, Math.floor(rangeBytes / 16));
  for (let k = 0; end > 0; k++) {
    starts.push(Math.max(0, end - step));
    end -= step;
    if (k % 2 === 1 && step < rangeBytes) step = Math.min(rangeBytes, step * 2);
  }
  const count = starts.length;
  for (let k = 0; k < count; k++) {
    const start = starts[k]!;
    yield { kind: 'range', index: count - 1 - k, start, end: k === 0 ? size : starts[k - 1]! };
  }
}

/**
 * Whether `path` is a regular file, which the workers can read in ranges. A directory is refused
 * as reading it would be (EISDIR); a missing or unreadable path rejects with its own code.
 */
async function isRegularFile(path: string): Promise<boolean> {
  const info = await stat(path);
  if (info.isDirectory()) {
    const error: NodeJS.ErrnoException = new Error(
      `EISDIR: illegal operation on a directory, read '${path}'`,
    );
    error.code = 'EISDIR';
    throw error;
  }
  return info.isFile();
}

/**
 * Has each worker hand its documents on, marked with its numbering (`workerIds[k]` has number
 * k), in pieces on a port of its own, at most PIECES_IN_FLIGHT ahead of `onDocuments`; resolves
 * when every piece has been handed over.
 */
async function encodeDocuments(
  pool: Piscina,
  workerIds: readonly string[],
  { onDocuments, documentWriter, signal, pieceBytes = DEFAULT_PIECE_BYTES }: AnalyzeOptions,
): Promise<void> {
  const numberings = new Map(workerIds.map((id, k) => [id, k]));
  const barrier = barrierTask<EncodeTask>('encode', workerIds.length);
  let failure: unknown = null;
  const runs = workerIds.map(async () => {
    const { port1, port2 } = new MessageChannel();
    const credits = new Int32Array(new SharedArrayBuffer(4));
    credits[0] = PIECES_IN_FLIGHT;
    const task: EncodeTask = {
      ...barrier,
      numberings,
      port: port2,
      credits: credits.buffer,
      pieceBytes,
    };
    if (documentWriter !== undefined) {
      const receipt = documentWriter.take(port1, credits.buffer);
      const result = (await pool.run(task, { transferList: [port2], signal })) as EncodeResult;
      // The writer gives credits back after a failure too: the other workers finish handing on.
      await receipt.stored(result.pieces).catch((error: unknown) => {
        failure ??= error;
      });
      return;
    }
    let received = 0;
    let expected = -1;
    let allReceived: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    port1.on('message', (piece: EncodedDocuments) => {
      received++;
      try {
        if (failure === null) onDocuments?.(piece);
      } catch (error) {
        failure = error;
      }
      Atomics.add(credits, 0, 1);
      Atomics.notify(credits, 0);
      if (received === expected) allReceived();
    });
    try {
      const result = (await pool.run(task, { transferList: [port2], signal })) as EncodeResult;
      expected = result.pieces;
      if (received < expected) await done;
    } finally {
      port1.close();
    }
  });
  await Promise.all(runs);
  if (failure !== null) throw failure;
}

/** The abort's own reason (a deadline, a signal) when it is an error, so callers see why. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new InterruptedError('the run was interrupted');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
