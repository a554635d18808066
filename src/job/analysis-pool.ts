/**
 * Runs the analysis of one NDJSON corpus through the piscina pool: the main thread only reads
 * chunks and hands them over; the workers parse, validate, tokenise and count; at the end every
 * worker's document frequencies are drained and merged.
 */
import { Piscina } from 'piscina';
import { type DfTables, mergeTables } from '../analysis/df-table.js';
import { BAD_REASONS, type BadReason } from '../analysis/document.js';
import type {
  AnalyzeResult,
  DrainResult,
  DrainTask,
  WorkerSettings,
} from '../analysis/protocol.js';
import { readNdjsonChunks } from '../corpus/ndjson-reader.js';
import { AnalysisError, InterruptedError } from './errors.js';

export interface BadDocumentSample {
  readonly line: number;
  readonly reason: BadReason;
  readonly id: string | null;
}

export interface AnalysisStats {
  /** Lines in the file, blank ones included. */
  lines: number;
  counted: number;
  deleted: number;
  outsideWindow: number;
  bad: Record<BadReason, number>;
  samples: BadDocumentSample[];
  bytes: number;
}

export interface AnalyzeFileOptions {
  readonly path: string;
  readonly settings: WorkerSettings;
  readonly workers: number;
  readonly chunkBytes?: number;
  readonly signal: AbortSignal;
  readonly onProgress?: (counted: number) => void;
}

const WORKER_FILE = new URL('../analysis/worker.js', import.meta.url).href;
const DEFAULT_CHUNK_BYTES = 128 * 1024;

function emptyBadCounts(): Record<BadReason, number> {
  return Object.fromEntries(BAD_REASONS.map((reason) => [reason, 0])) as Record<BadReason, number>;
}

export async function analyzeFile(
  options: AnalyzeFileOptions,
): Promise<{ tables: DfTables; stats: AnalysisStats }> {
  const workers = options.workers;
  const pool = new Piscina({
    filename: WORKER_FILE,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 2 ** 31 - 1,
    workerData: options.settings,
  });
  const stats: AnalysisStats = {
    lines: 0,
    counted: 0,
    deleted: 0,
    outsideWindow: 0,
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
  let failure: unknown = null;

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

  try {
    let seq = 0;
    const maxLineBytes = options.settings.maxDocumentBytes * 6 + 64 * 1024;
    for await (const item of readNdjsonChunks(options.path, {
      chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      maxLineBytes,
    })) {
      if (options.signal.aborted) throw abortError(options.signal);
      if (failure !== null) break;
      const mySeq = seq++;
      if (item.kind === 'overlongLine') {
        setLines(mySeq, 1);
        stats.bad.lineTooLong++;
        stats.bytes += item.bytes;
        offerSample(mySeq, { line: 1, reason: 'lineTooLong', id: null });
        continue;
      }
      stats.bytes += item.bytes.byteLength;
      const task = pool
        .run(
          { kind: 'analyze', chunk: item.bytes },
          { transferList: [item.bytes.buffer as ArrayBuffer], signal: options.signal },
        )
        .then(
          (result: AnalyzeResult) => onResult(mySeq, result),
          (error: unknown) => {
            failure ??= error;
          },
        );
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      if (inflight.size >= maxInflight) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    if (options.signal.aborted) throw abortError(options.signal);
    if (failure !== null) {
      throw new AnalysisError(`analysis worker failed: ${errorMessage(failure)}`, {
        cause: failure,
      });
    }

    const barrier = new SharedArrayBuffer(4);
    const drainTask: DrainTask = { kind: 'drain', barrier, workers, timeoutMs: 60_000 };
    const drained = (await Promise.all(
      Array.from({ length: workers }, () => pool.run(drainTask)),
    )) as DrainResult[];
    const tables: DfTables = new Map();
    let drainedCount = 0;
    for (const result of drained) {
      drainedCount += result.counted;
      mergeTables(tables, result.tables);
    }
    // A worker that died and was replaced would have lost its counts: refuse a partial answer.
    if (
      drainedCount !== stats.counted ||
      new Set(drained.map((d) => d.workerId)).size !== workers
    ) {
      throw new AnalysisError(
        `analysis workers returned ${drainedCount} documents but ${stats.counted} were counted`,
      );
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
    return { tables, stats };
  } catch (error) {
    if (options.signal.aborted) throw abortError(options.signal);
    throw error;
  } finally {
    await pool.destroy();
  }
}

/** The abort's own reason (a deadline, a signal) when it is an error, so callers see why. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new InterruptedError('the run was interrupted');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
