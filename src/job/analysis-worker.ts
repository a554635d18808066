/**
 * The piscina worker: a thin wrapper that turns NDJSON or BSON chunks into per-document term
 * counts with the analysis code (which does no I/O itself; the worker keeps a full count's
 * records in a state file, see state/record-spill.ts). In a full count it keeps this thread's document and collection frequencies (and, when
 * they are to be stored, each document's term ids and frequencies) until the job drains them,
 * which keeps per-term work off the main thread; in a delta it returns the changed documents for
 * the job to apply.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { scanBsonChunk } from '../analysis/bson-chunk.js';
import { type LineValue, scanChunk } from '../analysis/chunk-lines.js';
import { loadDetector } from '../analysis/detect.js';
import { FullCounter } from '../analysis/df-table.js';
import { type BadReason, DocumentValidator } from '../analysis/document.js';
import type {
  AnalyzeResult,
  AnalyzeTask,
  BadSample,
  ChangedDocument,
  DrainResult,
  EncodedDocuments,
  EncodeResult,
  EncodeTask,
  WorkerResult,
  WorkerSettings,
  WorkerTask,
} from '../analysis/protocol.js';
import { sortTermCounts } from '../analysis/term-ids.js';
import { DocumentTerms, type SharedTerms, sharedTermIds } from '../analysis/term-table.js';
import { TimePrefilter } from '../analysis/time-prefilter.js';
import {
  addPreparedTermRanges,
  addTermRanges,
  languageVariants,
  normalizeLanguage,
  preparesDirectly,
} from '../analysis/tokenizer.js';
import { ReadBuffer, readLineRange } from '../corpus/ndjson-range.js';
import { FileRecordBlocks } from '../state/record-spill.js';
import { type LanguageParts, TermDictionary } from '../state/term-dictionary.js';

const workerId = randomUUID();
const terms = new DocumentTerms();
const NO_TERMS = new Uint32Array(0);
/** The block a range of the corpus file is read into, kept from one task to the next. */
const readBuffer = new ReadBuffer();
let knownIds = new Uint32Array(512);
let knownTfs = new Uint32Array(512);
let idScratch = new Int32Array(512);

/** What a run's settings make of this worker, from its `configure` task on. */
interface Configured {
  readonly settings: WorkerSettings;
  readonly validator: DocumentValidator;
  /** Full mode: this thread's counts (a delta returns its changes instead). */
  readonly counter: FullCounter | null;
  /** Delta mode: the state's terms by language, shared read-only by the job. */
  readonly dictionary: ReadonlyMap<string, SharedTerms>;
  readonly variants: ReturnType<typeof languageVariants>;
  readonly detector: Awaited<ReturnType<typeof loadDetector>> | null;
  /** Most lines of a corpus file are unchanged since the last run: their timestamp read unparsed. */
  readonly prefilter: TimePrefilter | null;
  /** The text member's name in UTF-8, when its text can be prepared from the line's bytes. */
  readonly textKey: Buffer | undefined;
}

/**
 * The name of the one text field, as the bytes a line or a BSON document holds it in, when
 * `scanChunk` and `scanBsonChunk` can prepare its text straight from them: a single top-level
 * field whose name JSON writes unescaped.
 */
function directTextKey(fields: WorkerSettings['fields']): Buffer | undefined {
  if (fields.text.length !== 1) return undefined;
  const name = fields.text[0]!;
  if (name.includes('.') || JSON.stringify(name) !== `"${name}"`) return undefined;
  return Buffer.from(name, 'utf8');
}

let configured: Configured | null = null;

async function configure(settings: WorkerSettings): Promise<null> {
  if (configured !== null) throw new Error('the analysis worker is configured already');
  configured = {
    settings,
    validator: new DocumentValidator(settings),
    counter:
      settings.mode === 'full'
        ? new FullCounter(
            settings.keepRecords,
            settings.keepRecords && settings.recordDir !== null
              ? new FileRecordBlocks(join(settings.recordDir, `records-${workerId}.tmp`))
              : undefined,
            settings.recordBlockBytes,
          )
        : null,
    dictionary: new Map((settings.dictionary ?? []).map((language) => [language.lang, language])),
    variants: languageVariants(settings.languageVariants),
    detector: settings.detectLanguage ? await loadDetector() : null,
    prefilter:
      settings.mode === 'delta' && TimePrefilter.usable(settings.fields.updatedAt)
        ? new TimePrefilter(settings.fields.updatedAt)
        : null,
    textKey: directTextKey(settings.fields),
  };
  return null;
}

function fullCounter(): FullCounter {
  const { counter } = current();
  if (counter === null) throw new Error('a delta run keeps no counts to drain or encode');
  return counter;
}

function current(): Configured {
  if (configured === null)
    throw new Error('the analysis worker was given a task before its settings');
  return configured;
}

/**
 * A changed document from `terms`: the terms the shared dictionary knows by id (the main thread
 * then only adds to their counts), the others as strings.
 */
function changedDocument(id: string, lang: string, updatedAtMs: number): ChangedDocument {
  const shared = current().dictionary.get(lang);
  const size = terms.size;
  if (shared === undefined) {
    return {
      id,
      lang,
      updatedAtMs,
      deleted: false,
      known: NO_TERMS,
      terms: Array.from({ length: size }, (_, k) => terms.term(k)),
      tfs: terms.tfs.slice(0, size),
    };
  }
  if (knownIds.length < size) {
    knownIds = new Uint32Array(2 * size);
    knownTfs = new Uint32Array(2 * size);
    idScratch = new Int32Array(2 * size);
  }
  const ids = idScratch;
  sharedTermIds(shared, terms, ids);
  const others: string[] = [];
  const otherTfs: number[] = [];
  let found = 0;
  for (let k = 0; k < size; k++) {
    const termId = ids[k]!;
    if (termId >= 0) {
      knownIds[found] = termId;
      knownTfs[found++] = terms.tfs[k]!;
    } else {
      others.push(terms.term(k));
      otherTfs.push(terms.tfs[k]!);
    }
  }
  // Sorted here, where there is time to spare: the main thread then sorts only the others.
  sortTermCounts(knownIds, knownTfs, found);
  const known = new Uint32Array(2 * found);
  for (let i = 0; i < found; i++) {
    known[2 * i] = knownIds[i]!;
    known[2 * i + 1] = knownTfs[i]!;
  }
  return {
    id,
    lang,
    updatedAtMs,
    deleted: false,
    known,
    terms: others,
    tfs: Uint32Array.from(otherTfs),
  };
}

function analyze(task: AnalyzeTask): AnalyzeResult {
  const bad: Partial<Record<BadReason, number>> = {};
  const samples: BadSample[] = [];
  const changes: ChangedDocument[] = [];
  let counted = 0;
  let deleted = 0;
  let outsideWindow = 0;
  let beforeWindow = 0;
  let languagesDetected = 0;
  const reject = (reason: BadReason, line: number, id: string | null): void => {
    const seen = bad[reason] ?? 0;
    bad[reason] = seen + 1;
    // The first occurrence of each reason is enough to find the rest.
    if (seen === 0) samples.push({ line, reason, id });
  };
  const { settings, validator, counter, variants, detector, prefilter, textKey } = current();
  const delta = settings.mode === 'delta';
  const windowStart = settings.windowStartMs ?? Number.NEGATIVE_INFINITY;

  const skip =
    prefilter === null
      ? undefined
      : (buf: Buffer, start: number, end: number): boolean => {
          const at = prefilter.read(buf, start, end);
          if (at === null) return false;
          if (at < windowStart) beforeWindow++;
          else if (at >= settings.windowEndMs) outsideWindow++;
          else return false;
          return true;
        };
  const onDocument = (line: number, value: LineValue): void => {
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
    const prepared = value.prepared;
    if (prepared !== undefined && validator.textTooLarge(prepared.bytes)) {
      reject('textTooLarge', line, doc.id);
      return;
    }
    if (doc.updatedAtMs >= settings.windowEndMs) {
      outsideWindow++;
      return;
    }
    if (delta && doc.updatedAtMs < windowStart) {
      beforeWindow++;
      return;
    }
    let language = normalizeLanguage(doc.rawLang, variants);
    if (doc.deleted) {
      deleted++;
      if (delta) {
        changes.push({
          id: doc.id,
          lang: language.lang,
          updatedAtMs: doc.updatedAtMs,
          deleted: true,
          known: NO_TERMS,
          terms: [],
          tfs: NO_TERMS,
        });
      }
      return;
    }
    if (language.problem !== null) {
      reject(language.problem === 'missing' ? 'missingLanguage' : 'invalidLanguage', line, doc.id);
      const detected = detector?.detect(prepared?.text() ?? doc.text) ?? null;
      if (detected !== null) {
        language = { lang: detected, problem: null };
        languagesDetected++;
      }
    }
    terms.clear();
    if (prepared === undefined) {
      addTermRanges(doc.text, language.lang, terms);
    } else if (preparesDirectly(language.lang)) {
      addPreparedTermRanges(prepared.length, prepared.links, language.lang, terms);
    } else {
      addTermRanges(prepared.text(), language.lang, terms);
    }
    counted++;
    if (delta) {
      changes.push(changedDocument(doc.id, language.lang, doc.updatedAtMs));
    } else {
      counter?.addDocument(doc.id, language.lang, doc.updatedAtMs, terms);
    }
  };
  let lines = 0;
  if (task.format === 'range') {
    readLineRange(
      task.range,
      readBuffer,
      (block) => {
        const before = lines;
        lines += scanChunk(block, (line, value) => onDocument(before + line, value), skip, textKey);
      },
      () => {
        lines++;
        reject('lineTooLong', lines, null);
      },
    );
  } else if (task.format === 'bson') {
    lines = scanBsonChunk(task.chunk, onDocument, textKey);
  } else {
    lines = scanChunk(task.chunk, onDocument, skip, textKey);
  }
  return {
    kind: 'analyze',
    workerId,
    lines,
    counted,
    deleted,
    outsideWindow,
    beforeWindow,
    languagesDetected,
    bad,
    samples,
    changes,
  };
}

/** Waits at the task's barrier until every worker has arrived. */
function waitForAllWorkers(task: {
  barrier: SharedArrayBuffer;
  workers: number;
  timeoutMs: number;
}): void {
  const view = new Int32Array(task.barrier);
  const place = Atomics.add(view, 0, 1);
  if (place + 1 >= task.workers) Atomics.notify(view, 0);
  const deadline = Date.now() + task.timeoutMs;
  for (;;) {
    const arrived = Atomics.load(view, 0);
    if (arrived >= task.workers) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`barrier: ${arrived} of ${task.workers} workers arrived`);
    Atomics.wait(view, 0, arrived, left);
  }
}

/** Marks the buffers of `value` for transfer rather than copy. */
function transferring(value: WorkerResult, buffers: ArrayBufferLike[]): unknown {
  // An object carrying both symbols is transferable; move() marks it so piscina honours that.
  return Piscina.move({
    [Piscina.transferableSymbol]: buffers,
    [Piscina.valueSymbol]: value,
  } as unknown as ArrayBuffer);
}

function drain(): unknown {
  const counter = fullCounter();
  const result: DrainResult = {
    kind: 'drain',
    workerId,
    counted: counter.counted,
    terms: counter.terms(),
  };
  const t = result.terms;
  // The table's own memory moves to the job's thread, which merges into it: nothing is copied.
  return transferring(result, [t.documents.buffer, t.slots.buffer, t.heap.buffer]);
}

function encode(task: EncodeTask): EncodeResult {
  const counter = fullCounter();
  const numbering = task.numberings.get(workerId);
  if (numbering === undefined) throw new Error(`no numbering for analysis worker ${workerId}`);
  const credits = new Int32Array(task.credits);
  let documents = 0;
  let pieces = 0;
  const post = (piece: EncodedDocuments): void => {
    // At most the job's credits are in flight: memory stays bounded while it stores them.
    // No time limit: storing the dictionaries first can take minutes on a large corpus, and
    // the job's deadline or a signal ends the task by terminating this thread.
    while (Atomics.load(credits, 0) <= 0) Atomics.wait(credits, 0, 0);
    Atomics.sub(credits, 0, 1);
    task.port.postMessage(piece, [
      piece.langOf.buffer as ArrayBuffer,
      piece.updatedAt.buffer as ArrayBuffer,
      piece.records.buffer as ArrayBuffer,
      piece.ends.buffer as ArrayBuffer,
    ]);
    documents += piece.ids.length;
    pieces++;
  };
  counter.handOn(numbering, post, task.pieceBytes);
  return { kind: 'encode', workerId, documents, pieces };
}

/**
 * Reads a state's term dictionary for the job, which takes its arrays over without a copy
 * (`TermDictionary.fromParts`): one worker reads the file and builds the lookup tables while the
 * job's thread connects to Redis, before any analysis.
 */
export interface ReadDictionaryTask {
  readonly kind: 'readDictionary';
  readonly path: string;
}

function readDictionary(task: ReadDictionaryTask): LanguageParts[] {
  return TermDictionary.readIndexed(task.path).parts();
}

export default function run(task: WorkerTask | ReadDictionaryTask): unknown {
  switch (task.kind) {
    case 'readDictionary':
      return readDictionary(task);
    case 'configure':
      // Each worker must have the settings: the barrier gives each exactly one such task.
      waitForAllWorkers(task);
      return configure(task.settings);
    case 'analyze':
      return analyze(task);
    case 'drain':
      // Holding every worker at the barrier guarantees that each one receives exactly one.
      waitForAllWorkers(task);
      return drain();
    case 'encode':
      // Each worker must hand on its own documents: the barrier gives each exactly one task.
      waitForAllWorkers(task);
      return encode(task);
    case 'ready':
      waitForAllWorkers(task);
      return null;
  }
}
