/**
 * The piscina worker: a thin wrapper that turns NDJSON chunks into per-document term sets and
 * keeps this thread's document frequencies until the job drains them. Accumulating here, rather
 * than returning per-chunk counts, keeps the main thread free of per-term work.
 */
import { randomUUID } from 'node:crypto';
import { Piscina } from 'piscina';
import { scanChunk } from './chunk-lines.js';
import { DfAccumulator } from './df-table.js';
import { type BadReason, DocumentValidator } from './document.js';
import type {
  AnalyzeResult,
  BadSample,
  DrainResult,
  DrainTask,
  WorkerResult,
  WorkerSettings,
  WorkerTask,
} from './protocol.js';
import { addTerms, normalizeLanguage } from './tokenizer.js';

const workerId = randomUUID();
const settings = Piscina.workerData as WorkerSettings;
const validator = new DocumentValidator(settings);
const accumulator = new DfAccumulator();
const terms = new Set<string>();

function analyze(chunk: Uint8Array): AnalyzeResult {
  const bad: Partial<Record<BadReason, number>> = {};
  const samples: BadSample[] = [];
  let counted = 0;
  let deleted = 0;
  let outsideWindow = 0;
  const reject = (reason: BadReason, line: number, id: string | null): void => {
    const seen = bad[reason] ?? 0;
    bad[reason] = seen + 1;
    // The first occurrence of each reason is enough to find the rest.
    if (seen === 0) samples.push({ line, reason, id });
  };

  const lines = scanChunk(chunk, (line, value) => {
    if (typeof value === 'string') {
      reject(value, line, null);
      return;
    }
    const check = validator.check(value.parsed);
    if (!check.ok) {
      reject(check.reason, line, check.id);
      return;
    }
    const doc = check.doc;
    if (doc.updatedAtMs >= settings.windowEndMs) {
      outsideWindow++;
      return;
    }
    if (doc.deleted) {
      deleted++;
      return;
    }
    const language = normalizeLanguage(doc.rawLang);
    if (language.problem !== null) {
      reject(language.problem === 'missing' ? 'missingLanguage' : 'invalidLanguage', line, doc.id);
    }
    terms.clear();
    addTerms(doc.text, language.lang, terms);
    accumulator.addDocument(language.lang, terms);
    counted++;
  });
  return { kind: 'analyze', workerId, lines, counted, deleted, outsideWindow, bad, samples };
}

function waitForAllWorkers(task: DrainTask): void {
  const view = new Int32Array(task.barrier);
  if (Atomics.add(view, 0, 1) + 1 >= task.workers) Atomics.notify(view, 0);
  const deadline = Date.now() + task.timeoutMs;
  for (;;) {
    const arrived = Atomics.load(view, 0);
    if (arrived >= task.workers) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`drain barrier: ${arrived} of ${task.workers} workers arrived`);
    Atomics.wait(view, 0, arrived, left);
  }
}

function drain(task: DrainTask): unknown {
  // Holding every worker at the barrier guarantees that each one receives exactly one drain task.
  waitForAllWorkers(task);
  const counted = accumulator.counted;
  accumulator.counted = 0;
  const result: DrainResult = { kind: 'drain', workerId, counted, tables: accumulator.drain() };
  const transfer = result.tables.map((table) => table.counts.buffer);
  // An object carrying both symbols is transferable; move() marks it so piscina honours that.
  return Piscina.move({
    [Piscina.transferableSymbol]: transfer,
    [Piscina.valueSymbol]: result,
  } as unknown as ArrayBuffer);
}

export default function run(task: WorkerTask): WorkerResult | unknown {
  return task.kind === 'analyze' ? analyze(task.chunk) : drain(task);
}
