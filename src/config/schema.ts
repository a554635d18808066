/**
 * The one description of every configuration key: type, default, one-sentence description and
 * constraints. The loader, the reference documentation and the shipped-YAML drift test all read
 * it; `SchemaOf<Config>` makes the compiler refuse a schema that misses or invents a key.
 */
import {
  cronProblem,
  emailProblem,
  sourceUriProblem,
  timeZoneProblem,
  urlProblem,
} from './checks.js';
import {
  countOrAuto,
  decimal,
  group,
  integer,
  type Leaf,
  oneOf,
  optionalText,
  ratio,
  type SchemaNode,
  type SchemaOf,
  text,
  textList,
} from './leaves.js';
import type { Config } from './types.js';

export const ENV_PREFIX = 'STOPWORD_REFRESH_';
/** Names the configuration file; not a key, so it never collides with a key's variable. */
export const CONFIG_FILE_ENV = 'STOPWORD_REFRESH_CONFIG';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const httpUrl = (value: string) => urlProblem(value, ['http:', 'https:'], true);

const fieldName = (value: string) =>
  value.startsWith('$') ? 'must not start with "$" (MongoDB reserves it for operators)' : null;

export const schema: SchemaOf<Config> = {
  schedule: group(
    'When cron starts the nightly run; the schedule command prints the crontab line.',
    {
      cron: text({
        description:
          'Five-field cron expression (minute hour day-of-month month day-of-week) of the nightly run.',
        default: '0 2 * * *',
        check: cronProblem,
      }),
      timezone: text({
        description: 'IANA time zone in which the cron expression is read.',
        default: 'UTC',
        check: timeZoneProblem,
      }),
    },
  ),
  maxDurationSeconds: integer({
    description:
      'Deadline of one run in seconds; a run still going then is stopped and fails without publishing.',
    default: 3600,
    min: 1,
  }),
  source: group('The corpus the stopwords are computed from.', {
    uri: text({
      description:
        'Corpus location: file:PATH (NDJSON), mongodb://HOST/DB or mongodb+srv://HOST/DB; required by run, usually given by --source or a reference.',
      default: '',
      refs: true,
      secret: true,
      requiredWhenUsed: true,
      check: sourceUriProblem,
    }),
    collection: text({
      description: 'MongoDB collection holding the documents.',
      default: 'documents',
      check: (value) =>
        /[$\0]/.test(value) || value.startsWith('system.')
          ? 'must be a MongoDB collection name: no "$", no NUL, not starting with "system."'
          : null,
    }),
    safetyLagSeconds: integer({
      description:
        'Seconds before now at which the read window ends, so writes still in flight are read next time.',
      default: 300,
      min: 0,
    }),
    batchSize: integer({
      description:
        'MongoDB: documents fetched per page; each page is one short query resuming after the last (updatedAt, _id) read.',
      default: 5000,
      min: 1,
      max: 100_000,
    }),
    readPreference: oneOf(
      ['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'],
      {
        description: 'MongoDB read preference: which replica-set members the run reads from.',
        default: 'secondaryPreferred',
      },
    ),
    maxStalenessSeconds: integer({
      description:
        'MongoDB: skip secondaries lagging more than this many seconds behind (at least 90); 0 means no limit.',
      default: 0,
      min: 0,
    }),
    connectTimeoutSeconds: integer({
      description:
        'MongoDB: seconds to find a usable server before the run fails (also bounds each retry).',
      default: 30,
      min: 1,
    }),
    retries: integer({
      description:
        'MongoDB: attempts after a transient failure (network, failover, lost cursor) before the run fails; each resumes after the last document read.',
      default: 5,
      min: 0,
      max: 50,
    }),
    fields: group('Names of the document fields the job reads.', {
      id: text({ description: 'Field holding the document id.', default: '_id', check: fieldName }),
      lang: text({
        description: 'Field holding the BCP-47 language code.',
        default: 'lang',
        check: fieldName,
      }),
      text: textList({
        description: 'Fields whose text is analysed, concatenated in this order.',
        default: ['text'],
        minItems: 1,
        check: fieldName,
      }),
      updatedAt: text({
        description: 'Field holding the last-modified timestamp that defines the read window.',
        default: 'updatedAt',
        check: fieldName,
      }),
      deleted: text({
        description: 'Tombstone field: a date or true marks the document as deleted.',
        default: 'deletedAt',
        check: fieldName,
      }),
    }),
    maxDocumentBytes: integer({
      description:
        'Largest document text accepted, in UTF-8 bytes; a larger document counts as bad.',
      default: 1_048_576,
      min: 1,
    }),
    maxBadDocumentRatio: ratio({
      description: 'Share of bad documents (0 to 1) above which the run fails.',
      default: 0.01,
    }),
  }),
  analysis: group('Tokenising and stopword selection.', {
    workers: countOrAuto({
      description:
        'Worker threads for tokenising; auto means the number of cores this process may use.',
      max: 1024,
    }),
    minDocuments: integer({
      description: 'Fewest live documents a language needs before its list is published.',
      default: 100,
      min: 1,
    }),
    minDocumentRatio: ratio({
      description:
        'Share of a language’s documents (0 to 1) a term must appear in to become a stopword.',
      default: 0.2,
    }),
    leaveDocumentRatio: ratio({
      description:
        'Share (0 to minDocumentRatio) below which a live stopword is dropped; lower than minDocumentRatio keeps lists from flapping. 0.75 x minDocumentRatio removed every flap in the measured nights (docs/selection-defaults.md).',
      default: 0.15,
    }),
    maxStopwords: integer({
      description:
        'Most stopwords published per language, highest confidence first (df/N discounted for burstiness by residual IDF).',
      default: 500,
      min: 1,
    }),
    languageVariants: textList({
      description:
        'BCP-47 tags published as lists of their own (e.g. pt-BR, zh-Hant) instead of under their primary language; more specific tags fall under them (zh-Hant-TW under zh-Hant).',
      default: [],
      minItems: 0,
      check: (value) => {
        if (!/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})+$/.test(value)) {
          return 'must be a BCP-47 tag with at least one subtag after the language, such as pt-BR or zh-Hant';
        }
        try {
          Intl.getCanonicalLocales(value);
          return null;
        } catch {
          return 'must be a well-formed BCP-47 tag, such as pt-BR or zh-Hant';
        }
      },
    }),
    detectLanguage: oneOf(['off', 'on'], {
      description:
        'on: a document whose language is missing or malformed gets the language its text reliably shows (ELD n-gram detector, about 0.4 ms per 600 characters); otherwise it counts under und, which is never published.',
      default: 'off',
    }),
  }),
  guardrails: group(
    'Checks of the new lists against the live ones; a run that trips one publishes nothing (run --force overrides).',
    {
      maxChurnRatio: decimal({
        description:
          'Largest (words added + words removed) / live words allowed for one language; 2 allows replacing a whole list.',
        default: 0.5,
        min: 0,
      }),
      maxTotalDropRatio: ratio({
        description:
          'Largest share (0 to 1) by which the total number of stopwords across languages may fall; 1 turns the check off.',
        default: 0.3,
      }),
      minBaseWords: integer({
        description:
          'Live lists, and live totals, with fewer words than this are not judged on churn or drop, so the first publishes and small languages settle freely.',
        default: 20,
        min: 0,
      }),
      languageRemoval: oneOf(['refuse', 'allow'], {
        description:
          'Whether a live language may vanish or become empty (for instance because its documents fell below analysis.minDocuments).',
        default: 'refuse',
      }),
    },
  ),
  state: group('Where document-frequency state and the checkpoint live between runs.', {
    dir: text({
      description: 'Directory holding the checkpoint and document-frequency state.',
      default: '/var/lib/stopword-refresh',
    }),
    onCorruptCheckpoint: oneOf(['fail', 'recount'], {
      description:
        'What a run does when the checkpoint cannot be read: fail with an error, or recount the whole corpus.',
      default: 'fail',
    }),
    integrityCheckHours: integer({
      description:
        "Hours after the state database was last known sound (built by a full count, or passed SQLite's quick_check) in which a delta run does not check it again; 0 checks it on every run.",
      default: 0,
      min: 0,
      max: 24 * 366,
    }),
  }),
  redis: group('Where the stopword lists are published.', {
    url: text({
      description: 'Redis server, as redis://[USER:PASSWORD@]HOST:PORT[/DB] or rediss:// for TLS.',
      default: 'redis://127.0.0.1:6379',
      refs: true,
      secret: true,
      check: (value) => urlProblem(value, ['redis:', 'rediss:'], true),
    }),
    keyPrefix: text({
      description:
        'Prefix of every key the job writes; use a hash tag such as {stopwords} on Redis Cluster.',
      default: 'stopwords',
      check: (value) =>
        /[\s\p{Cc}]/u.test(value)
          ? `must not contain spaces or control characters, got ${JSON.stringify(value)}`
          : null,
    }),
    keepVersions: integer({
      description: 'Published versions kept for rollback, the live one included.',
      default: 14,
      min: 1,
    }),
    connectTimeoutSeconds: decimal({
      description: 'Seconds to wait for a Redis connection before the run fails.',
      default: 5,
      min: 0.1,
    }),
    stagingTtlSeconds: integer({
      description: 'Seconds a staging hash lives if a run dies before its swap.',
      default: 3600,
      min: 60,
    }),
    lockTtlSeconds: integer({
      description:
        'Seconds the run lock outlives a run that died without releasing it; a live run renews it every third of that.',
      default: 120,
      min: 2,
      max: 3600,
    }),
  }),
  monitoring: group('Where run metrics go; both are optional.', {
    pushgateway: group('Prometheus Pushgateway.', {
      url: optionalText({
        description:
          'Pushgateway base URL metrics are pushed to after each run; null turns pushing off.',
        refs: true,
        secret: true,
        check: httpUrl,
      }),
    }),
    textfile: group('node_exporter textfile collector.', {
      path: optionalText({
        description:
          'File (ending in .prom) the metrics are written to for the textfile collector; null turns it off.',
        check: (value) =>
          value.endsWith('.prom')
            ? null
            : `must end in .prom (the collector ignores other files), got ${JSON.stringify(value)}`,
      }),
    }),
  }),
  alerts: group('Where failed runs are reported; each channel is off while its address is null.', {
    slack: group('Slack incoming webhook.', {
      webhookUrl: optionalText({
        description: 'Slack incoming-webhook URL; null turns Slack alerts off.',
        refs: true,
        secret: true,
        check: httpUrl,
      }),
    }),
    webhook: group('Generic JSON webhook.', {
      url: optionalText({
        description: 'URL the failed JobResult is POSTed to as JSON; null turns it off.',
        refs: true,
        secret: true,
        check: httpUrl,
      }),
    }),
    email: group('E-mail through an SMTP server.', {
      smtpUrl: optionalText({
        description:
          'SMTP server as smtp://[USER:PASSWORD@]HOST:PORT or smtps://; null turns e-mail alerts off.',
        refs: true,
        secret: true,
        check: (value) => urlProblem(value, ['smtp:', 'smtps:'], true),
      }),
      from: optionalText({
        description: 'Sender address of alert mails; required when smtpUrl is set.',
        refs: true,
        check: emailProblem,
      }),
      to: textList({
        description: 'Recipient addresses of alert mails; at least one when smtpUrl is set.',
        default: [],
        minItems: 0,
        refs: true,
        check: emailProblem,
      }),
    }),
    onLockHeld: oneOf(['ignore', 'alert'], {
      description:
        'Whether a run that found another one holding the lock (exit 3) is alerted; ignore it when overlapping starts are expected.',
      default: 'ignore',
    }),
  }),
  logging: group('Log output (JSON lines on stderr).', {
    level: oneOf(LOG_LEVELS, { description: 'Lowest level that is logged.', default: 'info' }),
  }),
};

export interface LeafEntry {
  /** Dotted path, as in `analysis.minDocumentRatio`. */
  readonly path: string;
  readonly segments: readonly string[];
  readonly leaf: Leaf;
  /** The environment variable that overrides it. */
  readonly env: string;
}

export interface GroupEntry {
  readonly path: string;
  readonly description: string;
}

/** Every leaf in declaration order. */
export const leafEntries: readonly LeafEntry[] = Object.freeze(collectLeaves(rootNodes(), []));

const byPath = new Map(leafEntries.map((entry) => [entry.path, entry]));

export function leafAt(path: string): LeafEntry | undefined {
  return byPath.get(path);
}

/** Every group with its description, in declaration order. */
export function groupEntries(): GroupEntry[] {
  const out: GroupEntry[] = [];
  const walk = (nodes: Readonly<Record<string, SchemaNode>>, prefix: readonly string[]) => {
    for (const [key, node] of Object.entries(nodes)) {
      if (node.kind !== 'group') continue;
      out.push({ path: [...prefix, key].join('.'), description: node.description });
      walk(node.children, [...prefix, key]);
    }
  };
  walk(rootNodes(), []);
  return out;
}

/** The root of the schema as a plain tree, for code that walks it without the typed view. */
export function rootNodes(): Readonly<Record<string, SchemaNode>> {
  return schema as unknown as Readonly<Record<string, SchemaNode>>;
}

/** `analysis.minDocumentRatio` → `STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENT_RATIO`. */
export function envVarName(path: string): string {
  const snake = path
    .split('.')
    .map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_');
  return `${ENV_PREFIX}${snake}`;
}

function collectLeaves(
  nodes: Readonly<Record<string, SchemaNode>>,
  prefix: readonly string[],
): LeafEntry[] {
  return Object.entries(nodes).flatMap(([key, node]): LeafEntry[] => {
    const segments = [...prefix, key];
    if (node.kind === 'group') return collectLeaves(node.children, segments);
    const path = segments.join('.');
    return [{ path, segments, leaf: node, env: envVarName(path) }];
  });
}
