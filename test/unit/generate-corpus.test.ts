import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../bench/generate-corpus.mjs', import.meta.url));
const LANGUAGES = ['en', 'de', 'fr', 'es', 'ru', 'pl', 'it', 'nl'];

interface Doc {
  _id: string;
  lang: string;
  text: string;
  updatedAt: string;
  deletedAt?: string;
}

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

let dir: string;

function run(args: string[]): Run {
  const result = spawnSync(process.execPath, [script, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

// Generates into a file and returns its bytes; the run must succeed.
function generate(name: string, args: string[]): Buffer {
  const out = path.join(dir, name);
  const result = run([...args, '--out', out]);
  expect(result.stderr).not.toMatch(/generate-corpus:/);
  expect(result.status).toBe(0);
  return readFileSync(out);
}

function lines(content: Buffer): string[] {
  const text = content.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

function parse(content: Buffer): Doc[] {
  return lines(content).map((line) => JSON.parse(line) as Doc);
}

function words(text: string): string[] {
  return text.toLowerCase().match(/\p{L}+/gu) ?? [];
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'generate-corpus-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('bench/generate-corpus.mjs', () => {
  it('writes byte-identical output for the same seed, to a file or to stdout', () => {
    const a = generate('a.ndjson', ['--docs', '3000', '--seed', '42']);
    const b = generate('b.ndjson', ['--docs', '3000', '--seed', '42']);
    expect(a.length).toBeGreaterThan(3000 * 1000);
    expect(a.equals(b)).toBe(true);
    const piped = run(['--docs', '3000', '--seed', '42']);
    expect(piped.status).toBe(0);
    expect(piped.stdout.equals(a)).toBe(true);
  });

  it('writes a different corpus for a different seed', () => {
    const a = generate('s1.ndjson', ['--docs', '500', '--seed', '1']);
    const b = generate('s2.ndjson', ['--docs', '500', '--seed', '2']);
    expect(a.equals(b)).toBe(false);
    const textsA = parse(a).map((d) => d.text);
    const textsB = parse(b).map((d) => d.text);
    expect(textsA.filter((t, i) => t === textsB[i])).toEqual([]);
  });

  it('writes one JSON document a line with the corpus fields, ordered by updatedAt', () => {
    const docs = parse(generate('fields.ndjson', ['--docs', '4000', '--seed', '42']));
    expect(docs).toHaveLength(4000);
    const ids = new Set<string>();
    let ties = 0;
    let bytes = 0;
    const perLanguage = new Map<string, number>();
    docs.forEach((doc, i) => {
      expect(Object.keys(doc)).toEqual(['_id', 'lang', 'text', 'updatedAt']);
      expect(doc._id).toBe(`doc-${String(i).padStart(10, '0')}`);
      ids.add(doc._id);
      expect(LANGUAGES).toContain(doc.lang);
      perLanguage.set(doc.lang, (perLanguage.get(doc.lang) ?? 0) + 1);
      expect(doc.text.trim().length).toBeGreaterThan(0);
      expect(new Date(doc.updatedAt).toISOString()).toBe(doc.updatedAt);
      const previous = docs[i - 1];
      if (previous) {
        expect(doc.updatedAt >= previous.updatedAt).toBe(true);
        if (doc.updatedAt === previous.updatedAt) ties++;
      }
      bytes += Buffer.byteLength(doc.text);
    });
    expect(ids.size).toBe(4000);
    // Mostly increasing, with some equal neighbours for (updatedAt, _id) paging to handle.
    expect(ties).toBeGreaterThan(50);
    expect(ties).toBeLessThan(400);
    expect(bytes / docs.length).toBeGreaterThan(1700);
    expect(bytes / docs.length).toBeLessThan(2300);
    expect([...perLanguage.keys()].sort()).toEqual([...LANGUAGES].sort());
    // English is the largest language, and every language has real function words at the top.
    expect(perLanguage.get('en')).toBeGreaterThan(docs.length * 0.25);
    const english = docs.filter((d) => d.lang === 'en');
    const withThe = english.filter((d) => words(d.text).includes('the'));
    expect(withThe.length / english.length).toBeGreaterThan(0.9);
    const russian = docs.filter((d) => d.lang === 'ru');
    expect(russian.every((d) => /\p{Script=Cyrillic}/u.test(d.text))).toBe(true);
  });

  it('honours --languages and --avg-bytes', () => {
    const docs = parse(
      generate('small.ndjson', [
        '--docs',
        '2000',
        '--seed',
        '5',
        '--languages',
        '3',
        '--avg-bytes',
        '500',
      ]),
    );
    expect(new Set(docs.map((d) => d.lang))).toEqual(new Set(['en', 'de', 'fr']));
    const average = docs.reduce((sum, d) => sum + Buffer.byteLength(d.text), 0) / docs.length;
    expect(average).toBeGreaterThan(400);
    expect(average).toBeLessThan(600);
  });

  it('continues the same corpus from --start-id', () => {
    const whole = generate('whole.ndjson', ['--docs', '2000', '--seed', '3']);
    const first = generate('first.ndjson', ['--docs', '1200', '--seed', '3']);
    const rest = generate('rest.ndjson', ['--docs', '800', '--seed', '3', '--start-id', '1200']);
    expect(Buffer.concat([first, rest]).equals(whole)).toBe(true);
  });

  it('keeps introducing new words as the corpus grows', () => {
    const docs = parse(generate('growth.ndjson', ['--docs', '4000', '--seed', '11']));
    const vocabularyAfter = (n: number) => {
      const seen = new Set<string>();
      for (const doc of docs.slice(0, n)) {
        if (doc.lang === 'en') for (const word of words(doc.text)) seen.add(word);
      }
      return seen.size;
    };
    const half = vocabularyAfter(2000);
    const all = vocabularyAfter(4000);
    // Heaps' law with exponent 1/2: doubling the corpus multiplies the vocabulary by about √2.
    expect(all / half).toBeGreaterThan(1.15);
    expect(all / half).toBeLessThan(1.7);
  });

  it('delta mode changes about the requested share of ids and keeps one line per id', () => {
    const baseContent = generate('base.ndjson', ['--docs', '4000', '--seed', '42']);
    const deltaContent = generate('delta.ndjson', [
      '--docs',
      '4000',
      '--mutate-from',
      '42',
      '--seed',
      '9',
      '--changed-ratio',
      '0.05',
      '--deleted-ratio',
      '0.2',
    ]);
    const baseLines = lines(baseContent);
    const deltaLines = lines(deltaContent);
    expect(deltaLines).toHaveLength(baseLines.length);

    const baseById = new Map<string, { line: string; doc: Doc }>();
    for (const line of baseLines) {
      const doc = JSON.parse(line) as Doc;
      baseById.set(doc._id, { line, doc });
    }
    const lastBaseTime = baseLines.map((l) => (JSON.parse(l) as Doc).updatedAt).sort()[
      baseLines.length - 1
    ]!;

    const seen = new Set<string>();
    let changed = 0;
    let deleted = 0;
    let firstChangedLine = -1;
    let previousTime = '';
    deltaLines.forEach((line, i) => {
      const doc = JSON.parse(line) as Doc;
      expect(seen.has(doc._id)).toBe(false);
      seen.add(doc._id);
      expect(doc.updatedAt >= previousTime).toBe(true);
      previousTime = doc.updatedAt;
      const base = baseById.get(doc._id);
      expect(base).toBeDefined();
      if (base!.line === line) {
        // Unchanged documents come first, exactly as in the base corpus.
        expect(firstChangedLine).toBe(-1);
        return;
      }
      if (firstChangedLine === -1) firstChangedLine = i;
      changed++;
      expect(doc.lang).toBe(base!.doc.lang);
      expect(doc.updatedAt > lastBaseTime).toBe(true);
      if (doc.deletedAt !== undefined) {
        deleted++;
        expect(doc.deletedAt).toBe(doc.updatedAt);
        expect(doc.text).toBe(base!.doc.text);
      } else {
        expect(Object.keys(doc)).toEqual(['_id', 'lang', 'text', 'updatedAt']);
        expect(doc.text).not.toBe(base!.doc.text);
      }
    });
    expect(seen.size).toBe(baseById.size);
    expect(changed / deltaLines.length).toBeGreaterThan(0.035);
    expect(changed / deltaLines.length).toBeLessThan(0.065);
    expect(deleted).toBeGreaterThan(0);
    expect(deleted).toBeLessThan(changed / 2);

    // --base-seed is the same as --mutate-from, and the delta is reproducible.
    const again = generate('delta-again.ndjson', [
      '--docs',
      '4000',
      '--base-seed',
      '42',
      '--seed',
      '9',
      '--changed-ratio',
      '0.05',
      '--deleted-ratio',
      '0.2',
    ]);
    expect(again.equals(deltaContent)).toBe(true);
  });

  it('reports its throughput on stderr', () => {
    const result = run(['--docs', '200', '--seed', '1', '--out', path.join(dir, 'stats.ndjson')]);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as Record<string, number>;
    expect(summary.docs).toBe(200);
    expect(summary.bytes).toBe(readFileSync(path.join(dir, 'stats.ndjson')).length);
    expect(summary.mbPerSecond).toBeGreaterThan(0);
    expect(summary.docsPerSecond).toBeGreaterThan(0);
  });

  it('rejects bad arguments with exit code 2', () => {
    expect(run([]).status).toBe(2);
    expect(run(['--docs', 'many']).status).toBe(2);
    expect(run(['--docs', '10', '--languages', '9']).status).toBe(2);
    expect(run(['--docs', '10', '--changed-ratio', '1.5', '--mutate-from', '1']).status).toBe(2);
    expect(run(['--docs', '10', '--no-such-option']).status).toBe(2);
  });
});
