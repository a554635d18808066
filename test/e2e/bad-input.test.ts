/**
 * Bad flags, bad configuration and bad documents, through the built CLI: each gets a specific
 * message and the documented exit code; bad documents are counted, never fatal below the limit.
 */
import { spawnSync } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

let redis: RedisServer;
let dir: string;
let corpus: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'swr-bad-'));
  corpus = join(dir, 'corpus.ndjson');
  await writeCorpus(corpus, makeCorpus({ seed: 7, perLanguage: 30 }));
});

afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function baseArgs(): string[] {
  return [
    'run',
    '--source',
    `file:${corpus}`,
    '--redis',
    redis.url,
    '--state-dir',
    join(dir, 'state'),
  ];
}

describe('command line', () => {
  it('prints help for every command and the version, with exit 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['help', 'run']]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/Usage: stopword-refresh/);
    }
    const run = await runCli(['run', '--help']);
    expect(run.stdout).toMatch(/--dry-run/);
    expect(run.stdout).toMatch(/Exit codes:/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs the bundle the build makes, and says so when it was never built', async () => {
    const bundle = await readFile(join(ROOT, 'dist/bundle/main.js'), 'utf8');
    // The pool finds its worker beside the bundle: the worker is bundled too.
    expect(bundle).toContain('new URL("./analysis-worker.js", import.meta.url)');
    await access(join(ROOT, 'dist/bundle/analysis-worker.js'));
    const launcher = await readFile(join(ROOT, 'bin/stopword-refresh'), 'utf8');
    expect(launcher).toContain("import('../dist/bundle/main.js')");

    const unbuilt = join(dir, 'unbuilt');
    await mkdir(join(unbuilt, 'bin'), { recursive: true });
    await copyFile(join(ROOT, 'bin/stopword-refresh'), join(unbuilt, 'bin/stopword-refresh'));
    const run = spawnSync(process.execPath, [join(unbuilt, 'bin/stopword-refresh'), '--version'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/stopword-refresh is not built: run `npm ci && npm run build`/);
  });

  it.each([
    [['run', '--frobnicate'], /unknown option '--frobnicate'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run', '--until', 'yesterday'], /--until.*ISO 8601 time with a time zone/],
    [['run', '--until', '2026-11-30T02:00:00'], /ISO 8601 time with a time zone/],
    [['run', '--source', 'http://example/corpus'], /file:PATH \(NDJSON\) or mongodb:\/\/HOST\/DB/],
    [['run', '--source', 'mongodb://db.example'], /mongodb:\/\/HOST\/DB/],
    [['run', '--redis', 'localhost:6379'], /redis:\/\/ or rediss:\/\/ URL|Redis URL such as/],
    [['run', '--workers', '0'], /whole number of worker threads between 1 and 256/],
    [['run', '--log-level', 'loud'], /Allowed choices are fatal, error, warn, info/],
    [['run', '--state-dir', ''], /expected a directory/],
  ])('refuses %j with exit 2 and says what is allowed', async (args, message) => {
    const run = await runCli(args as string[]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message as RegExp);
    expect(run.stdout).toBe('');
  });
});

describe('configuration', () => {
  const badConfigs: Array<[string, string, RegExp]> = [
    ['unknown top-level key', 'colour: blue\n', /colour/],
    ['unknown nested key', 'redis:\n  uri: redis://x:1\n', /redis\.uri/],
    ['ratio above one', 'analysis:\n  minDocumentRatio: 1.5\n', /analysis\.minDocumentRatio/],
    [
      'leave ratio above min ratio',
      'analysis:\n  minDocumentRatio: 0.2\n  leaveDocumentRatio: 0.3\n',
      /analysis\.leaveDocumentRatio/,
    ],
    ['negative workers', 'analysis:\n  workers: -2\n', /analysis\.workers/],
    ['text of the wrong type', 'maxDurationSeconds: soon\n', /maxDurationSeconds/],
    ['unknown source scheme', 'source:\n  uri: ftp://corpus\n', /source\.uri/],
    ['empty text field list', 'source:\n  fields:\n    text: []\n', /source\.fields\.text/],
    ['key prefix with a space', 'redis:\n  keyPrefix: "stop words"\n', /redis\.keyPrefix/],
    ['bad cron', 'schedule:\n  cron: "0 25 * * *"\n', /schedule\.cron/],
    ['bad time zone', 'schedule:\n  timezone: Mars/Olympus\n', /schedule\.timezone/],
    ['bad log level', 'logging:\n  level: loud\n', /logging\.level/],
    [
      'bad bad-document ratio',
      'source:\n  maxBadDocumentRatio: 2\n',
      /source\.maxBadDocumentRatio/,
    ],
    ['YAML syntax error', 'analysis:\n  workers: [1\n', /line \d+|:\d+:\d+/],
  ];

  it.each(badConfigs)(
    'refuses a config with %s: exit 2, the field named',
    async (_what, yaml, field) => {
      const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
      await writeFile(file, yaml);
      const run = await runCli([...baseArgs(), '--config', file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(field);
      expect(run.json).toMatchObject({ success: false, exitCode: 2 });
      expect(String(run.json?.errors)).toMatch(field);
    },
  );

  it('reports every problem of a config at once', async () => {
    const file = join(dir, 'many.yaml');
    await writeFile(
      file,
      'colour: blue\nanalysis:\n  minDocumentRatio: 7\nredis:\n  keepVersions: -1\n',
    );
    const run = await runCli([...baseArgs(), '--config', file]);
    expect(run.code).toBe(2);
    for (const field of [/colour/, /analysis\.minDocumentRatio/, /redis\.keepVersions/])
      expect(run.stderr).toMatch(field);
  });

  it('names a missing config file and a missing environment variable', async () => {
    const missing = await runCli([...baseArgs(), '--config', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/absent\.yaml/);

    const noRedis = await runCli([
      'run',
      '--source',
      `file:${corpus}`,
      '--state-dir',
      join(dir, 's2'),
    ]);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/redis\.url.*REDIS_URL/);
  });

  it('refuses a bad environment override, naming the variable', async () => {
    const run = await runCli(baseArgs(), { env: { STOPWORD_REFRESH_ANALYSIS_WORKERS: 'many' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/STOPWORD_REFRESH_ANALYSIS_WORKERS/);
  });
});

describe('bad documents', () => {
  const good = makeCorpus({ seed: 8, perLanguage: 40, languages: ['en'] });
  const at = '2026-11-01T00:00:00Z';
  // Each entry: a line of the file and the reason it must be counted under.
  const bad: Array<[string, string]> = [
    ['{"_id": "j1", "lang": "en", "text": "unterminated', 'invalidJson'],
    ['not json at all', 'invalidJson'],
    ['[1, 2, 3]', 'notAnObject'],
    ['"just a string"', 'notAnObject'],
    ['null', 'notAnObject'],
    [JSON.stringify({ lang: 'en', text: 'no id', updatedAt: at }), 'missingId'],
    [JSON.stringify({ _id: '', lang: 'en', text: 'empty id', updatedAt: at }), 'invalidId'],
    [
      JSON.stringify({ _id: { nested: true }, lang: 'en', text: 'object id', updatedAt: at }),
      'invalidId',
    ],
    [JSON.stringify({ _id: 'u1', lang: 'en', text: 'no date' }), 'missingUpdatedAt'],
    [
      JSON.stringify({ _id: 'u2', lang: 'en', text: 'bad date', updatedAt: 'last tuesday' }),
      'invalidUpdatedAt',
    ],
    [
      JSON.stringify({ _id: 'u3', lang: 'en', text: 'no zone', updatedAt: '2026-11-01T00:00:00' }),
      'invalidUpdatedAt',
    ],
    [
      JSON.stringify({
        _id: 'u4',
        lang: 'en',
        text: 'month 13',
        updatedAt: '2026-13-01T00:00:00Z',
      }),
      'invalidUpdatedAt',
    ],
    [
      JSON.stringify({ _id: 'u5', lang: 'en', text: 'bool date', updatedAt: true }),
      'invalidUpdatedAt',
    ],
    [JSON.stringify({ _id: 't1', lang: 'en', updatedAt: at }), 'missingText'],
    [JSON.stringify({ _id: 't2', lang: 'en', text: 12345, updatedAt: at }), 'textNotString'],
    [
      JSON.stringify({ _id: 't3', lang: 'en', text: { body: 'x' }, updatedAt: at }),
      'textNotString',
    ],
    [JSON.stringify({ _id: 't4', lang: 'en', text: ['a', 'b'], updatedAt: at }), 'textNotString'],
    [
      JSON.stringify({ _id: 't5', lang: 'en', text: 'huge '.repeat(300_000), updatedAt: at }),
      'textTooLarge',
    ],
    [
      `{"_id": "t6", "lang": "en", "text": "${'x'.repeat(7_000_000)}", "updatedAt": "${at}"}`,
      'lineTooLong',
    ],
    [
      JSON.stringify({
        _id: 'd1',
        lang: 'en',
        text: 'odd tombstone',
        updatedAt: at,
        deletedAt: 'maybe',
      }),
      'invalidDeleted',
    ],
    [
      JSON.stringify({ _id: 'l1', text: 'the of and no language', updatedAt: at }),
      'missingLanguage',
    ],
    [
      JSON.stringify({ _id: 'l2', lang: 42, text: 'the of and numeric language', updatedAt: at }),
      'invalidLanguage',
    ],
    [
      JSON.stringify({
        _id: 'l3',
        lang: 'english!',
        text: 'the of and odd language',
        updatedAt: at,
      }),
      'invalidLanguage',
    ],
  ];
  const invalidUtf8 = Buffer.concat([
    Buffer.from('{"_id": "b1", "lang": "en", "text": "caf'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(`", "updatedAt": "${at}"}`),
  ]);

  async function writeBadCorpus(path: string): Promise<void> {
    const parts: Buffer[] = [];
    good.forEach((doc, i) => {
      parts.push(Buffer.from(`${JSON.stringify(doc)}\n`));
      const entry = bad[i];
      if (entry !== undefined) parts.push(Buffer.from(`${entry[0]}\n`));
      if (i === 5) parts.push(invalidUtf8, Buffer.from('\n'));
      if (i === 6) parts.push(Buffer.from('\n   \n\r\n'));
    });
    await writeFile(path, Buffer.concat(parts));
  }

  it('counts each of 24 kinds of bad input and carries on under the limit', async () => {
    const path = join(dir, 'bad.ndjson');
    await writeBadCorpus(path);
    const run = await runCli(
      [
        'run',
        '--source',
        `file:${path}`,
        '--redis',
        redis.url,
        '--state-dir',
        join(dir, 'sb'),
        '--dry-run',
      ],
      {
        env: {
          STOPWORD_REFRESH_SOURCE_MAX_BAD_DOCUMENT_RATIO: '0.5',
          STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
        },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const expected: Record<string, number> = { invalidUtf8: 1 };
    for (const [, reason] of bad) expected[reason] = (expected[reason] ?? 0) + 1;
    expect(run.json?.documents).toMatchObject({ bad: expected, counted: 43, rejected: 21 });
    expect(Object.keys(expected)).toHaveLength(14);
    expect(bad.length + 1).toBeGreaterThanOrEqual(24);
    // The language problems are kept under und, which is never published.
    expect(run.json?.languages).toMatchObject({
      und: { documents: 3, published: false },
      en: { documents: 40, published: true },
    });
    const documents = run.json?.documents as
      | { badSamples: Array<{ line: number; reason: string }> }
      | undefined;
    const samples = documents?.badSamples ?? [];
    expect(samples[0]).toEqual({ line: 2, reason: 'invalidJson', id: null });
    expect(samples.find((s) => s.reason === 'invalidUtf8')?.line).toBeGreaterThan(2);
    // No document text in what the job prints.
    expect(run.stdout).not.toMatch(/unterminated|odd tombstone|huge huge/);
    expect(run.stderr).not.toMatch(/unterminated|odd tombstone|huge huge/);
  });

  it('fails with exit 1 and leaves Redis untouched above source.maxBadDocumentRatio', async () => {
    const path = join(dir, 'bad2.ndjson');
    await writeBadCorpus(path);
    const client = createClient({ url: redis.url });
    await client.connect();
    const keysBefore = (await client.keys('*')).filter((k) => !k.endsWith(':runs'));
    const run = await runCli(
      ['run', '--source', `file:${path}`, '--redis', redis.url, '--state-dir', join(dir, 'sb2')],
      {
        env: {
          STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
          STOPWORD_REFRESH_REDIS_KEY_PREFIX: 'badratio',
        },
      },
    );
    expect(run.code).toBe(1);
    expect(String(run.json?.errors)).toMatch(/are bad, above source\.maxBadDocumentRatio/);
    // Only the history of runs records the failure.
    const keysAfter = (await client.keys('*')).filter((k) => !k.endsWith(':runs'));
    expect(keysAfter.sort()).toEqual(keysBefore.sort());
    expect(JSON.parse((await client.lIndex('badratio:runs', 0)) ?? '{}')).toMatchObject({
      success: false,
    });
    await client.quit();
  });
});
