/**
 * Parsers for command-line values: each refuses a bad value with a sentence saying what is allowed.
 */
import { InvalidArgumentError } from 'commander';
import { parseTime } from '../analysis/document.js';
import { parseSourceUri, SOURCE_URI_HELP, SourceUriError } from '../corpus/source-uri.js';

export function parseUntil(value: string): Date {
  const ms = parseTime(value);
  if (ms === null) {
    throw new InvalidArgumentError(
      'expected an ISO 8601 time with a time zone, such as 2026-11-30T02:00:00Z.',
    );
  }
  return new Date(ms);
}

export function parseSource(value: string): string {
  try {
    parseSourceUri(value);
  } catch (error) {
    if (error instanceof SourceUriError) throw new InvalidArgumentError(`${SOURCE_URI_HELP}.`);
    throw error;
  }
  return value;
}

export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      'expected a Redis URL such as redis://HOST:6379 or rediss://HOST:6380/0.',
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InvalidArgumentError('expected a redis:// or rediss:// URL.');
  }
  return value;
}

export function parseNonEmpty(what: string): (value: string) => string {
  return (value) => {
    if (value.trim().length === 0)
      throw new InvalidArgumentError(`expected ${what}, got an empty string.`);
    return value;
  };
}

export function parseWorkers(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new InvalidArgumentError('expected a whole number of worker threads between 1 and 256.');
  }
  return Number(value);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
