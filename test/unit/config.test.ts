// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration's reference syntax, not a mistyped template.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import {
  hasRefs,
  resolveChecked,
  resolveRef,
  validateResolved,
} from '../../src/config/env-refs.js';
import { ConfigError } from '../../src/config/errors.js';
import {
  configFilePath,
  type LoadOptions,
  loadConfig,
  shippedConfigPath,
} from '../../src/config/load.js';
import { renderConfigReference } from '../../src/config/reference-doc.js';
import { CONFIG_FILE_ENV, envVarName, groupEntries, leafEntries } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';

let dir: string;
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stopword-refresh-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(yaml: string): Promise<string> {
  fileCount += 1;
  const file = join(dir, `config-${fileCount}.yaml`);
  await writeFile(file, yaml);
  return file;
}

/** The ConfigError `load` throws; fails the test when it throws nothing or something else. */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but loading succeeded');
}

const defaults: Config = {
  schedule: { cron: '0 2 * * *', timezone: 'UTC' },
  maxDurationSeconds: 3600,
  source: {
    uri: '',
    collection: 'documents',
    safetyLagSeconds: 300,
    batchSize: 5000,
    readPreference: 'secondaryPreferred',
    maxStalenessSeconds: 0,
    connectTimeoutSeconds: 30,
    retries: 5,
    fields: {
      id: '_id',
      lang: 'lang',
      text: ['text'],
      updatedAt: 'updatedAt',
      deleted: 'deletedAt',
    },
    maxDocumentBytes: 1_048_576,
    maxBadDocumentRatio: 0.01,
  },
  analysis: {
    workers: availableParallelism(),
    minDocuments: 100,
    minDocumentRatio: 0.2,
    leaveDocumentRatio: 0.15,
    maxStopwords: 500,
    languageVariants: [],
    detectLanguage: 'off',
  },
  guardrails: {
    maxChurnRatio: 0.5,
    maxTotalDropRatio: 0.3,
    minBaseWords: 20,
    languageRemoval: 'refuse',
  },
  state: { dir: '/var/lib/stopword-refresh', onCorruptCheckpoint: 'fail', integrityCheckHours: 0 },
  redis: {
    url: 'redis://127.0.0.1:6379',
    keyPrefix: 'stopwords',
    keepVersions: 14,
    connectTimeoutSeconds: 5,
    stagingTtlSeconds: 3600,
    lockTtlSeconds: 120,
  },
  monitoring: { pushgateway: { url: null }, textfile: { path: null } },
  alerts: {
    slack: { webhookUrl: null },
    webhook: { url: null },
    email: { smtpUrl: null, from: null, to: [] },
    onLockHeld: 'ignore',
  },
  logging: { level: 'info' },
};

describe('the shipped configuration', () => {
  it('loads with no environment variable set, keeping references unresolved', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual({
      ...defaults,
      source: { ...defaults.source, uri: '${MONGODB_URI}' },
      redis: { ...defaults.redis, url: '${REDIS_URL}' },
    });
  });

  it('is the default file, located from the module, unless STOPWORD_REFRESH_CONFIG names another', async () => {
    expect(configFilePath({ env: {} })).toBe(shippedConfigPath());
    expect(shippedConfigPath()).toBe(join(import.meta.dirname, '../../config/batch_jobs.yaml'));
    const other = await configFile('maxDurationSeconds: 60\n');
    expect(loadConfig({ env: { [CONFIG_FILE_ENV]: other } }).maxDurationSeconds).toBe(60);
    const flagged = await configFile('maxDurationSeconds: 90\n');
    expect(
      loadConfig({ file: flagged, env: { [CONFIG_FILE_ENV]: other } }).maxDurationSeconds,
    ).toBe(90);
  });

  it('serves `run --source --redis --state-dir` without any environment variable', () => {
    const env = {};
    const config = loadConfig({
      env,
      overrides: {
        source: { uri: 'file:/tmp/corpus.ndjson' },
        redis: { url: 'redis://127.0.0.1:6390' },
        state: { dir: '/tmp/state' },
      },
    });
    expect(resolveChecked(config.source.uri, 'source.uri', env)).toBe('file:/tmp/corpus.ndjson');
    expect(resolveChecked(config.redis.url, 'redis.url', env)).toBe('redis://127.0.0.1:6390');
    expect(config.state.dir).toBe('/tmp/state');
  });

  it('describes every schema key above the key, and holds no key the schema lacks', async () => {
    const source = await readFile(shippedConfigPath(), 'utf8');
    const lines = source.split('\n');
    const lineCounter = new LineCounter();
    const doc = parseDocument(source, { lineCounter });
    expect(doc.errors).toEqual([]);

    const leaves = new Map<string, number>();
    const groups = new Set<string>();
    const walk = (map: YAMLMap, prefix: string) => {
      for (const pair of map.items) {
        if (!isScalar(pair.key)) throw new Error(`non-scalar key under ${prefix || 'the root'}`);
        const path = prefix === '' ? String(pair.key.value) : `${prefix}.${String(pair.key.value)}`;
        if (isMap(pair.value)) {
          groups.add(path);
          walk(pair.value, path);
        } else {
          leaves.set(path, lineCounter.linePos(pair.key.range?.[0] ?? 0).line);
        }
      }
    };
    if (!isMap(doc.contents)) throw new Error('the shipped YAML is not a mapping');
    walk(doc.contents, '');

    expect([...leaves.keys()].sort()).toEqual(leafEntries.map((e) => e.path).sort());
    expect([...groups].sort()).toEqual(
      groupEntries()
        .map((g) => g.path)
        .sort(),
    );

    const commentAbove = (line: number) => {
      const comment: string[] = [];
      for (let i = line - 2; i >= 0 && (lines[i] ?? '').trim().startsWith('#'); i--) {
        comment.unshift((lines[i] ?? '').trim().replace(/^#\s?/, ''));
      }
      return comment.join(' ').replace(/\s+/g, ' ');
    };
    for (const entry of leafEntries) {
      const line = leaves.get(entry.path) ?? 0;
      expect(commentAbove(line), `comment above ${entry.path}`).toContain(entry.leaf.description);
    }
  });
});

describe('defaults and precedence', () => {
  it('an empty file, a null document and empty sections mean the defaults', async () => {
    for (const yaml of [
      '',
      '# nothing here\n',
      'null\n',
      '~\n',
      'monitoring:\nalerts:\n  email:\n',
    ]) {
      expect(loadConfig({ file: await configFile(yaml), env: {} })).toEqual(defaults);
    }
  });

  it('takes flags over environment over file over defaults', async () => {
    const file = await configFile(
      [
        'analysis:',
        '  maxStopwords: 300',
        '  workers: 2',
        'redis:',
        '  keyPrefix: from-file',
        'state:',
        '  dir: /from/file',
      ].join('\n'),
    );
    const env = {
      STOPWORD_REFRESH_REDIS_KEY_PREFIX: 'from-env',
      STOPWORD_REFRESH_STATE_DIR: '/from/env',
      STOPWORD_REFRESH_ANALYSIS_WORKERS: '3',
    };
    const config = loadConfig({
      file,
      env,
      overrides: { state: { dir: '/from/flag' }, redis: { url: undefined } },
    });
    expect(config.redis.keepVersions).toBe(14);
    expect(config.analysis.maxStopwords).toBe(300);
    expect(config.redis.keyPrefix).toBe('from-env');
    expect(config.analysis.workers).toBe(3);
    expect(config.state.dir).toBe('/from/flag');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(
      loadConfig({ file, env, overrides: { analysis: { workers: 5 } } }).analysis.workers,
    ).toBe(5);
  });

  it('parses environment values per type: numbers, comma-separated lists, auto and null', async () => {
    const file = await configFile(
      'monitoring:\n  pushgateway:\n    url: http://pushgateway:9091\n',
    );
    const config = loadConfig({
      file,
      env: {
        STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO: '0.3',
        STOPWORD_REFRESH_SOURCE_FIELDS_TEXT: 'title, body,,',
        STOPWORD_REFRESH_ALERTS_EMAIL_TO: 'a@example.com,b@example.com',
        STOPWORD_REFRESH_ALERTS_EMAIL_SMTP_URL: 'smtp://mail:25',
        STOPWORD_REFRESH_ALERTS_EMAIL_FROM: 'job@example.com',
        STOPWORD_REFRESH_ANALYSIS_WORKERS: 'auto',
        STOPWORD_REFRESH_MONITORING_PUSHGATEWAY_URL: 'null',
        STOPWORD_REFRESH_LOGGING_LEVEL: 'debug',
        // Empty counts as unset.
        STOPWORD_REFRESH_REDIS_KEY_PREFIX: '',
      },
    });
    expect(config.analysis.minDocumentRatio).toBe(0.3);
    expect(config.source.fields.text).toEqual(['title', 'body']);
    expect(config.alerts.email.to).toEqual(['a@example.com', 'b@example.com']);
    expect(config.analysis.workers).toBe(availableParallelism());
    expect(config.monitoring.pushgateway.url).toBeNull();
    expect(config.logging.level).toBe('debug');
    expect(config.redis.keyPrefix).toBe('stopwords');
  });

  it('names each variable after its path, without collisions', () => {
    expect(envVarName('redis.url')).toBe('STOPWORD_REFRESH_REDIS_URL');
    expect(envVarName('analysis.minDocumentRatio')).toBe(
      'STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO',
    );
    expect(envVarName('state.dir')).toBe('STOPWORD_REFRESH_STATE_DIR');
    expect(envVarName('alerts.slack.webhookUrl')).toBe('STOPWORD_REFRESH_ALERTS_SLACK_WEBHOOK_URL');
    const names = leafEntries.map((e) => e.env);
    expect(new Set(names).size).toBe(names.length);
    expect(names).not.toContain(CONFIG_FILE_ENV);
  });

  it('returns a deeply frozen object that does not share the caller’s arrays', () => {
    const text = ['title', 'body'];
    const config = loadConfig({ env: {}, overrides: { source: { fields: { text } } } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.source.fields)).toBe(true);
    expect(Object.isFrozen(config.source.fields.text)).toBe(true);
    expect(Object.isFrozen(config.alerts.email.to)).toBe(true);
    expect(Reflect.set(config.redis, 'keyPrefix', 'other')).toBe(false);
    expect(Object.isFrozen(text)).toBe(false);
  });

  it('accepts the URI forms the CLI documents', async () => {
    for (const uri of [
      'file:corpus.ndjson',
      'file:///srv/corpus.ndjson',
      'mongodb://user:pw@db1:27017,db2:27017/corpus?replicaSet=rs0',
      'mongodb+srv://cluster0.example.net/corpus',
      'mongodb://${MONGO_USER}:${MONGO_PASSWORD}@db1/corpus',
    ]) {
      expect(loadConfig({ env: {}, overrides: { source: { uri } } }).source.uri).toBe(uri);
    }
    const file = await configFile('redis:\n  url: "rediss://:${REDIS_PASSWORD}@cache:6380/2"\n');
    expect(loadConfig({ file, env: {} }).redis.url).toBe(
      'rediss://:${REDIS_PASSWORD}@cache:6380/2',
    );
  });
});

interface BadCase {
  readonly name: string;
  readonly yaml?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly overrides?: LoadOptions['overrides'];
  /** The problem that must be reported, starting with the field path. */
  readonly problem: string | RegExp;
}

const badCases: readonly BadCase[] = [
  {
    name: 'unknown top-level key',
    yaml: 'colour: blue\n',
    problem: /^colour: unknown key; allowed here: schedule, /,
  },
  {
    name: 'top-level key that belongs in a section',
    yaml: 'keyPrefix: x\n',
    problem: 'keyPrefix: unknown key (did you mean redis.keyPrefix?) (line 1)',
  },
  {
    name: 'unknown nested key close to a known one',
    yaml: 'redis:\n  uri: redis://cache:6379\n',
    problem: 'redis.uri: unknown key (did you mean redis.url?) (line 2)',
  },
  {
    name: 'snake_case spelling of a key',
    yaml: 'source:\n  safety_lag_seconds: 10\n',
    problem:
      'source.safety_lag_seconds: unknown key (did you mean source.safetyLagSeconds?) (line 2)',
  },
  {
    name: 'wrong type for a number',
    yaml: 'maxDurationSeconds: soon\n',
    problem: 'maxDurationSeconds: must be an integer of at least 1, got "soon" (line 1)',
  },
  {
    name: 'scalar where a section belongs',
    yaml: 'redis: redis://cache\n',
    problem: /^redis: must be a mapping of keys, got a string/,
  },
  {
    name: 'list as the whole file',
    yaml: '- a\n- b\n',
    problem: /^the configuration: must be a mapping of keys, got a list/,
  },
  {
    name: 'ratio above 1',
    yaml: 'analysis:\n  minDocumentRatio: 1.5\n',
    problem: 'analysis.minDocumentRatio: must be a number between 0 and 1, got 1.5 (line 2)',
  },
  {
    name: 'leave ratio above the join ratio',
    yaml: 'analysis:\n  minDocumentRatio: 0.2\n  leaveDocumentRatio: 0.3\n',
    problem:
      'analysis.leaveDocumentRatio: must be at most analysis.minDocumentRatio (0.2), got 0.3 (line 3)',
  },
  {
    name: 'negative worker count',
    yaml: 'analysis:\n  workers: -2\n',
    problem: 'analysis.workers: must be auto or an integer between 1 and 1024, got -2 (line 2)',
  },
  {
    name: 'fractional batch size',
    yaml: 'source:\n  batchSize: 2.5\n',
    problem: /^source\.batchSize: must be an integer between 1 and 100000, got 2\.5/,
  },
  {
    name: 'source with an unsupported scheme',
    yaml: 'source:\n  uri: http://corpus/db\n',
    problem: /^source\.uri: must be file:PATH, .*got scheme http:/,
  },
  {
    name: 'mongodb URI without a database',
    yaml: 'source:\n  uri: mongodb://reader:s3cret@db1:27017/?replicaSet=rs0\n',
    problem: /^source\.uri: a mongodb:\/\/ URI must name the database as its path/,
  },
  {
    name: 'file URI without a path',
    yaml: 'source:\n  uri: "file:"\n',
    problem: /^source\.uri: .*file: names no path/,
  },
  {
    name: 'redis URL with another scheme',
    yaml: 'redis:\n  url: http://user:s3cret@cache:6379\n',
    problem: 'redis.url: must be a redis:// or rediss:// URL, got a URL with scheme http: (line 2)',
  },
  {
    name: 'key prefix with a space',
    yaml: 'redis:\n  keyPrefix: stop words\n',
    problem:
      'redis.keyPrefix: must not contain spaces or control characters, got "stop words" (line 2)',
  },
  {
    name: 'empty key prefix',
    yaml: 'redis:\n  keyPrefix: ""\n',
    problem: 'redis.keyPrefix: must not be empty (line 2)',
  },
  {
    name: 'cron hour out of range',
    yaml: 'schedule:\n  cron: "0 25 * * *"\n',
    problem: /^schedule\.cron: hour field "25": 25 is out of range 0-23/,
  },
  {
    name: 'cron with four fields',
    yaml: 'schedule:\n  cron: "0 2 * *"\n',
    problem: /^schedule\.cron: must be a cron expression with 5 fields/,
  },
  {
    name: 'cron macro',
    yaml: 'schedule:\n  cron: "@daily"\n',
    problem: /^schedule\.cron: must be a cron expression with 5 fields/,
  },
  {
    name: 'unknown time zone',
    yaml: 'schedule:\n  timezone: Mars/Olympus_Mons\n',
    problem: /^schedule\.timezone: must be an IANA time zone .*"Mars\/Olympus_Mons"/,
  },
  {
    name: 'unknown log level',
    yaml: 'logging:\n  level: verbose\n',
    problem:
      'logging.level: must be one of fatal, error, warn, info, debug, trace, silent, got "verbose" (line 2)',
  },
  {
    name: 'no text field',
    yaml: 'source:\n  fields:\n    text: []\n',
    problem: 'source.fields.text: must list at least 1 entry (line 3)',
  },
  {
    name: 'text field that is not a string',
    yaml: 'source:\n  fields:\n    text: [title, 5]\n',
    problem: 'source.fields.text: item 2 must be a string, got 5 (quote it in YAML) (line 3)',
  },
  {
    name: 'the same field name for two roles',
    yaml: 'source:\n  fields:\n    text: [body, lang]\n',
    problem: /^source\.fields\.text: names the field "lang" already used by source\.fields\.lang/,
  },
  {
    name: 'reference in a key that is never resolved',
    yaml: 'state:\n  dir: "${STATE_DIR}"\n',
    problem: /^state\.dir: cannot hold \$\{VAR\} references/,
  },
  {
    name: 'malformed reference',
    yaml: 'redis:\n  url: "${redis_url}"\n',
    problem: /^redis\.url: malformed reference \$\{redis_url\}/,
  },
  {
    name: 'textfile that the collector would ignore',
    yaml: 'monitoring:\n  textfile:\n    path: /var/lib/node_exporter/stopwords.txt\n',
    problem: /^monitoring\.textfile\.path: must end in \.prom/,
  },
  {
    name: 'e-mail alerts without a sender',
    yaml: 'alerts:\n  email:\n    smtpUrl: smtp://mail:25\n    to: [ops@example.com]\n',
    problem: 'alerts.email.from: is required when alerts.email.smtpUrl is set (the default)',
  },
  {
    name: 'null for a required key',
    yaml: 'redis:\n  keepVersions:\n',
    problem: 'redis.keepVersions: must be an integer of at least 1, got null (line 2)',
  },
  {
    name: 'bad environment override',
    env: { STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO: 'lots' },
    problem:
      'analysis.minDocumentRatio: must be a number between 0 and 1, got "lots" (from STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO)',
  },
  {
    name: 'misspelt environment variable',
    env: { STOPWORD_REFRESH_REDIS_URI: 'redis://cache' },
    problem:
      /^STOPWORD_REFRESH_REDIS_URI: not a configuration variable \(did you mean STOPWORD_REFRESH_REDIS_URL\?\)/,
  },
  {
    name: 'bad command-line override',
    overrides: { analysis: { workers: 0 } },
    problem:
      'analysis.workers: must be auto or an integer between 1 and 1024, got 0 (from the command line)',
  },
];

describe('bad configurations', () => {
  it.each(badCases)('refuses: $name', async ({ yaml, env, overrides, problem }) => {
    const file = await configFile(yaml ?? '');
    const error = configError(() => loadConfig({ file, env: env ?? {}, overrides }));
    expect(error.exitCode).toBe(2);
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    if (typeof problem === 'string') expect(error.problems).toContain(problem);
    else
      expect(
        error.problems.some((p) => problem.test(p)),
        error.problems.join('\n'),
      ).toBe(true);
  });

  it('never quotes a secret value in a problem', async () => {
    const file = await configFile(
      [
        'source:',
        '  uri: mongodb://reader:s3cret@db1:27017',
        'redis:',
        '  url: http://user:s3cret@cache:6379',
        'alerts:',
        '  slack:',
        '    webhookUrl: "ftp://hooks.example.com/s3cret"',
      ].join('\n'),
    );
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.problems).toHaveLength(3);
    expect(error.message).not.toContain('s3cret');
  });

  it('reports every problem of a file at once, each with its path and line', async () => {
    const file = await configFile(
      [
        'schedule:',
        '  cron: "61 * * * *"',
        'source:',
        '  collection: docs',
        '  colection: docs',
        'analysis:',
        '  minDocumentRatio: 2',
        '  workers: many',
        'logging:',
        '  level: loud',
      ].join('\n'),
    );
    const error = configError(() =>
      loadConfig({ file, env: { STOPWORD_REFRESH_REDIS_KEEP_VERSIONS: '0' } }),
    );
    expect(error.problems).toEqual([
      'schedule.cron: minute field "61": 61 is out of range 0-59 (line 2)',
      'source.colection: unknown key (did you mean source.collection?) (line 5)',
      'analysis.minDocumentRatio: must be a number between 0 and 1, got 2 (line 7)',
      'analysis.workers: must be auto or an integer between 1 and 1024, got "many" (line 8)',
      'logging.level: must be one of fatal, error, warn, info, debug, trace, silent, got "loud" (line 10)',
      'redis.keepVersions: must be an integer of at least 1, got 0 (from STOPWORD_REFRESH_REDIS_KEEP_VERSIONS)',
    ]);
    expect(error.message).toContain(`invalid configuration in ${file} (6 problems)`);
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  it('reports a bad file value even when a flag overrides it: the file must be fixed anyway', async () => {
    const file = await configFile('redis:\n  url: http://cache:6379\n');
    const error = configError(() =>
      loadConfig({ file, env: {}, overrides: { redis: { url: 'redis://cache:6379' } } }),
    );
    expect(error.problems).toEqual([
      'redis.url: must be a redis:// or rediss:// URL, got a URL with scheme http: (line 2)',
    ]);
  });

  it('reports YAML syntax errors with file:line:column', async () => {
    const file = await configFile('schedule:\n  cron: "0 2 * * *"\nredis:\n  keyPrefix: a: b\n');
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]).toMatch(new RegExp(`^${file.replaceAll('.', '\\.')}:4:\\d+: `));
    const unclosed = await configFile('redis:\n  url: "redis://cache\n');
    expect(configError(() => loadConfig({ file: unclosed, env: {} })).problems[0]).toMatch(
      /Missing closing "quote/,
    );
  });

  it('reports a key given twice', async () => {
    const file = await configFile('redis:\n  keyPrefix: a\n  keyPrefix: b\n');
    const error = configError(() => loadConfig({ file, env: {} }));
    expect(error.problems[0]).toMatch(
      new RegExp(`^${file.replaceAll('.', '\\.')}:3:\\d+: .*unique`),
    );
  });

  it('names a missing or unreadable file', () => {
    const missing = join(dir, 'nope.yaml');
    const error = configError(() => loadConfig({ file: missing, env: {} }));
    expect(error.problems).toEqual([
      `${missing}: cannot read the configuration file: no such file`,
    ]);
    expect(error.file).toBe(missing);
    const directory = configError(() => loadConfig({ file: dir, env: {} }));
    expect(directory.problems).toEqual([
      `${dir}: cannot read the configuration file: it is a directory`,
    ]);
  });
});

describe('${VAR} references', () => {
  it('resolves every reference and turns $${ into a literal ${', () => {
    const env = { REDIS_PASSWORD: 'pw', REDIS_HOST: 'cache' };
    expect(resolveRef('redis://:${REDIS_PASSWORD}@${REDIS_HOST}:6379', 'redis.url', env)).toBe(
      'redis://:pw@cache:6379',
    );
    expect(resolveRef('cost $${HOME} and $$ and $5', 'alerts.email.from', {})).toBe(
      'cost ${HOME} and $$ and $5',
    );
    expect(resolveRef('${EMPTY}x', 'state.dir', { EMPTY: '' })).toBe('x');
    expect(resolveRef('plain', 'redis.url', {})).toBe('plain');
  });

  it('names the field and the missing variable, never a value', () => {
    const env = { REDIS_PASSWORD: 'hunter2' };
    const error = configError(() =>
      resolveRef('redis://:${REDIS_PASSWORD}@${REDIS_HOST}/0', 'redis.url', env),
    );
    expect(error.problems).toEqual(['redis.url: environment variable REDIS_HOST is not set']);
    expect(error.message).toBe('redis.url: environment variable REDIS_HOST is not set');
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses malformed references without quoting the value', () => {
    const error = configError(() => resolveRef('redis://:s3cret@${host', 'redis.url', {}));
    expect(error.problems[0]).toMatch(/^redis\.url: malformed reference/);
    expect(error.message).not.toContain('s3cret');
  });

  it('tells references from escapes', () => {
    expect(hasRefs('${A}')).toBe(true);
    expect(hasRefs('x$${A}')).toBe(false);
    expect(hasRefs('plain')).toBe(false);
  });

  it('validates a value after resolution with the constraints of its key', () => {
    expect(validateResolved('redis.url', 'rediss://cache:6380')).toBe('rediss://cache:6380');
    const scheme = configError(() => validateResolved('redis.url', 'http://u:s3cret@cache'));
    expect(scheme.problems).toEqual([
      'redis.url: must be a redis:// or rediss:// URL, got a URL with scheme http:',
    ]);
    const unset = configError(() => validateResolved('source.uri', ''));
    expect(unset.problems[0]).toMatch(/^source\.uri: is not set; .*STOPWORD_REFRESH_SOURCE_URI/);
    const noDb = configError(() =>
      resolveChecked('${MONGODB_URI}', 'source.uri', { MONGODB_URI: 'mongodb://db' }),
    );
    expect(noDb.problems[0]).toMatch(/^source\.uri: a mongodb:\/\/ URI must name the database/);
    expect(validateResolved('alerts.email.to[1]', 'ops@example.com')).toBe('ops@example.com');
    expect(() => validateResolved('alerts.email.to[0]', 'nobody')).toThrow(ConfigError);
  });
});

describe('docs/configuration.md', () => {
  it('is the rendering of the schema', async () => {
    const rendered = renderConfigReference();
    for (const entry of leafEntries) {
      expect(rendered).toContain(`\`${entry.path}\``);
      expect(rendered).toContain(`\`${entry.env}\``);
    }
    // A missing file would be written by the snapshot and pass; it must be committed instead.
    const committed = existsSync(join(import.meta.dirname, '../../docs/configuration.md'));
    await expect(rendered).toMatchFileSnapshot('../../docs/configuration.md');
    expect(committed, 'docs/configuration.md was missing and has just been written').toBe(true);
  });
});
