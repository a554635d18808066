#!/usr/bin/env node
// Top self-time functions of V8 .cpuprofile files (node --cpu-prof), one table per thread.
//
//   node bench/profile-summary.mjs [--top 20] DIR|FILE...
//
// `node --cpu-prof` writes one profile per thread: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile,
// thread 0 being the main thread and the others worker threads (workers inherit the flag).
// Self time of a sample is the gap to the next sample, as Chrome DevTools counts it; "total" is
// the share of samples with the function anywhere on the stack (each function once per sample).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export function summariseProfile(profile, { top = 20, root = '' } = {}) {
  const nodes = new Map();
  for (const node of profile.nodes) nodes.set(node.id, node);
  const parent = new Map();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = new Map();
  const infoOf = new Map();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const name = f.functionName || '(anonymous)';
    const url = f.url ? shortUrl(f.url, root) : '';
    const key = `${name} ${url}:${f.lineNumber}`;
    keyOf.set(node.id, key);
    if (!infoOf.has(key)) {
      infoOf.set(key, {
        name,
        where: url === '' ? '' : `${url}:${f.lineNumber + 1}`,
        self: 0,
        total: 0,
      });
    }
  }
  const { samples = [], timeDeltas = [] } = profile;
  let all = 0;
  let idle = 0;
  const byFile = new Map();
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
    const micros = Math.max(0, next);
    const id = samples[i];
    const key = keyOf.get(id);
    const info = infoOf.get(key);
    all += micros;
    if (info.name === '(idle)') idle += micros;
    info.self += micros;
    const file = info.where === '' ? info.name : info.where.replace(/:\d+$/, '');
    byFile.set(file, (byFile.get(file) ?? 0) + micros);
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const k = keyOf.get(n);
      if (seen.has(k)) continue;
      seen.add(k);
      infoOf.get(k).total += micros;
    }
  }
  const busy = all - idle;
  const rows = [...infoOf.values()]
    .filter((i) => i.self > 0 && i.name !== '(idle)' && i.name !== '(root)')
    .sort((a, b) => b.self - a.self)
    .slice(0, top);
  const files = [...byFile.entries()]
    .filter(([f]) => f !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  return { allMs: all / 1000, idleMs: idle / 1000, busyMs: busy / 1000, rows, files };
}

function shortUrl(url, root) {
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (root !== '' && path.startsWith(root)) path = relative(root, path);
  return path.replace(/^.*node_modules\//, 'node_modules/');
}

function threadOf(file) {
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
  const parts = basename(file).split('.');
  return parts.length >= 7 ? Number(parts[4]) : null;
}

export function profileFiles(paths) {
  return paths
    .flatMap((p) =>
      statSync(p).isDirectory()
        ? readdirSync(p)
            .filter((f) => f.endsWith('.cpuprofile'))
            .map((f) => join(p, f))
        : [p],
    )
    .sort((a, b) => (threadOf(a) ?? 0) - (threadOf(b) ?? 0) || a.localeCompare(b));
}

/** Markdown: a table per profile file (thread). */
export function summariseProfiles(paths, { top = 20, root = '' } = {}) {
  const out = [];
  for (const file of profileFiles([paths].flat())) {
    const s = summariseProfile(JSON.parse(readFileSync(file, 'utf8')), { top, root });
    const thread = threadOf(file);
    const who =
      thread === 0 ? 'main thread' : thread === null ? basename(file) : `worker thread ${thread}`;
    const ms = (x) => x.toFixed(0);
    const pct = (x) => (s.busyMs === 0 ? '0.0' : ((x / 1000 / s.busyMs) * 100).toFixed(1));
    out.push(
      `### ${who} (${basename(file)}): ${ms(s.busyMs)} ms busy, ${ms(s.idleMs)} ms idle of ${ms(s.allMs)} ms sampled`,
    );
    out.push('');
    out.push('| self ms | self % of busy | total % | function | where |');
    out.push('|---:|---:|---:|---|---|');
    for (const r of s.rows) {
      out.push(
        `| ${ms(r.self / 1000)} | ${pct(r.self)} | ${pct(r.total)} | ${r.name} | ${r.where} |`,
      );
    }
    out.push('');
    out.push(
      `By file (self % of busy): ${s.files.map(([f, us]) => `${f} ${pct(us)}%`).join(', ')}`,
    );
    out.push('');
  }
  return out.join('\n').trimEnd();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '20' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(
      'usage: node bench/profile-summary.mjs [--top N] DIR|FILE.cpuprofile...\n',
    );
    process.exit(values.help ? 0 : 2);
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stdout.write(`${summariseProfiles(positionals, { top: Number(values.top), root })}\n`);
}
