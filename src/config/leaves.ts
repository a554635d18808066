// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration's reference syntax, not a mistyped template.
/**
 * Building blocks of the declarative schema: a leaf knows its type, default, description and
 * checks; a group holds named children. `schema.ts` composes them; `load.ts` walks them.
 */
import { availableParallelism } from 'node:os';
import { hasRefs, refSyntaxProblem, unescapeRefs } from './ref-syntax.js';

export interface Leaf<T = unknown> {
  readonly kind: 'leaf';
  /** The type as the reference documentation shows it. */
  readonly type: string;
  /** One sentence, shown in the docs and required above the key in the shipped YAML. */
  readonly description: string;
  /** The default as written in YAML (`auto` for the worker count). */
  readonly default: unknown;
  /** The value may hold `${VAR}` references, resolved only where it is used. */
  readonly refs: boolean;
  /** Never quote the value in a message: it may carry a password or a token. */
  readonly secret: boolean;
  readonly list: boolean;
  /** Empty is fine when loading, but whoever uses the value needs one. */
  readonly requiredWhenUsed: boolean;
  /** Problem with a raw value (without the path), or null. References are only syntax-checked. */
  check(value: unknown): string | null;
  /** Problem with one string after its references were resolved, or null. */
  checkResolved(value: string): string | null;
  /** The raw value an environment variable's text stands for; `check` then judges it. */
  fromEnv(text: string): unknown;
  /** The value handed to the rest of the program. */
  finalize(value: unknown): T;
}

export interface Group<C> {
  readonly kind: 'group';
  readonly description: string;
  readonly children: C;
}

export type SchemaNode = Leaf | Group<Readonly<Record<string, SchemaNode>>>;

/** The schema shape that mirrors a config type key for key, so the two cannot drift. */
export type SchemaOf<T> = {
  readonly [K in keyof T]-?: T[K] extends string | number | boolean | null | readonly unknown[]
    ? Leaf<T[K]>
    : Group<SchemaOf<T[K]>>;
};

export function group<C>(description: string, children: C): Group<C> {
  return { kind: 'group', description, children };
}

/** How a value is shown after "got": short, and never the contents of a secret string. */
export function describeValue(value: unknown, secret = false): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    if (secret) return value === '' ? 'an empty string' : 'a string';
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  return String(value);
}

type StringCheck = (value: string) => string | null;

interface TextOptions {
  readonly description: string;
  readonly refs?: boolean;
  readonly secret?: boolean;
  readonly check?: StringCheck;
}

const NO_REFS =
  'cannot hold ${VAR} references (only URL and address keys can); set it through its environment variable instead';

/** Checks one string: references deferred in `refs` leaves, refused elsewhere. */
function stringProblem(value: string, opts: TextOptions, allowEmpty: boolean): string | null {
  if (opts.refs === true) {
    const syntax = refSyntaxProblem(value);
    if (syntax !== null) return syntax;
    if (hasRefs(value)) return null;
    return resolvedProblem(unescapeRefs(value), opts, allowEmpty);
  }
  if (value.includes('${')) return NO_REFS;
  return resolvedProblem(value, opts, allowEmpty);
}

function resolvedProblem(value: string, opts: TextOptions, allowEmpty: boolean): string | null {
  if (value.trim() === '') return allowEmpty && value === '' ? null : 'must not be empty';
  return opts.check?.(value) ?? null;
}

function mustBeString(value: unknown, secret: boolean): string {
  const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it in YAML)' : '';
  return `must be a string, got ${describeValue(value, secret)}${hint}`;
}

const identity = <T>(value: unknown): T => value as T;

/** A required string (may be empty only when `requiredWhenUsed`: then it is checked at use). */
export function text(
  opts: TextOptions & { readonly default: string; readonly requiredWhenUsed?: boolean },
): Leaf<string> {
  const allowEmpty = opts.requiredWhenUsed === true;
  return {
    kind: 'leaf',
    type: 'string',
    description: opts.description,
    default: opts.default,
    refs: opts.refs ?? false,
    secret: opts.secret ?? false,
    list: false,
    requiredWhenUsed: allowEmpty,
    check: (value) =>
      typeof value === 'string'
        ? stringProblem(value, opts, allowEmpty)
        : mustBeString(value, opts.secret ?? false),
    checkResolved: (value) => resolvedProblem(value, opts, false),
    fromEnv: (value) => value,
    finalize: identity,
  };
}

/** A string that may be null (the feature it configures is then off). */
export function optionalText(opts: TextOptions): Leaf<string | null> {
  return {
    kind: 'leaf',
    type: 'string or null',
    description: opts.description,
    default: null,
    refs: opts.refs ?? false,
    secret: opts.secret ?? false,
    list: false,
    requiredWhenUsed: false,
    check: (value) => {
      if (value === null) return null;
      return typeof value === 'string'
        ? stringProblem(value, opts, false)
        : mustBeString(value, opts.secret ?? false);
    },
    checkResolved: (value) => resolvedProblem(value, opts, false),
    fromEnv: (value) => (value === 'null' ? null : value),
    finalize: identity,
  };
}

/** A list of strings; comma-separated in an environment variable. */
export function textList(
  opts: TextOptions & { readonly default: readonly string[]; readonly minItems: number },
): Leaf<readonly string[]> {
  return {
    kind: 'leaf',
    type: opts.minItems > 0 ? 'list of strings, not empty' : 'list of strings',
    description: opts.description,
    default: opts.default,
    refs: opts.refs ?? false,
    secret: opts.secret ?? false,
    list: true,
    requiredWhenUsed: false,
    check: (value) => {
      if (!Array.isArray(value)) {
        return `must be a list of strings, got ${describeValue(value, opts.secret ?? false)}`;
      }
      if (value.length < opts.minItems) {
        return `must list at least ${opts.minItems} ${opts.minItems === 1 ? 'entry' : 'entries'}`;
      }
      for (const [i, item] of value.entries()) {
        const problem =
          typeof item === 'string'
            ? stringProblem(item, opts, false)
            : mustBeString(item, opts.secret ?? false);
        if (problem !== null) return `item ${i + 1} ${problem}`;
      }
      const duplicate = value.find((item, i) => value.indexOf(item) !== i);
      return duplicate === undefined
        ? null
        : `lists ${describeValue(duplicate, opts.secret)} twice`;
    },
    checkResolved: (value) => resolvedProblem(value, opts, false),
    fromEnv: (value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    finalize: identity,
  };
}

interface NumberOptions {
  readonly description: string;
  readonly default: number;
  readonly min: number;
  readonly max?: number;
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

function numberFromEnv(value: string): unknown {
  return NUMERIC.test(value.trim()) ? Number(value.trim()) : value;
}

function rangeText(min: number, max: number | undefined): string {
  return max === undefined ? `of at least ${min}` : `between ${min} and ${max}`;
}

function numberLeaf(opts: NumberOptions, integer: boolean, type: string): Leaf<number> {
  const noun = integer ? 'an integer' : 'a number';
  const expected = `must be ${noun} ${rangeText(opts.min, opts.max)}`;
  return {
    kind: 'leaf',
    type,
    description: opts.description,
    default: opts.default,
    refs: false,
    secret: false,
    list: false,
    requiredWhenUsed: false,
    check: (value) => {
      const ok =
        typeof value === 'number' &&
        (integer ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
        value >= opts.min &&
        (opts.max === undefined || value <= opts.max);
      return ok ? null : `${expected}, got ${describeValue(value)}`;
    },
    checkResolved: () => null,
    fromEnv: numberFromEnv,
    finalize: identity,
  };
}

export function integer(opts: NumberOptions): Leaf<number> {
  const type = opts.max === undefined ? `integer ≥ ${opts.min}` : `integer ${opts.min}–${opts.max}`;
  return numberLeaf(opts, true, type);
}

export function decimal(opts: NumberOptions): Leaf<number> {
  const type = opts.max === undefined ? `number ≥ ${opts.min}` : `number ${opts.min}–${opts.max}`;
  return numberLeaf(opts, false, type);
}

/** A share in [0, 1]. */
export function ratio(opts: {
  readonly description: string;
  readonly default: number;
}): Leaf<number> {
  return numberLeaf({ ...opts, min: 0, max: 1 }, false, 'number 0–1');
}

export function oneOf<const V extends string>(
  values: readonly V[],
  opts: { readonly description: string; readonly default: V },
): Leaf<V> {
  return {
    kind: 'leaf',
    type: `one of ${values.join(', ')}`,
    description: opts.description,
    default: opts.default,
    refs: false,
    secret: false,
    list: false,
    requiredWhenUsed: false,
    check: (value) =>
      typeof value === 'string' && (values as readonly string[]).includes(value)
        ? null
        : `must be one of ${values.join(', ')}, got ${describeValue(value)}`,
    checkResolved: () => null,
    fromEnv: (value) => value.trim(),
    finalize: identity,
  };
}

/**
 * A count of threads: a positive integer, or `auto` for the cores this process may use
 * (`os.availableParallelism()`, which honours CPU affinity), decided when the config is loaded.
 */
export function countOrAuto(opts: {
  readonly description: string;
  readonly max: number;
}): Leaf<number> {
  const expected = `must be auto or an integer between 1 and ${opts.max}`;
  return {
    kind: 'leaf',
    type: `auto or integer 1–${opts.max}`,
    description: opts.description,
    default: 'auto',
    refs: false,
    secret: false,
    list: false,
    requiredWhenUsed: false,
    check: (value) =>
      value === 'auto' ||
      (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= opts.max)
        ? null
        : `${expected}, got ${describeValue(value)}`,
    checkResolved: () => null,
    fromEnv: (value) => (value.trim() === 'auto' ? 'auto' : numberFromEnv(value)),
    finalize: (value) => (value === 'auto' ? availableParallelism() : (value as number)),
  };
}
