// @ts-check
/**
 * The connection handshake and authentication of the MongoDB test server: `hello`/`isMaster`
 * (including the awaitable form the driver's streaming monitor uses: it waits up to
 * maxAwaitTimeMS for a topology change and, with exhaustAllowed, keeps answering with the
 * moreToCome flag), SCRAM `saslStart`/`saslContinue` and the speculative authentication
 * carried by the first hello, and `connectionStatus`.
 */
import { CommandError } from './errors.mjs';
import { isPlainObject } from './query.mjs';
import * as wire from './wire.mjs';

/** @typedef {Record<string, unknown>} Doc */

/**
 * One client connection.
 * @typedef {object} Connection
 * @property {number} id
 * @property {import('node:net').Socket} socket
 * @property {wire.MessageReader} reader
 * @property {string | null} user `db.user` once authenticated
 * @property {import('./scram.mjs').Conversation | null} conversation
 * @property {{ timer: NodeJS.Timeout, fire: () => void } | null} pendingHello
 * @property {boolean} closed
 */

/**
 * What the handshake needs of the server (server.mjs).
 * @typedef {object} HandshakeServer
 * @property {import('./scram.mjs').ScramAuthenticator} auth
 * @property {import('bson').ObjectId} processId
 * @property {number} topologyCounter
 * @property {() => Doc} topologyVersion
 * @property {(message: string) => void} log
 * @property {(conn: Connection, to: { opQuery: boolean, responseTo: number, flags?: number },
 *   reply: Doc) => number | undefined} send writes a reply, returns its requestId
 */

export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;
export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
export const MAX_WRITE_BATCH_SIZE = 100_000;
export const MAX_WIRE_VERSION = 21;

/**
 * @param {HandshakeServer} server
 * @param {Connection} conn @param {Doc} cmd @param {string} db
 * @param {boolean} legacy answered as isMaster (`ismaster: true`) rather than hello
 */
export function helloReply(server, conn, cmd, db, legacy) {
  /** @type {Doc} */
  const reply = legacy ? { ismaster: true } : { isWritablePrimary: true };
  if (cmd.helloOk === true) reply.helloOk = true;
  Object.assign(reply, {
    topologyVersion: server.topologyVersion(),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: conn.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  });
  if (typeof cmd.saslSupportedMechs === 'string') {
    const mechanisms = server.auth.mechanismsFor(cmd.saslSupportedMechs);
    if (mechanisms) reply.saslSupportedMechs = mechanisms;
  }
  const speculative = cmd.speculativeAuthenticate;
  if (isPlainObject(speculative)) {
    const spec = /** @type {Doc} */ (speculative);
    try {
      const started = server.auth.start(typeof spec.db === 'string' ? spec.db : db, spec);
      conn.conversation = started.conversation;
      const { ok: _ok, ...first } = started.reply;
      reply.speculativeAuthenticate = first;
    } catch {
      // A failed speculative start is silent: the client falls back to saslStart.
    }
  }
  reply.ok = 1;
  return reply;
}

/**
 * `hello`, awaiting a topology change for up to maxAwaitTimeMS when the client asks (the
 * streaming monitor protocol); with exhaustAllowed the replies keep coming (moreToCome).
 * @param {HandshakeServer} server
 * @param {Connection} conn @param {Doc} cmd @param {string} db @param {boolean} legacy
 * @param {{ opQuery: boolean, responseTo: number }} to @param {number} flags
 */
export function hello(server, conn, cmd, db, legacy, to, flags) {
  const tv = /** @type {{ processId?: unknown, counter?: unknown } | undefined} */ (
    cmd.topologyVersion
  );
  const maxAwait = Number(cmd.maxAwaitTimeMS);
  const awaitable = isPlainObject(tv) && Number.isFinite(maxAwait) && !to.opQuery;
  if (!awaitable) return helloReply(server, conn, cmd, db, legacy);
  const exhaust = (flags & wire.MSG_EXHAUST_ALLOWED) !== 0;
  let responseTo = to.responseTo;
  let known = tv;
  const fire = () => {
    if (conn.pendingHello) clearTimeout(conn.pendingHello.timer);
    conn.pendingHello = null;
    const reply = helloReply(server, conn, cmd, db, legacy);
    const sent = server.send(
      conn,
      { opQuery: false, responseTo, flags: exhaust ? wire.MSG_MORE_TO_COME : 0 },
      reply,
    );
    if (exhaust && sent !== undefined) {
      responseTo = sent;
      known = server.topologyVersion();
      wait();
    }
  };
  const wait = () => {
    const current =
      String(known?.processId) === String(server.processId) &&
      Number(known?.counter) === server.topologyCounter;
    if (!current) {
      setImmediate(fire);
      return;
    }
    conn.pendingHello = { timer: setTimeout(fire, Math.max(0, maxAwait)), fire };
  };
  wait();
  return null;
}

/** @param {HandshakeServer} server @param {Connection} conn @param {Doc} cmd @param {string} db */
export function saslStart(server, conn, cmd, db) {
  conn.conversation = null;
  const { conversation, reply } = server.auth.start(db, cmd);
  conn.conversation = conversation;
  return reply;
}

/** @param {HandshakeServer} server @param {Connection} conn @param {Doc} cmd */
export function saslContinue(server, conn, cmd) {
  const conversation = conn.conversation;
  if (!conversation || Number(cmd.conversationId) !== conversation.id) {
    throw new CommandError(17, 'No SASL session state found');
  }
  try {
    const { done, reply } = server.auth.continue(conversation, cmd);
    conn.user = `${conversation.db}.${conversation.user}`;
    if (done) conn.conversation = null;
    return reply;
  } catch (err) {
    conn.conversation = null;
    server.log(`connection ${conn.id}: authentication of ${conversation.user} failed`);
    throw err;
  }
}

/** @param {Connection} conn */
export function connectionStatus(conn) {
  const users = conn.user === null ? [] : [conn.user];
  return {
    authInfo: {
      authenticatedUsers: users.map((u) => {
        const dot = u.indexOf('.');
        return { user: u.slice(dot + 1), db: u.slice(0, dot) };
      }),
      authenticatedUserRoles: users.length > 0 ? [{ role: 'root', db: 'admin' }] : [],
    },
    ok: 1,
  };
}
