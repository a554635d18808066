// @ts-check
/**
 * Server side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802 / RFC 7677) as mongod runs them over
 * `saslStart`/`saslContinue` (and the `speculativeAuthenticate` field of the handshake). Users
 * are created with credentials for both mechanisms, like `createUser` does by default, with
 * mongod's iteration counts (10000 for SHA-1, 15000 for SHA-256). SCRAM-SHA-1 hashes the
 * MongoDB password digest md5("user:mongo:password"); SCRAM-SHA-256 the password itself after
 * SASLprep, approximated here by Unicode NFKC normalisation (exact for ASCII passwords).
 * Every failure, an unknown user included, is reported as mongod does: code 18,
 * `Authentication failed.`.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Binary } from 'bson';
import { CommandError } from './errors.mjs';

/** @typedef {'SCRAM-SHA-1' | 'SCRAM-SHA-256'} Mechanism */
/** @typedef {{ salt: Buffer, iterations: number, storedKey: Buffer, serverKey: Buffer }} Credential */
/**
 * @typedef {object} Conversation
 * @property {number} id
 * @property {string} db
 * @property {string} user
 * @property {Mechanism} mechanism
 * @property {string} gs2Header
 * @property {string} clientFirstBare
 * @property {string} serverFirst
 * @property {string} nonce
 * @property {boolean} skipEmptyExchange
 * @property {'proof' | 'final'} step
 */

const MECHANISMS = /** @type {const} */ ({
  'SCRAM-SHA-1': { hash: 'sha1', iterations: 10000, saltLength: 16, keyLength: 20 },
  'SCRAM-SHA-256': { hash: 'sha256', iterations: 15000, saltLength: 28, keyLength: 32 },
});

export function authenticationFailed() {
  return new CommandError(18, 'Authentication failed.');
}

/** @param {Mechanism} mechanism @param {string} user @param {string} password */
function makeCredential(mechanism, user, password) {
  const m = MECHANISMS[mechanism];
  const secret =
    mechanism === 'SCRAM-SHA-1'
      ? createHash('md5').update(`${user}:mongo:${password}`, 'utf8').digest('hex')
      : password.normalize('NFKC');
  const salt = randomBytes(m.saltLength);
  const salted = pbkdf2Sync(secret, salt, m.iterations, m.keyLength, m.hash);
  const clientKey = createHmac(m.hash, salted).update('Client Key').digest();
  return {
    salt,
    iterations: m.iterations,
    storedKey: createHash(m.hash).update(clientKey).digest(),
    serverKey: createHmac(m.hash, salted).update('Server Key').digest(),
  };
}

/** Text of a BSON binData payload. */
function payloadText(/** @type {unknown} */ payload) {
  if (payload instanceof Binary)
    return Buffer.from(payload.buffer.subarray(0, payload.position)).toString('utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload).toString('utf8');
  if (typeof payload === 'string') return payload;
  throw new CommandError(14, "BSON field 'payload' is the wrong type, expected type 'binData'");
}

/** `a=1,b=2` → { a: '1', b: '2' } (values may contain '='). */
function attributes(/** @type {string} */ text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export class ScramAuthenticator {
  /** @param {Array<{ user: string, password: string, db?: string }>} users */
  constructor(users) {
    /** @type {Map<string, Record<Mechanism, Credential>>} `db.user` → credentials */
    this.users = new Map();
    for (const { user, password, db = 'admin' } of users) {
      this.users.set(`${db}.${user}`, {
        'SCRAM-SHA-1': makeCredential('SCRAM-SHA-1', user, password),
        'SCRAM-SHA-256': makeCredential('SCRAM-SHA-256', user, password),
      });
    }
    this.nextConversationId = 1;
  }

  get enabled() {
    return this.users.size > 0;
  }

  /** The mechanisms `hello` lists for `saslSupportedMechs: "db.user"`, or null. */
  mechanismsFor(/** @type {string} */ dbUser) {
    return this.users.has(dbUser) ? ['SCRAM-SHA-1', 'SCRAM-SHA-256'] : null;
  }

  /**
   * Handles `saslStart`: returns the conversation and the server-first message.
   * @param {string} db
   * @param {Record<string, unknown>} cmd
   * @returns {{ conversation: Conversation, reply: Record<string, unknown> }}
   */
  start(db, cmd) {
    const mechanism = cmd.mechanism;
    if (mechanism !== 'SCRAM-SHA-1' && mechanism !== 'SCRAM-SHA-256') {
      throw new CommandError(
        334,
        `Received authentication for mechanism ${String(mechanism)} which is not enabled`,
      );
    }
    const text = payloadText(cmd.payload);
    const match = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/.exec(text);
    if (!match) throw authenticationFailed();
    const gs2Header = `${match[1]},${match[2] ?? ''},`;
    const clientFirstBare = /** @type {string} */ (match[3]);
    const attrs = attributes(clientFirstBare);
    const user = (attrs.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
    const clientNonce = attrs.r;
    const credential = this.users.get(`${db}.${user}`)?.[mechanism];
    if (!credential || !clientNonce) throw authenticationFailed();
    const nonce = clientNonce + randomBytes(24).toString('base64');
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    const options = /** @type {{ skipEmptyExchange?: unknown }} */ (cmd.options ?? {});
    /** @type {Conversation} */
    const conversation = {
      id: this.nextConversationId++,
      db,
      user,
      mechanism,
      gs2Header,
      clientFirstBare,
      serverFirst,
      nonce,
      skipEmptyExchange: options.skipEmptyExchange === true,
      step: 'proof',
    };
    return {
      conversation,
      reply: {
        conversationId: conversation.id,
        done: false,
        payload: new Binary(Buffer.from(serverFirst)),
        ok: 1,
      },
    };
  }

  /**
   * Handles `saslContinue`: verifies the client proof, then finishes the conversation.
   * @param {Conversation} conversation
   * @param {Record<string, unknown>} cmd
   * @returns {{ done: boolean, reply: Record<string, unknown> }}
   */
  continue(conversation, cmd) {
    if (conversation.step === 'final') {
      return { done: true, reply: this.reply(conversation, true, '') };
    }
    const text = payloadText(cmd.payload);
    const credential = this.users.get(`${conversation.db}.${conversation.user}`)?.[
      conversation.mechanism
    ];
    const proofAt = text.lastIndexOf(',p=');
    if (!credential || proofAt < 0) throw authenticationFailed();
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    if (
      attrs.r !== conversation.nonce ||
      attrs.c !== Buffer.from(conversation.gs2Header).toString('base64')
    ) {
      throw authenticationFailed();
    }
    const m = MECHANISMS[conversation.mechanism];
    const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${withoutProof}`;
    const clientSignature = createHmac(m.hash, credential.storedKey).update(authMessage).digest();
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (proof.length !== clientSignature.length) throw authenticationFailed();
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) {
      clientKey[i] = /** @type {number} */ (proof[i]) ^ /** @type {number} */ (clientSignature[i]);
    }
    const storedKey = createHash(m.hash).update(clientKey).digest();
    if (!timingSafeEqual(storedKey, credential.storedKey)) throw authenticationFailed();
    const serverSignature = createHmac(m.hash, credential.serverKey)
      .update(authMessage)
      .digest('base64');
    conversation.step = 'final';
    const done = conversation.skipEmptyExchange;
    return { done, reply: this.reply(conversation, done, `v=${serverSignature}`) };
  }

  /** @param {Conversation} conversation @param {boolean} done @param {string} payload */
  reply(conversation, done, payload) {
    return {
      conversationId: conversation.id,
      done,
      payload: new Binary(Buffer.from(payload)),
      ok: 1,
    };
  }
}
