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
//   2. a full run (`run --full`, real state, real redis-server) from the NDJSON file;
//   3. the same full run from MongoDB.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { rssMethod, runCli } from './lib/cli-run.mjs';
import { ensureCorpus, lastUpdatedAt } from './lib/corpus.mjs';
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
const until = new Date(lastUpdatedAt(corpus.path) + 1).toISOString();
const work = mkdtempSync(join(os.tmpdir(), 'stopword-bench-mongo-'));
const redis = await startRedis(work);
const port = await freePort();
log(`loading ${docs} documents into the test server on port ${port} …`);
const server = spawn(
  process.execPath,
  [
    join(root, 'test/support/mongo/cli.mjs'),
    '--port',
    String(port),
    '--seed-file',
    corpus.path,
    '--db',
    'bench',
    '--collection',
    'documents',
    '--date-fields',
    'updatedAt,deletedAt',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise((resolve, reject) => {
  server.stdout.once('data', resolve);
  server.once('exit', (code) => reject(new Error(`test server exited ${code}`)));
});
const uri = `mongodb://127.0.0.1:${port}/bench`;
const admin = await new MongoClient(uri).connect();
await admin.db('bench').collection('documents').createIndex({ updatedAt: 1, _id: 1 });
await admin.close();

const { MongoSource } = await import(join(root, 'dist/corpus/mongo-source.js'));
const fields = {
  id: '_id',
  lang: 'lang',
  text: ['text'],
  updatedAt: 'updatedAt',
  deleted: 'deletedAt',
};
const method = rssMethod(undefined);
const results = { sourceOnly: [], file: [], mongo: [] };
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
      const measured = await runCli({
        root,
        method,
        args: [
          '--full',
          '--source',
          kind === 'file' ? `file:${corpus.path}` : uri,
          '--redis',
          redis.url,
          '--state-dir',
          stateDir,
          '--until',
          until,
        ],
        env: {
          ...process.env,
          STOPWORD_REFRESH_REDIS_KEY_PREFIX: `bench-${kind}`,
          STOPWORD_REFRESH_SOURCE_BATCH_SIZE: String(pageSize),
          STOPWORD_REFRESH_GUARDRAILS_MAX_CHURN_RATIO: '1',
          STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
        },
      });
      rmSync(stateDir, { recursive: true, force: true });
      if (measured.exitCode !== 0) throw new Error(`${kind} run failed: ${measured.stderrTail}`);
      const counted = measured.result?.documents?.counted ?? 0;
      results[kind].push({
        seconds: measured.wallSeconds,
        cpuSeconds: measured.cpuSeconds,
        docsPerSecond: counted / measured.wallSeconds,
        peakRssMb: measured.peakRssBytes === null ? null : measured.peakRssBytes / 2 ** 20,
      });
      log(`${kind}: ${counted} documents in ${measured.wallSeconds.toFixed(2)} s`);
    }
  }
} finally {
  server.kill('SIGTERM');
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}

const med = (list, key) => median(list.map((r) => r[key]).filter((v) => v !== null));
const line = (name, list) =>
  `| ${name} | ${med(list, 'seconds').toFixed(2)} | ${Math.round(med(list, 'docsPerSecond')).toLocaleString('en-US')} | ${list[0]?.cpuSeconds === undefined ? '—' : med(list, 'cpuSeconds').toFixed(1)} | ${list[0]?.peakRssMb === undefined ? '—' : Math.round(med(list, 'peakRssMb'))} |`;
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
