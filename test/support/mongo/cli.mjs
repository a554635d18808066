#!/usr/bin/env node
// @ts-check
/**
 * Runs the MongoDB test server in the foreground (`npm run mongo:test-server -- ...`) until
 * SIGINT or SIGTERM. Prints one line on stdout, the server URI (`mongodb://127.0.0.1:<port>`),
 * once it accepts connections; everything else goes to stderr.
 *
 *   --port N                 TCP port (default 27017; 0 picks a free one)
 *   --host ADDR              address to listen on (default 127.0.0.1)
 *   --user NAME:PASSWORD     require SCRAM authentication as this user (authSource admin);
 *                            repeatable
 *   --seed-file FILE         load NDJSON documents (Extended JSON accepted) before listening
 *   --db DB                  database of the seeded documents (default corpus)
 *   --collection C           collection of the seeded documents (default documents)
 *   --date-fields A,B        top-level or dotted fields whose ISO-8601 strings become dates
 *                            (default updatedAt,deletedAt, the corpus defaults)
 *   --verbose                log every command on stderr
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { EJSON } from 'bson';
import { MongoTestServer } from './server.mjs';

const USAGE =
  'usage: mongo-test-server [--port N] [--host ADDR] [--user NAME:PASSWORD]... ' +
  '[--seed-file FILE [--db DB] [--collection C] [--date-fields A,B]] [--verbose]';

/** @param {string} message */
function log(message) {
  process.stderr.write(`mongo-test-server: ${message}\n`);
}

/** @param {string} message @returns {never} */
function usage(message) {
  process.stderr.write(`mongo-test-server: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/**
 * Replaces an ISO-8601 string at `path` by a Date; false if the string is not a date.
 * @param {Record<string, unknown>} doc
 * @param {string[]} path
 */
function convertDate(doc, path) {
  /** @type {any} */
  let cur = doc;
  for (const part of path.slice(0, -1)) {
    cur = cur?.[part];
    if (cur === null || typeof cur !== 'object') return true;
  }
  const last = /** @type {string} */ (path[path.length - 1]);
  const value = cur[last];
  if (typeof value !== 'string') return true;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) return false;
  cur[last] = new Date(ms);
  return true;
}

/**
 * @param {MongoTestServer} server
 * @param {{ file: string, db: string, collection: string, dateFields: string[][] }} seed
 */
async function loadSeed(server, seed) {
  const lines = createInterface({
    input: createReadStream(seed.file),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  /** @type {Record<string, unknown>[]} */
  let batch = [];
  let loaded = 0;
  let skipped = 0;
  let notDates = 0;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let doc;
    try {
      doc = EJSON.parse(line, { relaxed: true });
    } catch (err) {
      skipped += 1;
      if (skipped <= 5)
        log(`${seed.file}:${lineNo}: skipped: ${err instanceof Error ? err.message : err}`);
      continue;
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      skipped += 1;
      continue;
    }
    for (const path of seed.dateFields) if (!convertDate(doc, path)) notDates += 1;
    batch.push(doc);
    if (batch.length >= 10_000) {
      loaded += seedBatch(server, seed, batch, lineNo);
      batch = [];
    }
  }
  loaded += seedBatch(server, seed, batch, lineNo);
  log(
    `seeded ${loaded} documents into ${seed.db}.${seed.collection}` +
      (skipped > 0 ? `, skipped ${skipped} lines that are not JSON objects` : '') +
      (notDates > 0
        ? `, left ${notDates} date-field values that are not ISO dates as strings`
        : ''),
  );
}

/**
 * @param {MongoTestServer} server
 * @param {{ db: string, collection: string }} seed
 * @param {Record<string, unknown>[]} batch
 * @param {number} lineNo
 */
function seedBatch(server, seed, batch, lineNo) {
  let n = 0;
  for (const doc of batch) {
    try {
      n += server.seed(seed.db, seed.collection, [doc]);
    } catch (err) {
      log(`near line ${lineNo}: skipped: ${err instanceof Error ? err.message : err}`);
    }
  }
  return n;
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string', default: '27017' },
        host: { type: 'string', default: '127.0.0.1' },
        user: { type: 'string', multiple: true },
        'seed-file': { type: 'string' },
        db: { type: 'string', default: 'corpus' },
        collection: { type: 'string', default: 'documents' },
        'date-fields': { type: 'string', default: 'updatedAt,deletedAt' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`invalid --port ${values.port}`);
  const users = (values.user ?? []).map((spec) => {
    const colon = spec.indexOf(':');
    if (colon <= 0 || colon === spec.length - 1)
      usage(`--user must be NAME:PASSWORD, got '${spec}'`);
    return { user: spec.slice(0, colon), password: spec.slice(colon + 1) };
  });
  const server = new MongoTestServer({
    port,
    host: values.host,
    users,
    log,
    verbose: values.verbose,
  });
  const seedFile = values['seed-file'];
  if (seedFile) {
    const dateFields = (values['date-fields'] ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '')
      .map((f) => f.split('.'));
    await loadSeed(server, {
      file: seedFile,
      db: values.db ?? 'corpus',
      collection: values.collection ?? 'documents',
      dateFields,
    });
  }
  await server.start();
  if (users.length > 0)
    log(`authentication required (users: ${users.map((u) => u.user).join(', ')})`);
  process.stdout.write(`${server.uri}\n`);
  const shutdown = (/** @type {string} */ signal) => {
    log(`${signal}: stopping`);
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
