/**
 * Types of the MongoDB test server (server.mjs): an in-process server that speaks the MongoDB
 * wire protocol and answers like a standalone mongod 7.0, for tests that use the official
 * driver. See README.md in this directory for what it supports.
 */
import type { Document } from 'bson';

export interface MongoTestUser {
  user: string;
  password: string;
  /** Authentication database (`authSource`); default `admin`. */
  db?: string;
}

export interface MongoTestServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** With users, every command but the handshake, SASL, ping and buildInfo needs SCRAM auth. */
  users?: MongoTestUser[];
  /** Receives one line per server event (listening, protocol errors, auth failures...). */
  log?: (message: string) => void;
  /** Also log every command received. */
  verbose?: boolean;
}

export declare class MongoTestServer {
  constructor(options?: MongoTestServerOptions);

  /** Starts listening; resolves to the server itself. */
  start(): Promise<this>;
  /** Closes every connection, forgets all cursors and stops listening (data is kept). */
  stop(): Promise<void>;

  /** The bound port (throws before start()). */
  readonly port: number;
  readonly host: string;
  /** `mongodb://127.0.0.1:<port>`: append `/db` and options, or credentials, as needed. */
  readonly uri: string;
  /** Connections currently open. */
  readonly connectionCount: number;

  /** Inserts documents directly (adding `_id` where missing); returns how many. */
  seed(db: string, collection: string, docs: Document[]): number;
  /** The stored documents of a collection in natural order (live objects: do not modify). */
  documents(db: string, collection: string): Document[];

  /** Commands received, by command name (every command, failed ones included). */
  readonly commandCounts: Readonly<Record<string, number>>;
  /** Documents sent in cursor batches (find, getMore, aggregate, list*). */
  readonly documentsSent: number;
  resetCounters(): void;

  /**
   * Arms a connection drop: the first cursor reply that would bring the documents sent since
   * this call above `n` is not sent; its connection is reset instead (once). The driver reports
   * a MongoNetworkError for that command.
   */
  dropConnectionAfterDocuments(n: number): void;
  /**
   * The next getMore fails once with `code` (default 43 CursorNotFound, errmsg
   * `cursor id <id> not found`); its cursor is killed, as a real server does on a getMore error.
   */
  failNextGetMore(code?: number): void;
  /**
   * The next `times` find/aggregate commands fail with 13435 NotPrimaryNoSecondaryOk
   * (`not primary and secondaryOk=false`, what mongod answers a primary-only read on a node that
   * is not primary), carrying a bumped topologyVersion like a node that just stepped down. The
   * driver retries a failed read once (retryReads), so `times: 2` reaches the caller.
   */
  notPrimary(times?: number): void;
  clearFaults(): void;
}
