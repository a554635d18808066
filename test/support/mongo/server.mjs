// @ts-check
/**
 * MongoTestServer: an in-process MongoDB server speaking the real wire protocol, for tests of
 * code that uses the official `mongodb` driver where no mongod can be installed. It answers as
 * a standalone mongod 7.0 (maxWireVersion 21) would for the commands listed in
 * commands-crud.mjs and commands-admin.mjs, keeps its data in memory, optionally requires
 * SCRAM authentication, and can inject faults (dropped connections, failed getMores,
 * not-primary errors). The public API is described in server.d.mts; the standalone
 * command line is cli.mjs.
 */
import { createServer } from 'node:net';
import { deserialize, Long, ObjectId } from 'bson';
import * as admin from './commands-admin.mjs';
import * as crud from './commands-crud.mjs';
import { CursorRegistry, RawReply } from './cursors.mjs';
import { CommandError } from './errors.mjs';
import { Faults } from './faults.mjs';
import * as handshake from './handshake.mjs';
import { isPlainObject } from './query.mjs';
import { ScramAuthenticator } from './scram.mjs';
import { Store, toBson, withId } from './store.mjs';
import * as wire from './wire.mjs';

/** @typedef {Record<string, unknown>} Doc */
/** @typedef {import('./args.mjs').CommandContext} CommandContext */

/** @type {Record<string, (cmd: Doc, ctx: CommandContext) => Doc | RawReply>} */
const HANDLERS = {
  find: crud.find,
  getMore: crud.getMore,
  killCursors: crud.killCursors,
  aggregate: crud.aggregate,
  count: crud.count,
  distinct: crud.distinct,
  insert: crud.insert,
  update: crud.update,
  delete: crud.remove,
  ping: admin.ping,
  buildInfo: admin.buildInfo,
  buildinfo: admin.buildInfo,
  getParameter: admin.getParameter,
  endSessions: admin.endSessions,
  listDatabases: admin.listDatabases,
  listCollections: admin.listCollections,
  create: admin.create,
  drop: admin.drop,
  dropDatabase: admin.dropDatabase,
  createIndexes: admin.createIndexes,
  listIndexes: admin.listIndexes,
  dropIndexes: admin.dropIndexes,
};

const HELLO_NAMES = new Set(['hello', 'isMaster', 'ismaster']);
/** Commands mongod runs for a client that has not authenticated (requiresAuth() == false). */
const NO_AUTH_NEEDED = new Set([
  ...HELLO_NAMES,
  'saslStart',
  'saslContinue',
  'ping',
  'buildInfo',
  'buildinfo',
  'connectionStatus',
]);

/** @typedef {import('./handshake.mjs').Connection} Connection */

export class MongoTestServer {
  /** @param {import('./server.d.mts').MongoTestServerOptions} [options] */
  constructor(options = {}) {
    this.options = options;
    this.store = new Store();
    this.faults = new Faults();
    this.auth = new ScramAuthenticator(options.users ?? []);
    this.cursors = new CursorRegistry();
    this.processId = new ObjectId();
    this.topologyCounter = 0;
    /** @type {Set<Connection>} */
    this.connections = new Set();
    this.nextConnectionId = 1;
    this.requestCounter = 0;
    /** @type {Record<string, number>} */
    this.commandCounts = {};
    this.documentsSent = 0;
    /** @type {import('node:net').Server | null} */
    this.server = null;
    this.boundPort = 0;
    this.host = options.host ?? '127.0.0.1';
  }

  get port() {
    if (this.server === null) throw new Error('MongoTestServer is not started');
    return this.boundPort;
  }

  get uri() {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `mongodb://${host}:${this.port}`;
  }

  get connectionCount() {
    return this.connections.size;
  }

  async start() {
    if (this.server) return this;
    const server = createServer((socket) => this.accept(socket));
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.host, () => resolve(undefined));
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    this.server = server;
    this.boundPort = address.port;
    this.log(`listening on ${this.host}:${this.boundPort}`);
    return this;
  }

  async stop() {
    const server = this.server;
    for (const conn of this.connections) this.closeConnection(conn, false);
    this.cursors.close();
    if (server) await new Promise((resolve) => server.close(() => resolve(undefined)));
  }

  /** @param {string} message */
  log(message) {
    this.options.log?.(message);
  }

  // --- data and counters -------------------------------------------------------------------

  /**
   * Inserts documents directly (an `_id` is added where missing). Throws on a duplicate key.
   * @param {string} db @param {string} collection @param {Doc[]} docs
   */
  seed(db, collection, docs) {
    const coll = /** @type {import('./store.mjs').Collection} */ (
      this.store.collection(db, collection, true)
    );
    for (const doc of docs) {
      // A round trip through BSON makes the values this server's own bson classes.
      const bson = toBson(withId(doc));
      coll.insert(deserialize(bson), bson);
    }
    return docs.length;
  }

  /** The stored documents of a collection, in natural order (empty if it does not exist). */
  documents(/** @type {string} */ db, /** @type {string} */ collection) {
    const coll = this.store.collection(db, collection);
    return coll ? Array.from(coll.records.values(), (r) => r.doc) : [];
  }

  resetCounters() {
    this.commandCounts = {};
    this.documentsSent = 0;
  }

  // --- faults ---------------------------------------------------------------------------------

  /** @param {number} n */
  dropConnectionAfterDocuments(n) {
    this.faults.armDrop(n);
  }

  failNextGetMore(code = 43) {
    this.faults.getMoreCode = code;
  }

  /** @param {number} [times] */
  notPrimary(times = 1) {
    this.faults.notPrimaryRemaining = times;
  }

  clearFaults() {
    this.faults.clear();
  }

  topologyVersion() {
    return { processId: this.processId, counter: Long.fromNumber(this.topologyCounter) };
  }

  /**
   * Plays a step-down followed at once by a re-election: the topology version moves twice (as
   * each state change moves it on a replica-set member) and waiting awaitable hellos answer
   * with the final state. Returns the version of the moment the node was not primary, which
   * the not-primary error carries; a driver that already knows the later one ignores the error
   * for monitoring, one that does not marks the server Unknown and rediscovers it at once.
   */
  stepDownAndUp() {
    this.topologyCounter += 1;
    const whileNotPrimary = this.topologyVersion();
    this.topologyCounter += 1;
    for (const conn of this.connections) conn.pendingHello?.fire();
    return whileNotPrimary;
  }

  // --- connections ----------------------------------------------------------------------------

  /** @param {import('node:net').Socket} socket */
  accept(socket) {
    /** @type {Connection} */
    const conn = {
      id: this.nextConnectionId++,
      socket,
      reader: new wire.MessageReader(handshake.MAX_MESSAGE_SIZE_BYTES),
      user: null,
      conversation: null,
      pendingHello: null,
      closed: false,
    };
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      conn.reader.push(chunk);
      try {
        for (let msg = conn.reader.next(); msg && !conn.closed; msg = conn.reader.next()) {
          this.handleMessage(conn, msg);
        }
      } catch (err) {
        this.log(
          `connection ${conn.id}: protocol error: ${err instanceof Error ? err.message : err}`,
        );
        this.closeConnection(conn, true);
      }
    });
    socket.on('error', () => this.closeConnection(conn, false));
    socket.on('close', () => this.closeConnection(conn, false));
  }

  /** @param {Connection} conn @param {boolean} abrupt reset instead of a clean close */
  closeConnection(conn, abrupt) {
    if (!conn.closed) {
      conn.closed = true;
      if (conn.pendingHello) clearTimeout(conn.pendingHello.timer);
      conn.pendingHello = null;
      this.connections.delete(conn);
    }
    if (abrupt && typeof conn.socket.resetAndDestroy === 'function') conn.socket.resetAndDestroy();
    else conn.socket.destroy();
  }

  /**
   * Writes a reply; a cursor reply may instead trip the armed connection-drop fault.
   * @param {Connection} conn
   * @param {{ opQuery: boolean, responseTo: number, flags?: number }} to
   * @param {Doc | RawReply} reply
   */
  send(conn, to, reply) {
    if (conn.closed) return;
    let body;
    let documents = 0;
    if (reply instanceof RawReply) {
      body = reply.body;
      documents = reply.documents;
      if (this.faults.shouldDrop(documents)) {
        this.log(`connection ${conn.id}: dropped by fault injection`);
        this.closeConnection(conn, true);
        return;
      }
    } else {
      body = toBson(reply);
    }
    this.documentsSent += documents;
    this.requestCounter = (this.requestCounter + 1) & 0x7fffffff;
    const [header, payload] = to.opQuery
      ? wire.encodeOpReply(this.requestCounter, to.responseTo, body)
      : wire.encodeOpMsg(this.requestCounter, to.responseTo, body, to.flags ?? 0);
    conn.socket.cork();
    conn.socket.write(header);
    conn.socket.write(payload);
    conn.socket.uncork();
    return this.requestCounter;
  }

  /** @param {Connection} conn @param {Buffer} message */
  handleMessage(conn, message) {
    const header = wire.readHeader(message);
    if (header.opCode === wire.OP_MSG) {
      const msg = wire.parseOpMsg(message);
      const cmd = deserialize(msg.body);
      const to = { opQuery: false, responseTo: header.requestId };
      const reply = this.runCommand(conn, cmd, msg.sequences, to, msg.flags);
      if (reply !== null && !(msg.flags & wire.MSG_MORE_TO_COME)) this.send(conn, to, reply);
      return;
    }
    if (header.opCode === wire.OP_QUERY) {
      const query = wire.parseOpQuery(message);
      let cmd = deserialize(query.query);
      if (isPlainObject(cmd.$query)) cmd = /** @type {Doc} */ (cmd.$query);
      const to = { opQuery: true, responseTo: header.requestId };
      const name = Object.keys(cmd)[0] ?? '';
      if (!query.collection.endsWith('.$cmd') || !HELLO_NAMES.has(name)) {
        const err = new CommandError(
          352,
          `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal`,
        );
        this.send(conn, to, err.toReply());
        return;
      }
      cmd.$db = query.collection.slice(0, -'.$cmd'.length);
      const reply = this.runCommand(conn, cmd, new Map(), to, 0);
      if (reply !== null) this.send(conn, to, reply);
      return;
    }
    throw new Error(`unsupported opcode ${header.opCode}`);
  }

  /**
   * Runs one command; null when the reply is sent later (an awaitable hello).
   * @param {Connection} conn
   * @param {Doc} cmd
   * @param {Map<string, Buffer[]>} sequences
   * @param {{ opQuery: boolean, responseTo: number }} to
   * @param {number} flags OP_MSG flag bits of the request
   * @returns {Doc | RawReply | null}
   */
  runCommand(conn, cmd, sequences, to, flags) {
    const name = Object.keys(cmd)[0] ?? '';
    this.commandCounts[name] = (this.commandCounts[name] ?? 0) + 1;
    if (this.options.verbose) this.log(`connection ${conn.id}: ${name}`);
    try {
      const db = cmd.$db;
      if (typeof db !== 'string')
        throw new CommandError(40571, 'OP_MSG requests require a $db argument');
      const known =
        HELLO_NAMES.has(name) ||
        Object.hasOwn(HANDLERS, name) ||
        name === 'saslStart' ||
        name === 'saslContinue' ||
        name === 'connectionStatus';
      if (!known) throw new CommandError(59, `no such command: '${name}'`);
      if (this.auth.enabled && conn.user === null && !NO_AUTH_NEEDED.has(name)) {
        throw new CommandError(13, `Command ${name} requires authentication`);
      }
      if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined) {
        throw new CommandError(
          20,
          'Transaction numbers are only allowed on a replica set member or mongos',
        );
      }
      if (HELLO_NAMES.has(name)) {
        return handshake.hello(this, conn, cmd, db, name !== 'hello', to, flags);
      }
      if (name === 'saslStart') return handshake.saslStart(this, conn, cmd, db);
      if (name === 'saslContinue') return handshake.saslContinue(this, conn, cmd);
      if (name === 'connectionStatus') return handshake.connectionStatus(conn);
      crud.mergeSequences(cmd, sequences);
      /** @type {CommandContext} */
      const ctx = {
        store: this.store,
        cursors: this.cursors,
        faults: this.faults,
        db,
        sequences,
        stepDownAndUp: () => this.stepDownAndUp(),
      };
      return /** @type {(cmd: Doc, ctx: CommandContext) => Doc | RawReply} */ (HANDLERS[name])(
        cmd,
        ctx,
      );
    } catch (err) {
      if (err instanceof CommandError) return err.toReply();
      this.log(`connection ${conn.id}: ${name} failed: ${err instanceof Error ? err.stack : err}`);
      return new CommandError(1, err instanceof Error ? err.message : String(err)).toReply();
    }
  }
}
