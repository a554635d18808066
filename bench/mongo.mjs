#!/usr/bin/env node
// Throughput of the MongoDB source beside the NDJSON source, on the same seeded corpus.
//
//   npm run bench:mongo                         # 200K documents, 3 runs each
//   npm run bench:mongo -- --docs 50000 --runs 1
//
// The server is the in-repo wire-protocol test server (test/support/mongo/), started in its own
// process on the same machine: it competes with the job for the cores and encodes every reply
// in JavaScript, so the figures are a floor for what a real mongod on another host would give.
// Three measurements, medians of --runs:
//   1. source only: the job's MongoSource reading every page (raw BSON, keyset queries) with
//      no analysis — what the source can deliver;
//   2. a full run (`run --full`, real state, real redis-server) from the NDJSON file, then a delta
//      run on the same corpus with 1% of its documents changed;
//   3. the same two runs from MongoDB (a second test server holds the changed corpus), where the
//      delta reads only the changed documents through the (updatedAt, _id) index.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { rssMethod, runCli } from './lib/cli-run.mjs';
import { ensureCorpus, isoAfter } from './lib/corpus.mjs';
import { describeMachine, machineInfo } from './lib/machine.mjs';
import { freePort, redisServerVersion, startRedis } from './lib/redis-server.mjs';
import { median } from './lib/report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'bench/out');
const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    'page-size': { type: 'string', default: '5000' },
  },
});
const docs = Number(values.docs);
const runs = Number(values.runs);
const pageSize = Number(values['page-size']);
const log = (message) => process.stderr.write(`${message}\n`);

const corpus = await ensureCorpus({ root, outDir, docs, log });
const until = isoAfter(corpus.path);
const work = mkdtempSync(join(os.tmpdir(), 'stopword-bench-mongo-'));
const redis = await startRedis(work);
const next = await ensureCorpus({ root, outDir, docs, delta: { changedRatio: 0.01 }, log });
const nextUntil = isoAfter(next.path);

async function startServer(path) {
  const port = await freePort();
  log(`loading ${path} into a test server on port ${port} …`);
  const child = spawn(
    process.execPath,
    [
      join(root, 'test/support/mongo/cli.mjs'),
      ...[
        '--port',
        String(port),
        '--seed-file',
        path,
        '--db',
        'bench',
        '--collection',
        'documents',
      ],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`test server exited ${code}`)));
  });
  const uri = `mongodb://127.0.0.1:${port}/bench`;
  const admin = await new MongoClient(uri).connect();
  await admin.db('bench').collection('documents').createIndex({ updatedAt: 1, _id: 1 });
  await admin.close();
  return { child, uri };
}
const servers = [await startServer(corpus.path), await startServer(next.path)];
const uri = servers[0].uri;
const nextUri = servers[1].uri;

const { MongoSource } = await import(join(root, 'dist/corpus/mongo-source.js'));
const fields = {
  id: '_id',
  lang: 'lang',
  text: ['text'],
  updatedAt: 'updatedAt',
  deleted: 'deletedAt',
};
const method = rssMethod(undefined);
const results = { sourceOnly: [], file: [], mongo: [], fileDelta: [], mongoDelta: [] };
try {
  for (let run = 0; run < runs; run++) {
    const source = await MongoSource.open({
      uri,
      database: 'bench',
      collection: 'documents',
      fields,
      readPreference: 'secondaryPreferred',
      maxStalenessSeconds: 0,
      connectTimeoutSeconds: 10,
      retries: 0,
      pageSize,
    });
    const started = performance.now();
    let bytes = 0;
    let count = 0;
    for await (const chunk of source.chunks(
      { fromMs: null, toMs: Date.parse(until) },
      new AbortController().signal,
    )) {
      bytes += chunk.bytes.byteLength;
      for (let offset = 0; offset < chunk.bytes.byteLength; count++) {
        offset += new DataView(chunk.bytes.buffer, chunk.bytes.byteOffset + offset, 4).getInt32(
          0,
          true,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    await source.close();
    if (count !== docs) throw new Error(`source read ${count} documents, expected ${docs}`);
    results.sourceOnly.push({
      seconds,
      docsPerSecond: count / seconds,
      mbPerSecond: bytes / seconds / 1e6,
    });
    log(`source only: ${count} documents in ${seconds.toFixed(2)} s`);

    for (const kind of ['file', 'mongo']) {
      const stateDir = join(work, `state-${kind}-${run}`);
      for (const delta of [false, true]) {
        const source =
          kind === 'file' ? `file:${delta ? next.path : corpus.path}` : delta ? nextUri : uri;
        const measured = await runCli({
          root,
          method,
          args: [
            ...(delta ? [] : ['--full']),
            ...['--source', source, '--redis', redis.url, '--state-dir', stateDir],
            ...['--until', delta ? nextUntil : until],
          ],
          env: {
            ...process.env,
            STOPWORD_REFRESH_REDIS_KEY_PREFIX: `bench-${kind}`,
            STOPWORD_REFRESH_SOURCE_BATCH_SIZE: String(pageSize),
            STOPWORD_REFRESH_GUARDRAILS_MAX_CHURN_RATIO: '1',
            STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
          },
        });
        if (measured.exitCode !== 0) throw new Error(`${kind} run failed: ${measured.stderrTail}`);
        const counted = measured.result?.documents?.counted ?? 0;
        if (delta && measured.result?.mode !== 'delta') throw new Error(`${kind}: not a delta run`);
        results[delta ? `${kind}Delta` : kind].push({
          seconds: measured.wallSeconds,
          cpuSeconds: measured.cpuSeconds,
          docsPerSecond: delta ? null : counted / measured.wallSeconds,
          read: measured.result?.documents?.read ?? null,
          peakRssMb: measured.peakRssBytes === null ? null : measured.peakRssBytes / 2 ** 20,
        });
        log(
          `${kind}${delta ? ' delta' : ''}: ${counted} documents in ${measured.wallSeconds.toFixed(2)} s`,
        );
      }
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
} finally {
  for (const server of servers) server.child.kill('SIGTERM');
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}

const med = (list, key) => median(list.map((r) => r[key]).filter((v) => v !== null));
const rate = (list) => {
  const value = med(list, 'docsPerSecond');
  return value === null || Number.isNaN(value) ? '—' : Math.round(value).toLocaleString('en-US');
};
const line = (name, list) =>
  `| ${name} | ${med(list, 'seconds').toFixed(2)} | ${rate(list)} | ${list[0]?.cpuSeconds === undefined ? '—' : med(list, 'cpuSeconds').toFixed(1)} | ${list[0]?.peakRssMb === undefined ? '—' : Math.round(med(list, 'peakRssMb'))} |`;
console.log(
  `MongoDB source vs NDJSON, ${docs.toLocaleString('en-US')} documents (${(corpus.bytes / 1e6).toFixed(0)} MB NDJSON), page size ${pageSize}, medians of ${runs} run(s)`,
);
console.log(describeMachine(machineInfo(redisServerVersion())));
console.log('');
console.log('| measurement | seconds | docs/s | CPU s (job) | peak RSS MB (job) |');
console.log('|---|---:|---:|---:|---:|');
console.log(
  `| source only (MongoSource pages, raw BSON, ${med(results.sourceOnly, 'mbPerSecond').toFixed(0)} MB/s) | ${med(results.sourceOnly, 'seconds').toFixed(2)} | ${Math.round(med(results.sourceOnly, 'docsPerSecond')).toLocaleString('en-US')} | — | — |`,
);
console.log(line('full run from NDJSON', results.file));
console.log(line('full run from MongoDB (test server)', results.mongo));
const share = (delta, full) =>
  `${((100 * med(delta, 'seconds')) / med(full, 'seconds')).toFixed(1)}%`;
console.log(
  line(
    `1% delta from NDJSON (reads ${results.fileDelta[0]?.read} lines; ${share(results.fileDelta, results.file)} of full)`,
    results.fileDelta,
  ),
);
console.log(
  line(
    `1% delta from MongoDB (reads ${results.mongoDelta[0]?.read} documents; ${share(results.mongoDelta, results.mongo)} of full)`,
    results.mongoDelta,
  ),
);
