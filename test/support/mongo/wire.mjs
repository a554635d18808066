// @ts-check
/**
 * The MongoDB wire protocol, server side: framing of the byte stream into messages, parsing of
 * OP_MSG (opcode 2013: one kind-0 body section plus kind-1 document sequences, optional CRC-32C
 * checksum) and of the legacy OP_QUERY (opcode 2004) that drivers still use for the first
 * `hello`/`isMaster` of a connection, and encoding of the replies: OP_MSG for OP_MSG requests,
 * OP_REPLY (opcode 1) for OP_QUERY ones.
 *
 * Cursor replies are assembled here byte by byte from already-serialised documents, so a
 * document stored as BSON goes back to the client exactly as it was written, without a decode
 * and re-encode of the whole batch.
 */

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MSG_CHECKSUM_PRESENT = 1;
export const MSG_MORE_TO_COME = 2;
export const MSG_EXHAUST_ALLOWED = 1 << 16;

/** Splits a TCP byte stream into whole wire-protocol messages. */
export class MessageReader {
  /** @param {number} maxMessageSize messages larger than this are a protocol error */
  constructor(maxMessageSize) {
    this.maxMessageSize = maxMessageSize;
    /** @type {Buffer[]} */
    this.chunks = [];
    this.length = 0;
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next complete message, or null until more bytes arrive. Throws on a bad length. */
  next() {
    if (this.length < 4) return null;
    let first = /** @type {Buffer} */ (this.chunks[0]);
    if (first.length < 4) {
      first = Buffer.concat(this.chunks, this.length);
      this.chunks = [first];
    }
    const size = first.readInt32LE(0);
    if (size < 16 || size > this.maxMessageSize) {
      throw new Error(`invalid message length ${size}`);
    }
    if (this.length < size) return null;
    if (first.length < size) {
      first = Buffer.concat(this.chunks, this.length);
      this.chunks = [first];
    }
    const message = first.subarray(0, size);
    const rest = first.subarray(size);
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    this.length -= size;
    return message;
  }
}

/**
 * @typedef {object} MessageHeader
 * @property {number} length
 * @property {number} requestId
 * @property {number} responseTo
 * @property {number} opCode
 */

/** @param {Buffer} message @returns {MessageHeader} */
export function readHeader(message) {
  return {
    length: message.readInt32LE(0),
    requestId: message.readInt32LE(4),
    responseTo: message.readInt32LE(8),
    opCode: message.readInt32LE(12),
  };
}

/** @param {Buffer} buf @param {number} offset */
function readCString(buf, offset) {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new Error('unterminated cstring');
  return { value: buf.toString('utf8', offset, end), next: end + 1 };
}

/** @param {Buffer} buf @param {number} offset */
function documentAt(buf, offset) {
  if (offset + 5 > buf.length) throw new Error('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new Error('invalid BSON document length');
  return buf.subarray(offset, offset + size);
}

/**
 * @typedef {object} ParsedMsg
 * @property {number} flags
 * @property {Buffer} body the kind-0 section
 * @property {Map<string, Buffer[]>} sequences kind-1 sections: identifier → documents
 */

/** @param {Buffer} message a whole OP_MSG @returns {ParsedMsg} */
export function parseOpMsg(message) {
  const flags = message.readUInt32LE(16);
  // The checksum, when present, is the last 4 bytes; it is not verified.
  const end = flags & MSG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  /** @type {Buffer | null} */
  let body = null;
  /** @type {Map<string, Buffer[]>} */
  const sequences = new Map();
  let offset = 20;
  while (offset < end) {
    const kind = message[offset];
    offset += 1;
    if (kind === 0) {
      if (body) throw new Error('OP_MSG has more than one kind-0 section');
      body = documentAt(message, offset);
      offset += body.length;
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new Error('invalid document sequence length');
      const id = readCString(message, offset + 4);
      /** @type {Buffer[]} */
      const docs = [];
      let p = id.next;
      while (p < sectionEnd) {
        const doc = documentAt(message, p);
        docs.push(doc);
        p += doc.length;
      }
      const list = sequences.get(id.value);
      if (list) list.push(...docs);
      else sequences.set(id.value, docs);
      offset = sectionEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new Error('OP_MSG without a kind-0 section');
  return { flags, body, sequences };
}

/**
 * @typedef {object} ParsedQuery
 * @property {number} flags
 * @property {string} collection full collection name, e.g. `admin.$cmd`
 * @property {number} numberToSkip
 * @property {number} numberToReturn
 * @property {Buffer} query
 */

/** @param {Buffer} message a whole OP_QUERY @returns {ParsedQuery} */
export function parseOpQuery(message) {
  const flags = message.readInt32LE(16);
  const name = readCString(message, 20);
  const numberToSkip = message.readInt32LE(name.next);
  const numberToReturn = message.readInt32LE(name.next + 4);
  const query = documentAt(message, name.next + 8);
  return { flags, collection: name.value, numberToSkip, numberToReturn, query };
}

/**
 * Encodes an OP_MSG reply with a single kind-0 section, as header and body buffers (written
 * with writev, so a 16 MB body is not copied).
 * @param {number} requestId
 * @param {number} responseTo
 * @param {Buffer} body
 * @param {number} [flags]
 * @returns {[Buffer, Buffer]}
 */
export function encodeOpMsg(requestId, responseTo, body, flags = 0) {
  const header = Buffer.allocUnsafe(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(flags, 16);
  header[20] = 0;
  return [header, body];
}

/**
 * Encodes an OP_REPLY carrying one document (the answer to an OP_QUERY command).
 * @param {number} requestId
 * @param {number} responseTo
 * @param {Buffer} doc
 * @returns {[Buffer, Buffer]}
 */
export function encodeOpReply(requestId, responseTo, doc) {
  const header = Buffer.alloc(36);
  header.writeInt32LE(36 + doc.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_REPLY, 12);
  // responseFlags 0, cursorID 0 (8 bytes), startingFrom 0, numberReturned 1.
  header.writeInt32LE(1, 32);
  return [header, doc];
}

/**
 * Builds the BSON of a cursor reply, `{ cursor: { <batchField>: [...], id, ns }, ok: 1 }`,
 * around documents that are already BSON.
 * @param {'firstBatch' | 'nextBatch'} batchField
 * @param {Buffer[]} docs
 * @param {bigint} cursorId
 * @param {string} ns
 */
export function encodeCursorReply(batchField, docs, cursorId, ns) {
  // Array: int32 length, elements (0x03 + index cstring + doc), 0x00.
  let arraySize = 5;
  for (let i = 0; i < docs.length; i++) {
    arraySize += 2 + String(i).length + /** @type {Buffer} */ (docs[i]).length;
  }
  const nsBytes = Buffer.byteLength(ns);
  const cursorSize =
    4 + (2 + batchField.length + arraySize) + (1 + 3 + 8) + (1 + 3 + 4 + nsBytes + 1) + 1;
  const total = 4 + (1 + 7 + cursorSize) + (1 + 3 + 8) + 1;
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  p = out.writeInt32LE(total, p);
  out[p++] = 0x03;
  p += out.write('cursor\0', p, 'latin1');
  p = out.writeInt32LE(cursorSize, p);
  out[p++] = 0x04;
  p += out.write(`${batchField}\0`, p, 'latin1');
  p = out.writeInt32LE(arraySize, p);
  for (let i = 0; i < docs.length; i++) {
    const doc = /** @type {Buffer} */ (docs[i]);
    out[p++] = 0x03;
    p += out.write(`${i}\0`, p, 'latin1');
    p += doc.copy(out, p);
  }
  out[p++] = 0;
  out[p++] = 0x12;
  p += out.write('id\0', p, 'latin1');
  p = out.writeBigInt64LE(cursorId, p);
  out[p++] = 0x02;
  p += out.write('ns\0', p, 'latin1');
  p = out.writeInt32LE(nsBytes + 1, p);
  p += out.write(ns, p, 'utf8');
  out[p++] = 0;
  out[p++] = 0; // end of cursor
  out[p++] = 0x01;
  p += out.write('ok\0', p, 'latin1');
  p = out.writeDoubleLE(1, p);
  out[p++] = 0; // end of reply
  if (p !== total) throw new Error(`cursor reply size mismatch: ${p} != ${total}`);
  return out;
}
