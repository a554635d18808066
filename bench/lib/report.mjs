// Medians of the raw runs, the issue-7 targets, and the Markdown tables printed at the end.
import { describeMachine } from './machine.mjs';

export const TARGETS = {
  docsPerSecond: 30_000,
  deltaRatio: 0.05,
  publishSeconds: 0.5,
  longestCommandMs: 10,
  peakRssBytesAt1M: 1e9,
  stateBytesPerDocTerm: 2.5,
};

export function median(values) {
  const xs = values
    .filter((v) => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Phase names in the order the runs report them (the JobResult lists them as they ran). */
function phaseNames(runs) {
  const names = [];
  for (const r of runs)
    for (const p of Object.keys(r.phases)) if (!names.includes(p)) names.push(p);
  return names;
}

/** Per corpus size: a row per worker count, the delta comparison and the 1 → 2 worker scaling. */
export function summarise(runs, corpora) {
  return corpora.map((corpus) => {
    const full = runs.filter((r) => r.kind === 'full' && r.docs === corpus.docs);
    const workerCounts = [...new Set(full.map((r) => r.workers))].sort((a, b) => a - b);
    const configs = workerCounts.map((workers) => {
      const all = full.filter((r) => r.workers === workers);
      const ok = all.filter((r) => r.success);
      const m = (f) => median(ok.map(f));
      return {
        workers,
        runs: all.length,
        failed: all.length - ok.length,
        firstError: all.find((r) => !r.success)?.errors?.[0] ?? null,
        wallSeconds: m((r) => r.wallSeconds),
        durationSeconds: m((r) => r.durationSeconds),
        documents: m((r) => r.documentsProcessed),
        cpuSeconds: m((r) => r.cpuSeconds),
        // Noise on a shared machine only ever adds CPU time: the least is the best estimate of
        // what the work itself costs.
        cpuSecondsMin: Math.min(...ok.map((r) => r.cpuSeconds ?? Infinity)),
        docsPerCpuSecondBest: Math.max(
          0,
          ...ok.map((r) => (r.cpuSeconds ? r.documentsProcessed / r.cpuSeconds : 0)),
        ),
        docsPerCpuSecond: m((r) => (r.cpuSeconds ? r.documentsProcessed / r.cpuSeconds : null)),
        loadAverage: m((r) => r.loadAverage),
        docsPerSecond: m((r) => r.documentsProcessed / r.wallSeconds),
        docsPerSecondAnalyze: m((r) => r.documentsProcessed / r.phases.analyze),
        mbPerSecondAnalyze: m((r) => corpus.bytes / 1e6 / r.phases.analyze),
        mbPerSecondWall: m((r) => corpus.bytes / 1e6 / r.wallSeconds),
        phases: Object.fromEntries(phaseNames(ok).map((p) => [p, m((r) => r.phases[p] ?? null)])),
        peakRssBytes: m((r) => r.peakRssBytes),
        peakRssBytesMax: Math.max(0, ...ok.map((r) => r.peakRssBytes ?? 0)) || null,
        // Read from the disk rather than the page cache; near zero when the corpus was warmed.
        diskReadBytes: m((r) => r.diskReadBytes ?? null),
        redisLongestCommandMs: m((r) => r.redis.ms),
        state: stateFigures(ok, corpus.meanDistinctTerms),
        wallSecondsAll: all.map((r) => r.wallSeconds),
      };
    });
    const one = configs.find((c) => c.workers === 1);
    const two = configs.find((c) => c.workers === 2);
    return {
      docs: corpus.docs,
      bytes: corpus.bytes,
      meanDistinctTerms: corpus.meanDistinctTerms,
      configs,
      scaling1to2:
        one?.docsPerSecond && two?.docsPerSecond ? two.docsPerSecond / one.docsPerSecond : null,
      delta: deltaFigures(runs, corpus.docs),
    };
  });
}

/**
 * Bytes the state dir holds after a run, per document and per (document, distinct term). A
 * checkpoint and other run metadata are a few hundred bytes whatever the corpus; state that is
 * kept per document or per term grows with the corpus, so under 1 byte per document is reported
 * as metadata only, not as a state size.
 */
function stateFigures(runs, meanDistinctTerms) {
  const withFiles = runs.filter((r) => r.state.bytes > 0);
  if (withFiles.length === 0) return { dfState: false, note: 'n/a (empty state dir)' };
  const bytes = median(withFiles.map((r) => r.state.bytes));
  const files = withFiles[0].state.files;
  const perDoc = median(withFiles.map((r) => r.state.bytes / r.documentsCounted));
  const perDocTerm =
    meanDistinctTerms === null
      ? null
      : median(withFiles.map((r) => r.state.bytes / (r.documentsCounted * meanDistinctTerms)));
  const dfState = perDoc >= 1;
  return {
    bytes,
    files,
    bytesPerDocument: perDoc,
    bytesPerDocumentTerm: perDocTerm,
    dfState,
    note: dfState
      ? null
      : `n/a: ${bytes} B of metadata (${files.map((f) => f.file).join(', ')}), no per-document state`,
  };
}

function deltaFigures(runs, docs) {
  const pairs = runs.filter((r) => r.kind === 'delta' && r.docs === docs);
  if (pairs.length === 0) return null;
  const ok = pairs.filter((r) => r.success && r.base.success);
  const modes = [...new Set(ok.map((r) => r.mode))];
  const applicable = ok.length > 0 && modes.every((m) => m === 'delta');
  return {
    workers: pairs[0].workers,
    runs: pairs.length,
    failed: pairs.length - ok.length,
    firstError: pairs.find((r) => !r.success)?.errors?.[0] ?? null,
    modes,
    applicable,
    baseWallSeconds: median(ok.map((r) => r.base.wallSeconds)),
    deltaWallSeconds: median(ok.map((r) => r.wallSeconds)),
    baseCpuSeconds: median(ok.map((r) => r.base.cpuSeconds)),
    deltaCpuSeconds: median(ok.map((r) => r.cpuSeconds)),
    deltaPhases: Object.fromEntries(
      phaseNames(ok).map((p) => [p, median(ok.map((r) => r.phases[p] ?? null))]),
    ),
    ratio: median(ok.map((r) => r.wallSeconds / r.base.wallSeconds)),
    deltaDocuments: median(ok.map((r) => r.documentsProcessed)),
    status: applicable
      ? null
      : ok.length === 0
        ? 'no successful delta run'
        : `not applicable yet: the second run's JobResult mode is '${modes.join("', '") || 'none'}', a full recount (exact incremental state is being built)`,
  };
}

export function targetChecks(summary, publish) {
  const rows = [];
  const status = (ok) => (ok === null ? 'n/a' : ok ? 'met' : 'NOT met');
  for (const size of summary) {
    const two = size.configs.find((c) => c.workers === 2);
    if (two?.docsPerSecond != null) {
      rows.push([
        `full run ≥ ${TARGETS.docsPerSecond.toLocaleString('en-US')} docs/s, 2 workers (${label(size.docs)})`,
        `${fmt(two.docsPerSecond, 0)} docs/s (${pct(two.docsPerSecond / TARGETS.docsPerSecond)} of target)`,
        status(two.docsPerSecond >= TARGETS.docsPerSecond),
      ]);
    }
    if (two?.docsPerCpuSecondBest) {
      // Work is fixed CPU; two cores can at best run it twice as fast as one CPU-second allows.
      const bound = 2 * two.docsPerCpuSecondBest;
      rows.push([
        `upper bound on an idle 2-core machine: 2 × best docs per CPU-second (${label(size.docs)})`,
        `≤ ${fmt(bound, 0)} docs/s`,
        bound >= TARGETS.docsPerSecond
          ? 'reachable'
          : 'NOT reachable without less CPU per document',
      ]);
    }
    if (size.scaling1to2 !== null) {
      rows.push([
        `scales from 1 to 2 workers (${label(size.docs)})`,
        `× ${fmt(size.scaling1to2, 2)}`,
        status(size.scaling1to2 > 1.5),
      ]);
    }
    if (size.delta !== null) {
      rows.push([
        `1% delta ≤ 5% of the full run's time (${label(size.docs)})`,
        size.delta.applicable ? pct(size.delta.ratio) : size.delta.status,
        size.delta.applicable ? status(size.delta.ratio <= TARGETS.deltaRatio) : 'n/a',
      ]);
    }
    const rss = Math.max(0, ...size.configs.map((c) => c.peakRssBytesMax ?? 0));
    if (size.docs >= 1_000_000 && rss > 0) {
      rows.push([
        `peak RSS ≤ 1 GB at ${label(size.docs)}`,
        `${fmt(rss / 1e6, 0)} MB`,
        status(rss <= TARGETS.peakRssBytesAt1M),
      ]);
    }
    const state = two?.state ?? size.configs.at(-1)?.state;
    if (state !== undefined) {
      rows.push([
        `state ≤ ${TARGETS.stateBytesPerDocTerm} B per unique term per document (${label(size.docs)})`,
        state.dfState && state.bytesPerDocumentTerm != null
          ? `${fmt(state.bytesPerDocumentTerm, 2)} B`
          : (state.note ?? 'n/a'),
        state.dfState && state.bytesPerDocumentTerm != null
          ? status(state.bytesPerDocumentTerm <= TARGETS.stateBytesPerDocTerm)
          : 'n/a',
      ]);
    }
  }
  if (publish !== null) {
    rows.push([
      `publish ${publish.words.toLocaleString('en-US')} words / ${publish.languages} languages ≤ ${TARGETS.publishSeconds} s`,
      `${fmt(publish.medianSeconds, 3)} s`,
      status(publish.medianSeconds <= TARGETS.publishSeconds),
    ]);
    rows.push([
      `no Redis command > ${TARGETS.longestCommandMs} ms while publishing`,
      `max ${fmt(publish.longestCommandMs, 2)} ms (${shortCommand(publish.longestCommand)}); median of each publish's longest ${fmt(publish.longestCommandMsMedian, 2)} ms`,
      status(publish.longestCommandMs <= TARGETS.longestCommandMs),
    ]);
  }
  return rows;
}

export function markdown(report) {
  const out = [];
  out.push(`Machine: ${describeMachine(report.machine)}.`);
  out.push('');
  if (report.summary.length > 0) {
    out.push(
      `Full runs, medians of ${report.options.runs} run(s) each (docs/s and MB/s over the process's wall time; "analyze" over the analyze phase):`,
    );
    out.push('');
    out.push(
      '| docs | workers | wall s | docs/s | CPU s (least) | docs/CPU-s (best) | load | analyze s | docs/s analyze | MB/s analyze / wall | peak RSS MB | state |',
    );
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const size of report.summary) {
      for (const c of size.configs) {
        out.push(
          `| ${label(size.docs)} | ${c.workers} | ${fmt(c.wallSeconds, 2)} | ${fmt(c.docsPerSecond, 0)} | ${fmt(c.cpuSeconds, 2)} (${fmt(c.cpuSecondsMin, 2)}) | ${fmt(c.docsPerCpuSecond, 0)} (${fmt(c.docsPerCpuSecondBest, 0)}) | ${fmt(c.loadAverage, 1)} | ${fmt(c.phases.analyze, 2)} | ${fmt(c.docsPerSecondAnalyze, 0)} | ${fmt(c.mbPerSecondAnalyze, 1)} / ${fmt(c.mbPerSecondWall, 1)} | ${fmt(mb(c.peakRssBytes), 0)} | ${stateCell(c.state)} |${c.failed > 0 ? ` ${c.failed} of ${c.runs} failed: ${c.firstError}` : ''}`,
        );
      }
    }
    const phases = phaseNames(report.summary.flatMap((s) => s.configs));
    out.push('');
    out.push(
      'Time per phase (JobResult `phases`, medians) and the longest Redis command of the run:',
    );
    out.push('');
    out.push(`| docs | workers | ${phases.map((p) => `${p} s`).join(' | ')} | max Redis cmd ms |`);
    out.push(`|---:|---:|${phases.map(() => '---:|').join('')}---:|`);
    for (const size of report.summary) {
      for (const c of size.configs) {
        out.push(
          `| ${label(size.docs)} | ${c.workers} | ${phases.map((p) => fmt(c.phases[p], 3)).join(' | ')} | ${fmt(c.redisLongestCommandMs, 2)} |`,
        );
      }
    }
  }
  const deltas = report.summary.filter((s) => s.delta !== null);
  if (deltas.length > 0) {
    out.push('');
    out.push(
      'Delta (1% of documents changed; base run, then the changed corpus with the same state dir):',
    );
    out.push('');
    out.push(
      '| docs | workers | base wall s | delta wall s | delta/base | base / delta CPU s | delta docs processed | delta phases s | status |',
    );
    out.push('|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const s of deltas) {
      const d = s.delta;
      const phases = Object.entries(d.deltaPhases ?? {})
        .map(([p, v]) => `${p} ${fmt(v, 2)}`)
        .join(', ');
      let status = d.applicable ? (d.ratio <= TARGETS.deltaRatio ? 'met' : 'NOT met') : d.status;
      if (d.failed > 0) status += `; ${d.failed} of ${d.runs} delta run(s) failed: ${d.firstError}`;
      out.push(
        `| ${label(s.docs)} | ${d.workers} | ${fmt(d.baseWallSeconds, 2)} | ${fmt(d.deltaWallSeconds, 2)} | ${pct(d.ratio)} | ${fmt(d.baseCpuSeconds, 2)} / ${fmt(d.deltaCpuSeconds, 2)} | ${fmt(d.deltaDocuments, 0)} | ${phases} | ${status} |`,
      );
    }
  }
  const scaled = report.summary.filter((s) => s.scaling1to2 !== null);
  if (scaled.length > 0) {
    out.push('');
    out.push(
      `Worker scaling 1 → 2 (docs/s over wall): ${scaled.map((s) => `${label(s.docs)} × ${fmt(s.scaling1to2, 2)}`).join(', ')}.`,
    );
  }
  if (report.publish !== null) {
    const p = report.publish;
    out.push('');
    out.push(
      `Publish micro-benchmark: ${p.words.toLocaleString('en-US')} words over ${p.languages} languages (${p.perLanguage} each), ${p.runs.length} publishes; the first meets no live lists.`,
    );
    out.push('');
    out.push(
      '| publish | seconds | longest Redis command ms | that command | commands > 10 ms | command p50 / p99 ms | commands |',
    );
    out.push('|---:|---:|---:|---|---:|---:|---:|');
    p.runs.forEach((r, i) => {
      out.push(
        `| ${i + 1}${r.overLiveLists ? '' : ' (first)'} | ${fmt(r.seconds, 3)} | ${fmt(r.longestCommandMs, 2)} | ${shortCommand(r.longestCommand)} | ${r.commandsOver10ms} | ${fmt(r.commandP50Ms, 3)} / ${fmt(r.commandP99Ms, 2)} | ${r.commands} |`,
      );
    });
    out.push(
      `| median over live lists | ${fmt(p.medianSeconds, 3)} | ${fmt(p.longestCommandMs, 2)} (max) | ${shortCommand(p.longestCommand)} | | | |`,
    );
  }
  out.push('');
  out.push('Targets:');
  out.push('');
  out.push('| target | measured | status |');
  out.push('|---|---|---|');
  for (const [target, measured, status] of report.targets) {
    out.push(`| ${target} | ${measured} | ${status} |`);
  }
  return out.join('\n');
}

// The key prefix of a benchmark key says nothing; the key's kind does.
function shortCommand(command) {
  return (command ?? 'n/a').replace(/ bench:[^:]+:[^:]+:/, ' P:');
}

function stateCell(state) {
  if (state.note !== null && !state.dfState) return state.note;
  const perTerm =
    state.bytesPerDocumentTerm == null ? '' : `, ${fmt(state.bytesPerDocumentTerm, 2)} B/doc·term`;
  return `${fmt(state.bytesPerDocument, 1)} B/doc${perTerm}`;
}

function mb(bytes) {
  return bytes === null || bytes === undefined ? null : bytes / 1e6;
}

export function label(docs) {
  if (docs >= 1e6 && docs % 1e6 === 0) return `${docs / 1e6}M`;
  if (docs >= 1e3 && docs % 1e3 === 0) return `${docs / 1e3}K`;
  return String(docs);
}

export function fmt(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function pct(x) {
  return x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}
