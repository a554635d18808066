/** "Did you mean" hints for unknown keys and variables. */
import { groupEntries, leafEntries } from './schema.js';

const normalise = (key: string) => key.toLowerCase().replace(/[_\-\s]/g, '');

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate, if close enough to be a likely typo. */
export function closest(key: string, candidates: readonly string[]): string | undefined {
  const wanted = normalise(key);
  const same = candidates.find((c) => normalise(c) === wanted);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = distance(wanted, normalise(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * A hint for an unknown `key` under `prefix`: a close sibling, else a key of the same name
 * elsewhere (`keyPrefix` at the top level → `redis.keyPrefix`), else the keys allowed here.
 */
export function suggestKey(
  key: string,
  prefix: readonly string[],
  siblings: readonly string[],
): string {
  const join = (k: string) => [...prefix, k].join('.');
  const sibling = closest(key, siblings);
  if (sibling !== undefined) return ` (did you mean ${join(sibling)}?)`;
  const wanted = normalise(key);
  const elsewhere = [...leafEntries.map((e) => e.path), ...groupEntries().map((g) => g.path)].find(
    (path) => normalise(path.split('.').at(-1) ?? '') === wanted,
  );
  if (elsewhere !== undefined) return ` (did you mean ${elsewhere}?)`;
  return siblings.length > 0 ? `; allowed here: ${siblings.join(', ')}` : '';
}
