import { RedisCommandError } from './errors.js';

/** What `P:v:<version>:meta` holds, and what `P:meta` repeats for the live version. */
export interface VersionMeta {
  version: number;
  publishedAt: string;
  runId: string;
  languages: string[];
  counts: Record<string, number>;
  analyzerVersion: string;
}

/** Field/value pairs in the order HSET takes them. */
export function versionMetaFields(meta: VersionMeta): string[] {
  return [
    'version',
    String(meta.version),
    'publishedAt',
    meta.publishedAt,
    'runId',
    meta.runId,
    'languages',
    JSON.stringify(meta.languages),
    'counts',
    JSON.stringify(meta.counts),
    'analyzerVersion',
    meta.analyzerVersion,
  ];
}

export function parseVersionMeta(fields: Map<string, string>, key: string): VersionMeta {
  const version = parseInteger(fields.get('version'), key, 'version');
  if (version === null) throw corrupt(key, 'version', 'missing');
  return {
    version,
    publishedAt: required(fields, key, 'publishedAt'),
    runId: required(fields, key, 'runId'),
    languages: parseLanguages(fields.get('languages'), key),
    counts: parseCounts(fields.get('counts'), key),
    analyzerVersion: required(fields, key, 'analyzerVersion'),
  };
}

/** A RESP2 HGETALL reply (flat field, value, …) as a Map, which stays safe for any word. */
export function pairsToMap(reply: unknown, key: string): Map<string, string> {
  if (!Array.isArray(reply) || reply.length % 2 !== 0) {
    throw new RedisCommandError(`unexpected reply reading ${key}`);
  }
  const map = new Map<string, string>();
  for (let i = 0; i < reply.length; i += 2) {
    const field: unknown = reply[i];
    const value: unknown = reply[i + 1];
    if (typeof field !== 'string' || typeof value !== 'string') {
      throw new RedisCommandError(`unexpected reply reading ${key}`);
    }
    map.set(field, value);
  }
  return map;
}

export function parseInteger(text: string | undefined, key: string, field: string): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw corrupt(key, field, `'${text}' is not an integer`);
  return value;
}

export function parseLanguages(text: string | undefined, key: string): string[] {
  if (text === undefined || text === '') return [];
  const value = parseJson(text, key, 'languages');
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw corrupt(key, 'languages', 'not a JSON array of strings');
  }
  return value;
}

export function parseCounts(text: string | undefined, key: string): Record<string, number> {
  if (text === undefined || text === '') return {};
  const value = parseJson(text, key, 'counts');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt(key, 'counts', 'not a JSON object');
  }
  const counts: Record<string, number> = {};
  for (const [lang, count] of Object.entries(value)) {
    if (typeof count !== 'number') throw corrupt(key, 'counts', `count of ${lang} is not a number`);
    counts[lang] = count;
  }
  return counts;
}

function required(fields: Map<string, string>, key: string, field: string): string {
  const value = fields.get(field);
  if (value === undefined) throw corrupt(key, field, 'missing');
  return value;
}

function parseJson(text: string, key: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RedisCommandError(`${key} field ${field} is not valid JSON`, { cause: err });
  }
}

function corrupt(key: string, field: string, problem: string): RedisCommandError {
  return new RedisCommandError(`${key} field ${field}: ${problem}`);
}
