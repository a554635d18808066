/**
 * The MongoDB the tests read from: the in-repo wire-protocol test server by default, or a real
 * server when TEST_MONGODB_URI is set (each test then uses its own database, dropped afterwards).
 */
import { readFile } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { MongoTestServer, type MongoTestUser } from './mongo/server.mjs';

export const REAL_MONGODB_URI = process.env['TEST_MONGODB_URI'];
/** Fault injection and server-side users exist only on the test server. */
export const ON_TEST_SERVER = REAL_MONGODB_URI === undefined || REAL_MONGODB_URI === '';

export interface MongoTarget {
  /** The test server, or null against a real server. */
  readonly server: MongoTestServer | null;
  /** A connection string naming `database`, optionally with other credentials. */
  uri(database: string, credentials?: { user: string; password: string }): string;
  readonly client: MongoClient;
  /** Drops the databases handed out and stops the server. */
  stop(): Promise<void>;
  /** A database name unique to this test run. */
  database(name: string): string;
}

export async function startMongo(options: { users?: MongoTestUser[] } = {}): Promise<MongoTarget> {
  const server = ON_TEST_SERVER ? await new MongoTestServer(options).start() : null;
  const base = server?.uri ?? (REAL_MONGODB_URI as string);
  const adminUser = options.users?.[0];
  const clientUri =
    adminUser === undefined
      ? withDatabase(base, 'admin')
      : withDatabase(withCredentials(base, adminUser.user, adminUser.password), 'admin');
  const client = await new MongoClient(clientUri, { serverSelectionTimeoutMS: 5000 }).connect();
  const databases: string[] = [];
  const runTag = Math.random().toString(36).slice(2, 8);
  return {
    server,
    client,
    uri(database, credentials) {
      const withUser =
        credentials === undefined
          ? base
          : withCredentials(base, credentials.user, credentials.password);
      return withDatabase(withUser, database);
    },
    database(name) {
      const database = `swr_${name}_${runTag}`;
      databases.push(database);
      return database;
    },
    async stop() {
      if (!ON_TEST_SERVER) {
        for (const database of databases)
          await client
            .db(database)
            .dropDatabase()
            .catch(() => undefined);
      }
      await client.close();
      await server?.stop();
    },
  };
}

/** `mongodb://[creds@]hosts/DB?options` from a base string with or without a path. */
export function withDatabase(uri: string, database: string): string {
  const [head = '', query] = uri.split('?', 2);
  const schemeEnd = head.indexOf('://') + 3;
  const slash = head.indexOf('/', schemeEnd);
  const hosts = slash === -1 ? head : head.slice(0, slash);
  return `${hosts}/${database}${query === undefined ? '' : `?${query}`}`;
}

function withCredentials(uri: string, user: string, password: string): string {
  const schemeEnd = uri.indexOf('://') + 3;
  const rest = uri.slice(schemeEnd);
  const at = rest.indexOf('@');
  const hosts = at === -1 ? rest : rest.slice(at + 1);
  const auth = `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  return `${uri.slice(0, schemeEnd)}${auth}${hosts}`;
}

/** Reads an NDJSON corpus and turns its timestamps into dates, as a real collection holds them. */
export async function readCorpusForMongo(path: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => toMongoDocument(JSON.parse(line) as Record<string, unknown>));
}

export function toMongoDocument(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const field of ['updatedAt', 'deletedAt']) {
    const value = out[field];
    if (typeof value === 'string') out[field] = new Date(value);
  }
  return out;
}

/** Inserts documents in batches, the way a loader would. */
export async function insertAll(
  client: MongoClient,
  database: string,
  collection: string,
  docs: ReadonlyArray<Record<string, unknown>>,
): Promise<void> {
  const target = client.db(database).collection(collection);
  for (let i = 0; i < docs.length; i += 5000) {
    await target.insertMany(
      docs.slice(i, i + 5000).map((d) => ({ ...d })),
      { ordered: true },
    );
  }
}
