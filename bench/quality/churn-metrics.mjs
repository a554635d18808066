// Night-to-night churn of published stopword lists.
//
// A sequence is what one setting published night after night: `nights[n]` = { result (the
// JobResult), lists: Map(lang → Map(word → confidence)) } read back from Redis. A language-night
// is a night n ≥ 1 at which the language was published both on night n − 1 and on night n.

export const mean = (xs) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const rms = (xs) => (xs.length === 0 ? null : Math.sqrt(mean(xs.map((x) => x * x))));

function symmetricDifference(a, b) {
  let onlyA = 0;
  let onlyB = 0;
  for (const w of a.keys()) if (!b.has(w)) onlyA++;
  for (const w of b.keys()) if (!a.has(w)) onlyB++;
  return { onlyA, onlyB };
}

/** The languages published on nights n − 1 and n. */
function languageNights(seq) {
  const out = [];
  for (let n = 1; n < seq.nights.length; n++) {
    for (const [lang, words] of seq.nights[n].lists) {
      const before = seq.nights[n - 1].lists.get(lang);
      if (before !== undefined && before.size > 0 && words.size > 0) out.push({ n, lang });
    }
  }
  return out;
}

/**
 * Membership changes that undo an earlier change of the same word, per language-night:
 * `reentries` are words that were live, left and came back (the flap the hysteresis is for);
 * `reversals` are every change after a word's first one (a return, or a recent entry leaving).
 */
function flaps(seq) {
  const byNight = new Map(); // `${n}|${lang}` → { reentries, reversals }
  const langs = new Set(seq.nights.flatMap((night) => [...night.lists.keys()]));
  for (const lang of langs) {
    const everLive = new Set();
    const changedBefore = new Set();
    for (const w of seq.nights[0].lists.get(lang)?.keys() ?? []) everLive.add(w);
    for (let n = 1; n < seq.nights.length; n++) {
      const before = seq.nights[n - 1].lists.get(lang) ?? new Map();
      const now = seq.nights[n].lists.get(lang) ?? new Map();
      let reentries = 0;
      let reversals = 0;
      const changed = [];
      for (const w of now.keys()) {
        if (before.has(w)) continue;
        if (everLive.has(w)) reentries++;
        changed.push(w);
      }
      for (const w of before.keys()) if (!now.has(w)) changed.push(w);
      for (const w of changed) {
        if (changedBefore.has(w)) reversals++;
        changedBefore.add(w);
      }
      for (const w of now.keys()) everLive.add(w);
      byNight.set(`${n}|${lang}`, { reentries, reversals });
    }
  }
  return byNight;
}

/**
 * Churn figures of one sequence; `truth` is the sequence with the same minDocumentRatio and no
 * hysteresis (may be `seq` itself), which the lists are compared with.
 */
export function sequenceMetrics(seq, truth) {
  const cells = languageNights(seq);
  const flapsAt = flaps(seq);
  const churns = [];
  const changes = [];
  const sizes = [];
  const diffs = [];
  const diffShares = [];
  const extras = [];
  const missing = [];
  const finalDiffs = [];
  let worst = null;
  let reentries = 0;
  let reversals = 0;
  let flapNights = 0;
  let mismatches = 0;
  const perLang = new Map();
  const last = seq.nights.length - 1;
  for (const { n, lang } of cells) {
    const before = seq.nights[n - 1].lists.get(lang);
    const now = seq.nights[n].lists.get(lang);
    const { onlyA: added, onlyB: removed } = symmetricDifference(now, before);
    const reported = seq.nights[n].result.languages?.[lang];
    if (reported?.added !== added || reported?.removed !== removed) mismatches++;
    const churn = (added + removed) / before.size;
    churns.push(churn);
    changes.push(added + removed);
    sizes.push(now.size);
    if (worst === null || churn > worst.churn) worst = { churn, lang, night: n };
    const f = flapsAt.get(`${n}|${lang}`);
    reentries += f.reentries;
    reversals += f.reversals;
    if (f.reentries > 0) flapNights++;
    const l = perLang.get(lang) ?? {
      cells: 0,
      churns: [],
      changes: 0,
      sizes: [],
      flapNights: 0,
      reentries: 0,
      reversals: 0,
    };
    l.cells++;
    l.churns.push(churn);
    l.changes += added + removed;
    l.sizes.push(now.size);
    l.flapNights += f.reentries > 0 ? 1 : 0;
    l.reentries += f.reentries;
    l.reversals += f.reversals;
    perLang.set(lang, l);
    const plain = truth.nights[n].lists.get(lang);
    if (plain !== undefined && plain.size > 0) {
      const { onlyA, onlyB } = symmetricDifference(now, plain);
      diffs.push(onlyA + onlyB);
      diffShares.push((onlyA + onlyB) / plain.size);
      extras.push(onlyA);
      missing.push(onlyB);
      if (n === last) {
        finalDiffs.push(onlyA + onlyB);
        l.finalDiff = onlyA + onlyB;
      }
    }
  }
  // How far the last night's lists are from the first night's.
  const drift = [];
  for (const [lang, words] of seq.nights[last].lists) {
    const first = seq.nights[0].lists.get(lang);
    if (first === undefined || first.size === 0 || words.size === 0) continue;
    const { onlyA, onlyB } = symmetricDifference(words, first);
    drift.push((onlyA + onlyB) / first.size);
  }
  return {
    languageNights: cells.length,
    languages: perLang.size,
    meanChurn: mean(churns),
    maxChurn: worst,
    meanChanges: mean(changes),
    changedShare: mean(changes.map((c) => (c > 0 ? 1 : 0))),
    flapNightShare: cells.length === 0 ? null : flapNights / cells.length,
    flapNights,
    reentries,
    reversals,
    meanSize: mean(sizes),
    diff: {
      mean: mean(diffs),
      meanShare: mean(diffShares),
      max: diffs.length === 0 ? null : Math.max(...diffs),
      extra: mean(extras),
      missing: mean(missing),
      final: mean(finalDiffs),
    },
    drift: mean(drift),
    mismatches,
    perLang: Object.fromEntries(
      [...perLang].map(([lang, l]) => [
        lang,
        {
          nights: l.cells,
          churns: l.churns,
          changes: l.changes,
          meanSize: mean(l.sizes),
          flapNights: l.flapNights,
          reentries: l.reentries,
          reversals: l.reversals,
          finalDiff: l.finalDiff ?? null,
        },
      ]),
    ),
  };
}

/**
 * From the probe sequence (no hysteresis, a low threshold, so every word near the thresholds of
 * the grid is listed with its ratio): per language, the documents, the typical night-to-night
 * change of a word's ratio, the change over the whole sequence, and how many words sit in a band.
 */
export function ratioNoise(probe, { lo, hi }) {
  const out = {};
  const last = probe.nights.length - 1;
  const langs = new Set(probe.nights.flatMap((night) => [...night.lists.keys()]));
  for (const lang of langs) {
    const nightly = [];
    for (let n = 1; n <= last; n++) {
      const before = probe.nights[n - 1].lists.get(lang);
      const now = probe.nights[n].lists.get(lang);
      if (before === undefined || now === undefined) continue;
      for (const [w, c] of now) {
        const b = before.get(w);
        if (b !== undefined && b >= lo && b <= hi) nightly.push(c - b);
      }
    }
    const whole = [];
    const first = probe.nights[0].lists.get(lang);
    const end = probe.nights[last].lists.get(lang);
    if (first !== undefined && end !== undefined) {
      for (const [w, c] of end) {
        const b = first.get(w);
        if (b !== undefined && b >= lo && b <= hi) whole.push(c - b);
      }
    }
    out[lang] = {
      documents: probe.nights[0].result.languages?.[lang]?.documents ?? null,
      documentsEnd: probe.nights[last].result.languages?.[lang]?.documents ?? null,
      nightly: rms(nightly),
      whole: rms(whole),
      words: nightly.length,
    };
  }
  return out;
}

/** Words of the probe's last night whose ratio lies in [leave, min): the most a band can keep. */
export function bandPopulation(probe, lang, min, leave) {
  const words = probe.nights.at(-1).lists.get(lang);
  if (words === undefined) return null;
  let count = 0;
  for (const c of words.values()) if (c >= leave && c < min) count++;
  return count;
}
