/**
 * Loads the configuration: defaults < file < environment < overrides (command-line flags), every
 * layer checked against the schema, every problem reported at once, the result deeply frozen.
 * `${VAR}` references stay as written; see `env-refs.ts`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { crossChecks } from './cross-checks.js';
import { ConfigError } from './errors.js';
import { describeValue, type SchemaNode } from './leaves.js';
import { CONFIG_FILE_ENV, ENV_PREFIX, leafAt, leafEntries, rootNodes } from './schema.js';
import { closest, suggestKey } from './suggest.js';
import type { AnalysisConfig, Config } from './types.js';

/** Literal unions widen to `string`: overrides are checked like any other layer. */
type Widen<V> = V extends string ? string : V;

type Raw<T> = {
  readonly [K in keyof T]?: T[K] extends readonly (infer E)[]
    ? readonly E[]
    : T[K] extends string | number | boolean | null
      ? Widen<T[K]>
      : Raw<T[K]>;
};

/**
 * The raw shape of the configuration, every key optional: what command-line flags override.
 * Values are checked against the schema; an undefined value means "not given".
 */
export type RawOverrides = Raw<
  Omit<Config, 'analysis'> & {
    readonly analysis: Omit<AnalysisConfig, 'workers'> & { readonly workers: number | 'auto' };
  }
>;

export interface LoadOptions {
  /** Configuration file; else `STOPWORD_REFRESH_CONFIG`, else the shipped `config/batch_jobs.yaml`. */
  readonly file?: string | null;
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly overrides?: RawOverrides;
}

/** The shipped file; this module sits two levels below the package root in `src/` and `dist/`. */
export function shippedConfigPath(): string {
  return fileURLToPath(new URL('../../config/batch_jobs.yaml', import.meta.url));
}

/** The file `loadConfig` reads for these options. */
export function configFilePath(opts: Pick<LoadOptions, 'file' | 'env'> = {}): string {
  const env = opts.env ?? process.env;
  if (opts.file !== undefined && opts.file !== null && opts.file !== '') return opts.file;
  const fromEnv = env[CONFIG_FILE_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : shippedConfigPath();
}

type Origin =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly line: number | undefined }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'override' };

interface Setting {
  readonly value: unknown;
  readonly origin: Origin;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = configFilePath({ file: opts.file, env });
  const parsed = readYaml(file);

  const settings = new Map<string, Setting>(
    leafEntries.map((e) => [e.path, { value: e.leaf.default, origin: { kind: 'default' } }]),
  );
  const problems: string[] = [];
  const invalid = new Set<string>();
  const layer = (raw: unknown, origin: (segments: readonly string[]) => Origin) =>
    applyLayer(raw, rootNodes(), [], origin, { settings, problems, invalid });

  layer(parsed.data, (segments) => ({ kind: 'file', line: parsed.lineOf(segments) }));
  layer(envLayer(env, problems), (segments) => ({
    kind: 'env',
    name: leafAt(segments.join('.'))?.env ?? ENV_PREFIX,
  }));
  if (opts.overrides !== undefined) layer(opts.overrides, () => ({ kind: 'override' }));

  for (const rule of crossChecks) {
    if (rule.paths.some((path) => invalid.has(path))) continue;
    const found = rule.check((path) => settings.get(path)?.value);
    if (found === null) continue;
    const origin = settings.get(found.path)?.origin ?? { kind: 'default' };
    problems.push(`${found.path}: ${found.problem}${originSuffix(origin)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems, { file });
  return build(rootNodes(), [], settings) as unknown as Config;
}

interface LayerState {
  readonly settings: Map<string, Setting>;
  readonly problems: string[];
  readonly invalid: Set<string>;
}

function applyLayer(
  raw: unknown,
  nodes: Readonly<Record<string, SchemaNode>>,
  prefix: readonly string[],
  originOf: (segments: readonly string[]) => Origin,
  state: LayerState,
): void {
  // An empty section (`monitoring:` with everything below commented out) means its defaults.
  // A scalar in a section's place is not quoted back: `redis: redis://:password@host` happens.
  if (raw === null || raw === undefined) return;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    const where = prefix.length === 0 ? 'the configuration' : prefix.join('.');
    state.problems.push(
      `${where}: must be a mapping of keys, got ${describeValue(raw, true)}${originSuffix(originOf(prefix))}`,
    );
    if (prefix.length > 0) state.invalid.add(prefix.join('.'));
    return;
  }
  for (const [key, value] of Object.entries(raw)) {
    const segments = [...prefix, key];
    const path = segments.join('.');
    const node = Object.hasOwn(nodes, key) ? nodes[key] : undefined;
    if (node === undefined) {
      const hint = suggestKey(key, prefix, Object.keys(nodes));
      state.problems.push(`${path}: unknown key${hint}${originSuffix(originOf(segments))}`);
      continue;
    }
    if (node.kind === 'group') {
      applyLayer(value, node.children, segments, originOf, state);
      continue;
    }
    // Overrides leave flags that were not given as undefined.
    if (value === undefined) continue;
    const problem = node.check(value);
    if (problem === null) {
      state.settings.set(path, { value, origin: originOf(segments) });
    } else {
      state.problems.push(`${path}: ${problem}${originSuffix(originOf(segments))}`);
      state.invalid.add(path);
    }
  }
}

/** The raw layer the `STOPWORD_REFRESH_*` variables describe; unknown ones are problems. */
function envLayer(env: NodeJS.ProcessEnv, problems: string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const known = new Set(leafEntries.map((e) => e.env));
  for (const [name, text] of Object.entries(env)) {
    // Empty counts as unset, as deployment templates often define every variable.
    if (
      !name.startsWith(ENV_PREFIX) ||
      name === CONFIG_FILE_ENV ||
      text === undefined ||
      text === ''
    ) {
      continue;
    }
    if (!known.has(name)) {
      const near = closest(
        name.slice(ENV_PREFIX.length),
        [...known].map((k) => k.slice(ENV_PREFIX.length)),
      );
      const hint = near === undefined ? '' : ` (did you mean ${ENV_PREFIX}${near}?)`;
      problems.push(`${name}: not a configuration variable${hint}; see docs/configuration.md`);
    }
  }
  for (const entry of leafEntries) {
    const text = env[entry.env];
    if (text === undefined || text === '') continue;
    let target = root;
    for (const segment of entry.segments.slice(0, -1)) {
      const next = (target[segment] ?? {}) as Record<string, unknown>;
      target[segment] = next;
      target = next;
    }
    target[entry.segments.at(-1) ?? ''] = entry.leaf.fromEnv(text);
  }
  return root;
}

function originSuffix(origin: Origin): string {
  switch (origin.kind) {
    case 'file':
      return origin.line === undefined ? '' : ` (line ${origin.line})`;
    case 'env':
      return ` (from ${origin.name})`;
    case 'override':
      return ' (from the command line)';
    case 'default':
      return ' (the default)';
  }
}

function build(
  nodes: Readonly<Record<string, SchemaNode>>,
  prefix: readonly string[],
  settings: ReadonlyMap<string, Setting>,
): Readonly<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(nodes)) {
    const segments = [...prefix, key];
    if (node.kind === 'group') {
      out[key] = build(node.children, segments, settings);
    } else {
      const value = node.finalize(settings.get(segments.join('.'))?.value ?? node.default);
      // Copied so that freezing never touches the caller's override arrays.
      out[key] = Array.isArray(value) ? Object.freeze([...value]) : value;
    }
  }
  return Object.freeze(out);
}

interface ParsedFile {
  readonly data: unknown;
  readonly lineOf: (segments: readonly string[]) => number | undefined;
}

function readYaml(file: string): ParsedFile {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the configuration file: ${readFailure(err)}`, {
      cause: err,
      file,
    });
  }
  const lineCounter = new LineCounter();
  // prettyErrors would quote the offending source line, which may hold a credential.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${file}:${line}:${col}: ${firstLine(e.message)}`;
      }),
      { file },
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(
      `${file}: ${firstLine(err instanceof Error ? err.message : String(err))}`,
      {
        cause: err,
        file,
      },
    );
  }
  return { data, lineOf: (segments) => keyLine(doc, lineCounter, segments) };
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Line of the key at `segments` (or of its deepest existing ancestor). */
function keyLine(
  doc: Document,
  lineCounter: LineCounter,
  segments: readonly string[],
): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const segment of segments) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
    if (pair === undefined) break;
    const start = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    if (start !== undefined) line = lineCounter.linePos(start).line;
    node = pair.value;
  }
  return line;
}
