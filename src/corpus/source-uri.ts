/**
 * Parsing of `--source` / `source.uri`: `file:PATH` (NDJSON) or a MongoDB connection string.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SourceLocation =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'mongodb'; readonly uri: string; readonly database: string };

export class SourceUriError extends Error {}

export const SOURCE_URI_HELP =
  'expected file:PATH (NDJSON) or mongodb://HOST/DB (or mongodb+srv://HOST/DB)';

export function parseSourceUri(uri: string, cwd = process.cwd()): SourceLocation {
  if (uri.startsWith('file:')) {
    const rest = uri.slice('file:'.length);
    if (rest.length === 0) throw new SourceUriError(`source has no path: ${SOURCE_URI_HELP}`);
    const path = rest.startsWith('//') ? fileURLToPath(uri) : resolve(cwd, rest);
    return { kind: 'file', path };
  }
  if (uri.startsWith('mongodb://') || uri.startsWith('mongodb+srv://')) {
    // Not `new URL`: a replica-set string lists several hosts, which URL cannot parse.
    const afterScheme = uri.slice(uri.indexOf('://') + 3);
    const slash = afterScheme.indexOf('/');
    const path = slash === -1 ? '' : (afterScheme.slice(slash + 1).split('?')[0] ?? '');
    const database = safeDecode(path);
    if (slash <= 0 || database.length === 0) {
      throw new SourceUriError(`source names no database: ${SOURCE_URI_HELP}`);
    }
    return { kind: 'mongodb', uri, database };
  }
  throw new SourceUriError(`source has an unknown scheme: ${SOURCE_URI_HELP}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return '';
  }
}
