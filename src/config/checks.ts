/**
 * Value checks that need more than a range: cron expressions, time zones and URIs. Each returns a
 * problem (without the field path) or null.
 */
import { CronExpressionError, parseCron } from './cron.js';

/** A problem with a cron expression, or null when the system cron daemon would accept it. */
export function cronProblem(expr: string): string | null {
  try {
    parseCron(expr);
    return null;
  } catch (error) {
    if (error instanceof CronExpressionError) return error.message;
    throw error;
  }
}

export function timeZoneProblem(zone: string): string | null {
  // The default needs no check: the first time-zone lookup loads ICU's zone data, about 20 ms
  // of every run's start.
  if (zone === 'UTC') return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return null;
  } catch {
    return `must be an IANA time zone such as UTC or Europe/Paris, got ${JSON.stringify(zone)}`;
  }
}

/** The lower-cased scheme of a URI (`mongodb+srv:`), or null when there is none. */
export function schemeOf(uri: string): string | null {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return match?.[1] === undefined ? null : `${match[1].toLowerCase()}:`;
}

/**
 * The corpus URI. Never quotes the value: a MongoDB URI usually carries a password.
 * An empty value is allowed here; it is only an error where the source is needed.
 */
export function sourceUriProblem(uri: string): string | null {
  if (uri === '') return null;
  const scheme = schemeOf(uri);
  const expected = 'must be file:PATH, mongodb://HOST/DB or mongodb+srv://HOST/DB';
  if (scheme === 'file:') {
    return uri.slice('file:'.length).trim() === '' ? `${expected}; file: names no path` : null;
  }
  if (scheme === 'mongodb:' || scheme === 'mongodb+srv:') {
    if (!uri.slice(scheme.length).startsWith('//'))
      return `${expected}; got no "//" after ${scheme}`;
    return mongoDatabaseProblem(uri.slice(scheme.length + 2), scheme);
  }
  return `${expected}, got ${scheme === null ? 'a value without a scheme' : `scheme ${scheme}`}`;
}

function mongoDatabaseProblem(rest: string, scheme: string): string | null {
  const slash = rest.indexOf('/');
  const hosts = slash < 0 ? rest : rest.slice(0, slash);
  if (hosts.slice(hosts.lastIndexOf('@') + 1).trim() === '') {
    return `a ${scheme}// URI must name a host`;
  }
  const path = slash < 0 ? '' : rest.slice(slash + 1).split('?')[0];
  if (path === undefined || path === '') {
    return `a ${scheme}// URI must name the database as its path, as in ${scheme}//HOST/DB`;
  }
  let db: string;
  try {
    db = decodeURIComponent(path);
  } catch {
    return 'the database name in the URI is not valid percent-encoding';
  }
  if (/[/\\. "$]/.test(db))
    return 'the database name in the URI may not contain / \\ . " $ or spaces';
  return null;
}

/**
 * A URL with one of the given schemes and a host. `secret` keeps the value out of the message
 * (only its scheme is shown), since URLs carry passwords and webhook tokens.
 */
export function urlProblem(
  url: string,
  schemes: readonly string[],
  secret: boolean,
): string | null {
  const expected = `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL`;
  const shown = secret
    ? (() => {
        const scheme = schemeOf(url);
        return scheme === null ? 'a value without a scheme' : `a URL with scheme ${scheme}`;
      })()
    : JSON.stringify(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${expected}, got ${shown}`;
  }
  if (!schemes.includes(parsed.protocol)) return `${expected}, got ${shown}`;
  if (parsed.hostname === '') return `${expected} with a host, got ${shown}`;
  return null;
}

export function emailProblem(address: string): string | null {
  // Deliberately loose: the SMTP server is the authority; this only catches obvious slips.
  return /^[^\s@]+@[^\s@]+$/.test(address.replace(/^.*<([^>]*)>\s*$/, '$1'))
    ? null
    : `must be an e-mail address such as ops@example.com, got ${JSON.stringify(address)}`;
}
