// A corpus that changes every night, built from the real documents of the quality corpus.
//
// Night 0 holds a seeded random share (`initial`) of the documents. Every later night replaces
// about `change` of the live documents: a third are deleted (a `deletedAt` tombstone that stays in
// the corpus), a third are added from the documents not yet seen, and the rest keep their id but
// get the text of another document of the same language. Changed documents carry an `updatedAt`
// inside the night's window, so a nightly delta run reads exactly that night's changes.
import { writeFileSync } from 'node:fs';
import { mulberry32 } from '../lib/random.mjs';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function shuffle(items, rand) {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The `--until` of night `n`: one day apart, starting at `start`. */
export const nightTime = (start, n) => new Date(Date.parse(start) + n * DAY_MS).toISOString();

/**
 * The simulation. `documents`: { _id, lang, text, updatedAt }. Returns { first, next, write }:
 * `first` describes night 0; `next()` applies the following night's changes and describes them
 * ({ night, until, live, deleted, added, modified }); `write(file)` writes the whole corpus as it
 * stands (one line per id, tombstones included), ordered by id.
 */
export function simulateNights(documents, { initial, change, seed, start }) {
  const rand = mulberry32(seed);
  const order = shuffle(
    documents.slice().sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)),
    rand,
  );
  const cut = Math.round(order.length * initial);
  const unseen = order.slice(cut);
  const byLang = new Map();
  for (const d of documents) {
    if (!byLang.has(d.lang)) byLang.set(d.lang, []);
    byLang.get(d.lang).push(d);
  }
  // id → the current version: { _id, lang, text, updatedAt, deletedAt? }
  const current = new Map();
  for (const d of order.slice(0, cut)) {
    current.set(d._id, { _id: d._id, lang: d.lang, text: d.text, updatedAt: d.updatedAt });
  }
  const liveIds = order.slice(0, cut).map((d) => d._id);
  const first = { night: 0, until: nightTime(start, 0), live: liveIds.length };
  let n = 0;

  const next = () => {
    n++;
    const from = Date.parse(nightTime(start, n - 1));
    // Inside [from + 1 h, from + 23 h): well inside the window [until(n − 1), until(n)).
    const stamp = () => new Date(from + HOUR_MS + Math.floor(rand() * 22 * HOUR_MS)).toISOString();
    const k = Math.round(liveIds.length * change);
    const deletes = Math.round(k / 3);
    const adds = Math.min(Math.round(k / 3), unseen.length);
    const modifies = k - deletes - adds;
    // Deleted and modified documents are distinct live ones, drawn without replacement.
    const picked = new Set();
    const pick = () => {
      for (;;) {
        const i = Math.floor(rand() * liveIds.length);
        if (!picked.has(i)) {
          picked.add(i);
          return i;
        }
      }
    };
    const deleted = [];
    for (let i = 0; i < deletes; i++) deleted.push(pick());
    for (let i = 0; i < modifies; i++) {
      const doc = current.get(liveIds[pick()]);
      const pool = byLang.get(doc.lang);
      let source = pool[Math.floor(rand() * pool.length)];
      while (pool.length > 1 && source.text === doc.text) {
        source = pool[Math.floor(rand() * pool.length)];
      }
      current.set(doc._id, { ...doc, text: source.text, updatedAt: stamp() });
    }
    for (const i of deleted) {
      const doc = current.get(liveIds[i]);
      const at = stamp();
      current.set(doc._id, { _id: doc._id, lang: doc.lang, updatedAt: at, deletedAt: at });
    }
    const gone = new Set(deleted);
    const survivors = liveIds.filter((_, i) => !gone.has(i));
    for (const d of unseen.splice(0, adds)) {
      current.set(d._id, { _id: d._id, lang: d.lang, text: d.text, updatedAt: stamp() });
      survivors.push(d._id);
    }
    liveIds.length = 0;
    liveIds.push(...survivors);
    return {
      night: n,
      until: nightTime(start, n),
      live: liveIds.length,
      deleted: deletes,
      added: adds,
      modified: modifies,
    };
  };

  const write = (file) => {
    const lines = [...current.values()].sort((a, b) =>
      a._id < b._id ? -1 : a._id > b._id ? 1 : 0,
    );
    writeFileSync(file, `${lines.map((d) => JSON.stringify(d)).join('\n')}\n`);
    return lines.length;
  };
  return { first, next, write };
}
