/**
 * The analysis pool's full count, in process against the built worker: every document reaches
 * the state exactly once, in pieces, with its terms (through its worker's numbering when that
 * worker's ids are not the global ones), or through a document writer's thread straight from
 * the workers; the workers' record files are gone after; a failing
 * consumer or an abort while the workers hand their documents on ends the count with that
 * error. A corpus file read in ranges by the workers gives what the same bytes streamed through
 * a pipe give. A delta hands over each changed document once, the file's last ranges first,
 * before it resolves (and none before `applyAfter` resolves, nor at all when it rejects), numbers
 * bad lines by their place in the file, and stops at its consumer's error. Workers started ahead
 * of the analysis get its settings when it takes them over, and are ended otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { languageWords, type MergedLanguage } from '../../src/analysis/df-table.js';
import type { EncodedDocuments, WorkerSettings } from '../../src/analysis/protocol.js';
import { addTerms } from '../../src/analysis/tokenizer.js';
import type * as Pool from '../../src/job/analysis-pool.js';
import { DfStore } from '../../src/state/df-store.js';
import type * as Dictionary from '../../src/state/term-dictionary.js';
import { FUNCTION_WORDS, letters, prng } from '../support/corpus.js';
import { fromDist } from '../support/dist.js';
import { readTermCounts } from '../support/term-records.js';

const DOCS = 3000;
let dir: string;
let corpus: string;
let pool: typeof Pool;
const texts = new Map<string, { lang: string; text: string }>();

beforeAll(async () => {
  pool = await fromDist<typeof Pool>('job/analysis-pool.js');
  dir = await mkdtemp(join(tmpdir(), 'swr-pool-'));
  corpus = join(dir, 'corpus.ndjson');
  const random = prng(11);
  const lines: string[] = [];
  for (let i = 0; i < DOCS; i++) {
    const lang = (['en', 'de', 'fr'] as const)[i % 3]!;
    const words = Array.from({ length: 40 }, () => {
      const fw = FUNCTION_WORDS[lang]!;
      return random() < 0.5
        ? fw[Math.floor(random() * fw.length)]!
        : letters(Math.floor(random() * 5000));
    });
    const id = `d${i}`;
    const text = words.join(' ');
    texts.set(id, { lang, text });
    lines.push(
      JSON.stringify({
        _id: id,
        lang,
        text,
        updatedAt: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      }),
    );
  }
  await writeFile(corpus, `${lines.join('\n')}\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A full count's worker settings for this corpus's fields, with `overrides`. */
function fullSettings(overrides: Partial<WorkerSettings>): WorkerSettings {
  return {
    fields: {
      id: '_id',
      lang: 'lang',
      text: ['text'],
      updatedAt: 'updatedAt',
      deleted: 'deletedAt',
    },
    maxDocumentBytes: 1 << 20,
    mode: 'full',
    keepRecords: true,
    recordDir: null,
    windowStartMs: null,
    windowEndMs: Date.UTC(2027, 0, 1),
    detectLanguage: false,
    languageVariants: [],
    ...overrides,
  };
}

async function fullCount(
  options: Partial<Pool.AnalyzeOptions> & { recordDir: string; recordBlockBytes?: number },
): Promise<{ counted: MergedLanguage[]; pieces: EncodedDocuments[]; numberings: Numberings }> {
  const { recordDir, recordBlockBytes, ...rest } = options;
  const settings = fullSettings({ recordDir, recordBlockBytes });
  const counted: MergedLanguage[] = [];
  const pieces: EncodedDocuments[] = [];
  const numberings: Numberings = new Map();
  await pool.analyzeCorpus({
    input: { kind: 'file', path: corpus },
    settings,
    workers: 2,
    chunkBytes: 16 * 1024,
    signal: new AbortController().signal,
    onLanguage: (language) => {
      counted.push(language);
    },
    onNumbering: (numbering, langs, ids) => {
      // Each numbering comes once.
      expect(numberings.has(numbering)).toBe(false);
      numberings.set(numbering, new Map(langs.map((lang, i) => [lang, ids[i]!])));
    },
    onDocuments: (piece) => pieces.push(piece),
    ...rest,
  });
  return { counted, pieces, numberings };
}

/** Per numbering, per language: a worker's id -> the global id. */
type Numberings = Map<number, Map<string, Uint32Array>>;

/**
 * Every document of the corpus once in `pieces`, with the terms and counts its text has, its
 * ids read through its numbering unless that is 0.
 */
function expectEveryDocumentOnce(
  counted: MergedLanguage[],
  pieces: EncodedDocuments[],
  numberings: Numberings,
): void {
  const termsByLang = new Map(counted.map((language) => [language.lang, languageWords(language)]));
  const seen = new Set<string>();
  for (const piece of pieces) {
    let offset = 0;
    piece.ids.forEach((id, i) => {
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      const record = readTermCounts(piece.records, offset);
      offset = record.end;
      expect(offset).toBe(piece.ends[i]);
      const lang = piece.langs[piece.langOf[i]!]!;
      const terms = termsByLang.get(lang)!;
      const numbering = piece.numbering === 0 ? null : numberings.get(piece.numbering)!.get(lang)!;
      const global = (id: number): number => (numbering === null ? id : numbering[id]!);
      const got = new Map([...record.ids].map((id, k) => [terms[global(id)]!, record.tfs[k]!]));
      const expected = new Map<string, number>();
      addTerms(texts.get(id)!.text, lang, {
        add: (term: string) => expected.set(term, (expected.get(term) ?? 0) + 1),
      });
      expect(lang).toBe(texts.get(id)!.lang);
      expect(got).toEqual(expected);
    });
  }
  expect(seen.size).toBe(DOCS);
}

describe('analyzeCorpus, full count', () => {
  it('hands every document to the state once, in pieces, with its terms and their counts', async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    const { counted, pieces, numberings } = await fullCount({ recordDir, pieceBytes: 4096 });
    // Small pieces: many per worker, so the workers wait for credits.
    expect(pieces.length).toBeGreaterThan(20);
    expectEveryDocumentOnce(counted, pieces, numberings);
    expect(await readdir(recordDir)).toEqual([]);
  });

  it("hands each worker's documents on as they are: one worker's ids are the global ones, the other's numbered", async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    // Blocks of 2 KB: each worker's records span dozens of them.
    const { counted, pieces, numberings } = await fullCount({ recordDir, recordBlockBytes: 2048 });
    expectEveryDocumentOnce(counted, pieces, numberings);
    // Pieces of 4 MB hold all of a worker's documents: one from each worker.
    expect(pieces.map((piece) => piece.numbering).sort()).toEqual([0, 1]);
    // Only the second worker has a numbering, for each language it counted, each a one-to-one
    // map onto the global ids.
    expect([...numberings.keys()]).toEqual([1]);
    const second = numberings.get(1)!;
    expect([...second.keys()].sort()).toEqual(['de', 'en', 'fr']);
    for (const [lang, ids] of second) {
      const size = counted.find((language) => language.lang === lang)!.df.length;
      expect(new Set(ids).size).toBe(ids.length);
      expect(Math.max(...ids)).toBeLessThan(size);
    }
    expect(await readdir(recordDir)).toEqual([]);
  });

  it("stores every document through a document writer, none through the job's thread", async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    const path = join(await mkdtemp(join(dir, 'state-')), 'state.sqlite');
    const store = DfStore.create(path);
    const writer = store.documentWriter();
    // Small pieces: many per worker, so the workers wait for the writer's credits.
    const { counted, pieces, numberings } = await fullCount({
      recordDir,
      pieceBytes: 4096,
      documentWriter: writer,
    });
    await writer.close();
    store.close();
    expect(pieces).toEqual([]);
    expect(writer.documents).toBe(DOCS);
    // The stored rows, as pieces of one numbering each.
    const db = new Database(path, { readonly: true });
    const stored = db
      .prepare('SELECT id, lang, numbering, terms FROM docs ORDER BY id')
      .all() as Array<{ id: string; lang: string; numbering: number; terms: Buffer }>;
    db.close();
    const rebuilt = [...new Set(stored.map((row) => row.numbering))].map((numbering) => {
      const rows = stored.filter((row) => row.numbering === numbering);
      const langs = [...new Set(rows.map((row) => row.lang))];
      const ends = new Uint32Array(rows.length);
      let end = 0;
      rows.forEach((row, i) => {
        end += row.terms.length;
        ends[i] = end;
      });
      return {
        numbering,
        ids: rows.map((row) => row.id),
        langs,
        langOf: Uint16Array.from(rows, (row) => langs.indexOf(row.lang)),
        updatedAt: new Float64Array(rows.length),
        records: Buffer.concat(rows.map((row) => row.terms)),
        ends,
      } satisfies EncodedDocuments;
    });
    expect(rebuilt.map((piece) => piece.numbering).sort()).toEqual([0, 1]);
    expectEveryDocumentOnce(counted, rebuilt, numberings);
    expect(await readdir(recordDir)).toEqual([]);
  });

  it('fails with the consumer error and still removes the record files', async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    let calls = 0;
    await expect(
      fullCount({
        recordDir,
        pieceBytes: 4096,
        onDocuments: () => {
          calls++;
          if (calls === 3) throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    expect(await readdir(recordDir)).toEqual([]);
  });

  it('hands the languages over one at a time in name order, then says it is done once', async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    const events: string[] = [];
    const { pieces } = await fullCount({
      recordDir,
      pieceBytes: 4096,
      onLanguage: (language) => events.push(language.lang),
      onLanguagesDone: () => events.push('*'),
    });
    const langs = events.slice(0, -1);
    expect(langs.length).toBeGreaterThan(1);
    expect(langs).toEqual([...new Set(langs)].sort());
    expect(events.at(-1)).toBe('*');
    expect(pieces.reduce((n, piece) => n + piece.ids.length, 0)).toBe(DOCS);
  });

  it('fails with the error a language consumer throws, once the documents are handed on', async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    let languages = 0;
    let done = false;
    await expect(
      fullCount({
        recordDir,
        pieceBytes: 4096,
        onLanguage: () => {
          languages++;
          if (languages === 2) throw new Error('state disk full');
        },
        onLanguagesDone: () => {
          done = true;
        },
      }),
    ).rejects.toThrow('state disk full');
    expect([languages, done]).toEqual([2, false]);
    expect(await readdir(recordDir)).toEqual([]);
  });

  it('stops handing the documents on when aborted', async () => {
    const recordDir = await mkdtemp(join(dir, 'records-'));
    const controller = new AbortController();
    await expect(
      fullCount({
        recordDir,
        pieceBytes: 4096,
        signal: controller.signal,
        onDocuments: () => controller.abort(new Error('deadline passed')),
      }),
    ).rejects.toThrow('deadline passed');
  });
});

describe('analyzeCorpus, a file in ranges against a pipe', () => {
  it('counts the same documents and reports the same bad lines at the same line numbers', async () => {
    // Good lines, with a byte order mark, a blank line, CRLF, bad JSON, an overlong line (the
    // limit is 6 x 1 KB + 64 KB) and a last line without its newline.
    const good = (i: number) =>
      JSON.stringify({
        _id: `g${i}`,
        lang: 'en',
        text: `the ${letters(i)} and ${letters(i * 7)} of it`,
        updatedAt: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      });
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      if (i === 50) lines.push('');
      if (i === 120) lines.push('{"_id": "broken",');
      // Longer than a worker's read block as well, so that neither reader holds it whole.
      if (i === 200) lines.push(`{"_id":"huge","text":"${'x'.repeat(600 * 1024)}"}`);
      lines.push(i % 9 === 0 ? `${good(i)}\r` : good(i));
    }
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\n'))]);
    const file = join(dir, 'mixed.ndjson');
    await writeFile(file, content);
    const fifo = join(dir, 'mixed.fifo');
    execFileSync('mkfifo', [fifo]);

    const settings = fullSettings({ maxDocumentBytes: 1024, keepRecords: false });
    const analyse = async (path: string) => {
      const counted: MergedLanguage[] = [];
      const { stats } = await pool.analyzeCorpus({
        input: { kind: 'file', path },
        settings,
        workers: 2,
        // Ranges far smaller than the overlong line, which then runs through several of them.
        chunkBytes: 4096,
        signal: new AbortController().signal,
        onLanguage: (language) => {
          counted.push(language);
        },
      });
      // Ids follow the order in which the first worker met the terms: compare terms and counts.
      const byTerm = (language: MergedLanguage) =>
        languageWords(language)
          .map((term, id) => [term, language.df[id]!, language.cf[id]!] as const)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return {
        stats,
        terms: counted.map((language) => [language.lang, language.n, byTerm(language)]),
      };
    };
    const fromFile = await analyse(file);
    const writer = writeFile(fifo, content);
    const fromPipe = await analyse(fifo);
    await writer;

    expect(fromFile.stats.counted).toBe(400);
    expect(fromFile.stats.lines).toBe(403);
    expect(fromFile.stats.bad.invalidJson).toBe(1);
    expect(fromFile.stats.bad.lineTooLong).toBe(1);
    expect(fromFile.stats.samples.map((sample) => [sample.reason, sample.line])).toEqual([
      ['invalidJson', 122],
      ['lineTooLong', 203],
    ]);
    expect(fromPipe.stats).toEqual({ ...fromFile.stats, bytes: fromPipe.stats.bytes });
    expect(fromPipe.terms).toEqual(fromFile.terms);
  });
});

describe('analyzeCorpus, texts prepared from the bytes of their lines', () => {
  it('counts what the string path counts, Turkish, escapes and scripts it leaves alone included', async () => {
    const at = '2026-01-01T00:00:00.000Z';
    const docs = [
      { _id: 'a', lang: 'fr', text: "L'Homme va à Paris, l'été. Ça va ?" },
      { _id: 'b', lang: 'tr', text: 'ILIK Istanbul ılık' },
      { _id: 'b2', lang: 'tr', text: 'İSTANBUL' },
      { _id: 'c', lang: 'ru', text: 'Привет, МИР! «Мир» и мир.' },
      { _id: 'd', lang: 'el', text: 'ΟΔΟΣ οδός Cafe\u0301 café' },
      { _id: 'e', lang: 'en', text: 'a "quoted" \\ line\nwith\ttabs www.example.org me@x.io' },
      { _id: 'f', lang: 'de', text: 'Straße STRASSE Soft\u00adhyphen' },
      { _id: 'g', lang: 'ja', text: '日本語のテキストです' },
    ];
    const lines = docs.map((d) => JSON.stringify({ ...d, updatedAt: at }));
    // An escaped member name and an escaped text: the whole-line path, and the direct one.
    lines.push(`{"_id":"h","lang":"en","te\\u0078t":"Escaped name","updatedAt":"${at}"}`);
    lines.push(`{"_id":"i","lang":"en","text":"\\u0048ello \\u00e9t\\u00C9","updatedAt":"${at}"}`);
    const file = join(dir, 'prepared.ndjson');
    await writeFile(file, lines.join('\n'));
    const analyse = async (text: string[]) => {
      const counted: MergedLanguage[] = [];
      const base = fullSettings({ keepRecords: false });
      const { stats } = await pool.analyzeCorpus({
        input: { kind: 'file', path: file },
        settings: { ...base, fields: { ...base.fields, text } },
        workers: 2,
        chunkBytes: 4096,
        signal: new AbortController().signal,
        onLanguage: (language) => {
          counted.push(language);
        },
      });
      const counts = counted.map((language) => [
        language.lang,
        language.n,
        Object.fromEntries(languageWords(language).map((term, id) => [term, language.df[id]])),
      ]);
      return { stats, counts };
    };
    // One text field: lines are prepared from their bytes. Two (the second never present):
    // every line is parsed whole and its text prepared as a string.
    const direct = await analyse(['text']);
    const whole = await analyse(['text', 'absent']);
    expect(direct).toEqual(whole);
    expect(direct.stats.counted).toBe(10);
    const byLang = new Map(direct.counts.map(([lang, , terms]) => [lang, terms]));
    // Turkish lower case: I is ı, İ is i (each word's document frequency).
    expect(byLang.get('tr')).toEqual({ ılık: 1, istanbul: 1, ıstanbul: 1 });
    expect(byLang.get('en')).toMatchObject({ hello: 1, été: 1, quoted: 1 });
  });
});

describe('analyzeCorpus, a delta over a file in ranges', () => {
  // Documents 0..DOCS-1 of the shared corpus are at 2026-01-01 + i ms: those from FROM on changed.
  const FROM = 2400;
  const settings = fullSettings({
    mode: 'delta',
    keepRecords: false,
    windowStartMs: Date.UTC(2026, 0, 1) + FROM,
  });
  const delta = (options: Partial<Pool.AnalyzeOptions>) =>
    pool.analyzeCorpus({
      input: { kind: 'file', path: corpus },
      settings,
      workers: 2,
      chunkBytes: 16 * 1024,
      signal: new AbortController().signal,
      ...options,
    });

  it('hands over every changed document once, the last ranges first, all before it resolves', async () => {
    const order: string[] = [];
    let resolved = false;
    const { stats } = await delta({
      onChanges: (changes) => {
        expect(resolved).toBe(false);
        for (const change of changes) order.push(change.id);
      },
    });
    resolved = true;
    expect(stats.counted).toBe(DOCS - FROM);
    expect(stats.beforeWindow).toBe(FROM);
    expect(new Set(order).size).toBe(order.length);
    expect([...order].sort()).toEqual(
      Array.from({ length: DOCS - FROM }, (_, i) => `d${FROM + i}`).sort(),
    );
    // The first changes come from one of the two last ranges (about 70 documents each), not
    // from the range where the changed documents begin.
    expect(Number(order[0]!.slice(1))).toBeGreaterThan(DOCS - 200);
  });

  it('gives the bad lines their numbers in the file, whatever the order the ranges ran in', async () => {
    const lines = (await import('node:fs')).readFileSync(corpus, 'utf8').trimEnd().split('\n');
    lines.splice(10, 0, '{"_id": "broken early",');
    lines.splice(2900, 0, '{"_id": "broken late",');
    const file = join(dir, 'delta-bad.ndjson');
    await writeFile(file, `${lines.join('\n')}\n`);
    const { stats } = await delta({ input: { kind: 'file', path: file } });
    expect(stats.bad.invalidJson).toBe(2);
    expect(stats.lines).toBe(DOCS + 2);
    expect(stats.samples.map((sample) => [sample.reason, sample.line])).toEqual([
      ['invalidJson', 11],
    ]);
  });

  it('fails with the error the changes consumer throws, and applies nothing after it', async () => {
    let applied = 0;
    let afterFailure = 0;
    let failed = false;
    const failure = new Error('a document record is cut short');
    await expect(
      delta({
        onChanges: (changes) => {
          if (failed) afterFailure += changes.length;
          applied += changes.length;
          if (applied > 100) {
            failed = true;
            throw failure;
          }
        },
      }),
    ).rejects.toBe(failure);
    expect(afterFailure).toBe(0);
  });
  it('holds the changes back until applyAfter resolves, then hands every one over', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let opened = false;
    const seen: string[] = [];
    let beforeGate = 0;
    const run = delta({
      applyAfter: gate,
      onChanges: (changes) => {
        if (!opened) beforeGate += changes.length;
        for (const change of changes) seen.push(change.id);
      },
    });
    // The workers analyse the whole file meanwhile; nothing is handed over.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(0);
    opened = true;
    open();
    const { stats } = await run;
    expect(beforeGate).toBe(0);
    expect(stats.counted).toBe(DOCS - FROM);
    expect([...seen].sort()).toEqual(
      Array.from({ length: DOCS - FROM }, (_, i) => `d${FROM + i}`).sort(),
    );
  });

  it('hands out no more of the file while more changes wait than maxWaitingChanges', async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let counted = 0;
    let handed = 0;
    const run = delta({
      applyAfter: gate,
      maxWaitingChanges: 50,
      onProgress: (documents) => {
        counted = documents;
      },
      onChanges: (changes) => {
        handed += changes.length;
      },
    });
    // Until the count stops moving: only the ranges handed out before 50 changes waited, and
    // those under way then, are analysed. Without the limit all 600 changed documents are.
    let last = -1;
    while (counted !== last || counted <= 50) {
      last = counted;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(counted).toBeLessThan(DOCS - FROM);
    expect(handed).toBe(0);
    open();
    const { stats } = await run;
    expect(stats.counted).toBe(DOCS - FROM);
    expect(handed).toBe(DOCS - FROM);
  });

  it('fails with the error applyAfter rejects with, and hands nothing over', async () => {
    const failure = new Error('quick_check: *** in database main ***');
    let handed = 0;
    let reject: (error: Error) => void = () => {};
    const gate = new Promise<void>((_, no) => {
      reject = no;
    });
    const run = delta({
      applyAfter: gate,
      onChanges: (changes) => {
        handed += changes.length;
      },
    });
    setTimeout(() => reject(failure), 50);
    await expect(run).rejects.toBe(failure);
    expect(handed).toBe(0);
  });
});

describe('analysis workers started ahead of the analysis', () => {
  it('are given the run settings when the analysis takes them over', async () => {
    const started = pool.startAnalysisWorkers(2);
    // The settings are known only now, as a run knows them after reading its state.
    const settings = fullSettings({ keepRecords: false });
    const counted: MergedLanguage[] = [];
    const { stats } = await pool.analyzeCorpus({
      input: { kind: 'file', path: corpus },
      settings,
      workers: 2,
      started,
      signal: new AbortController().signal,
      onLanguage: (language) => {
        counted.push(language);
      },
    });
    expect(stats.counted).toBe(DOCS);
    expect(counted.reduce((n, language) => n + language.n, 0)).toBe(DOCS);
  });

  it('read the term dictionary of a state for the job, which takes it over, then analyse', async () => {
    const { LanguageTerms, TermDictionary } = await fromDist<typeof Dictionary>(
      'state/term-dictionary.js',
    );
    const words = Array.from({ length: 5000 }, (_, i) => `${letters(i)}${i % 7}`);
    const written = new TermDictionary();
    written.set(
      LanguageTerms.fromTerms(
        'en',
        words,
        words.map((_, i) => i + 1),
        words.map((_, i) => i + 2),
      ),
    );
    written.set(LanguageTerms.fromTerms('de', ['der', 'die'], [3, 2], [9, 4]));
    const path = join(dir, 'dictionary-workers.bin');
    written.write(path);
    const started = pool.startAnalysisWorkers(2);
    const dictionary = await pool.readDictionaryOnWorker(started, path);
    const en = dictionary.get('en')!;
    expect(en.size).toBe(words.length);
    for (let id = 0; id < words.length; id += 13) {
      expect(en.id(words[id]!)).toBe(id);
      expect([en.df(id), en.cf(id)]).toEqual([id + 1, id + 2]);
    }
    expect(dictionary.get('de')!.id('die')).toBe(1);
    expect(dictionary.encode().equals(TermDictionary.read(path).encode())).toBe(true);
    // Its lookup table was built on the worker, in memory the job's thread shares.
    expect(en.shared().slots.buffer).toBeInstanceOf(SharedArrayBuffer);
    // A damaged file is refused as the job's thread would refuse it.
    const damaged = join(dir, 'dictionary-damaged.bin');
    const bytes = (await import('node:fs')).readFileSync(path);
    bytes[bytes.length - 9] = (bytes[bytes.length - 9] ?? 0) ^ 0xff;
    await writeFile(damaged, bytes);
    await expect(pool.readDictionaryOnWorker(started, damaged)).rejects.toThrow(
      /dictionary dictionary-damaged.bin is damaged: checksum mismatch/,
    );
    // The same workers then analyse.
    const { stats } = await pool.analyzeCorpus({
      input: { kind: 'file', path: corpus },
      settings: fullSettings({ keepRecords: false }),
      workers: 2,
      started,
      signal: new AbortController().signal,
    });
    expect(stats.counted).toBe(DOCS);
  });

  it('are ended when no analysis takes them over, or when they do not match it', async () => {
    await pool.stopAnalysisWorkers(pool.startAnalysisWorkers(2));
    await expect(
      pool.analyzeCorpus({
        input: { kind: 'file', path: corpus },
        settings: fullSettings({ keepRecords: false }),
        workers: 2,
        started: pool.startAnalysisWorkers(1),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow('1 analysis workers were started for 2');
  });
});
