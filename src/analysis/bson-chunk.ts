/**
 * Splits a chunk of raw BSON documents, as the MongoDB source hands them over (each document is
 * its own length-prefixed BSON object, back to back), into decoded documents. Decoding happens
 * here, in the worker, so the main thread never builds the documents' objects.
 *
 * With `textKey`, a document's text element is decoded from its bytes straight into the text
 * the tokeniser scans (`prepareUtf8Text`), as `scanChunk` does for NDJSON, and only the rest of
 * the document is deserialised. A document this cannot settle for certain is deserialised whole.
 */
import { isUtf8 } from 'node:buffer';
import { deserialize } from 'bson';
import type { LineValue, PreparedText } from './chunk-lines.js';
import type { BadReason } from './document.js';
import { preparedLinks, prepareUtf8Text } from './tokenizer.js';

const STRICT = { promoteValues: true, promoteLongs: true, validation: { utf8: true } } as const;
const LENIENT = { promoteValues: true, promoteLongs: true, validation: { utf8: false } } as const;
/** The smallest BSON document: int32 length and the terminating zero byte. */
const MIN_DOCUMENT = 5;

/**
 * Calls `onDocument` for each document (numbered from 1 within the chunk) and returns how many
 * the chunk held. A length prefix that does not fit ends the chunk with one `invalidBson`.
 */
export function scanBsonChunk(
  chunk: Uint8Array,
  onDocument: (index: number, value: LineValue) => void,
  textKey?: Buffer,
): number {
  let offset = 0;
  let index = 0;
  while (offset < chunk.byteLength) {
    index++;
    const left = chunk.byteLength - offset;
    const size = left >= 4 ? int32(chunk, offset) : -1;
    if (size < MIN_DOCUMENT || size > left) {
      onDocument(index, 'invalidBson');
      return index;
    }
    const bytes = chunk.subarray(offset, offset + size);
    offset += size;
    const prepared = textKey === undefined ? null : preparedDocument(bytes, textKey);
    onDocument(index, prepared ?? decode(bytes));
  }
  return index;
}

function decode(bytes: Uint8Array): LineValue {
  try {
    return { parsed: deserialize(bytes, STRICT) };
  } catch {
    // Tell text that is not UTF-8 (a document problem) from a damaged document.
    const reason: BadReason = decodes(bytes) ? 'invalidUtf8' : 'invalidBson';
    return reason;
  }
}

function decodes(bytes: Uint8Array): boolean {
  try {
    deserialize(bytes, LENIENT);
    return true;
  } catch {
    return false;
  }
}

class BsonPreparedText implements PreparedText {
  constructor(
    readonly length: number,
    readonly links: boolean,
    private readonly source: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  /** The text's size in UTF-8 bytes: BSON holds it as it is. */
  get bytes(): number {
    return this.end - this.start;
  }

  text(): string {
    const { buffer, byteOffset, byteLength } = this.source;
    return Buffer.from(buffer, byteOffset, byteLength).toString('utf8', this.start, this.end);
  }
}

/** The little-endian int32 at `bytes[at]`, as BSON writes sizes. */
function int32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/**
 * Where the value of an element of BSON type `type` that starts at `at` ends, or -1 for a type
 * this does not walk or a value whose size the format rules out (negative, too small, not
 * ending in its zero, past `end`): the walk then finds the elements `deserialize` would, or
 * gives up. Only the extent is found: `deserialize` checks the value afterwards.
 */
function valueEnd(bytes: Uint8Array, type: number, at: number, end: number): number {
  let to: number;
  switch (type) {
    case 0x01: // double
    case 0x09: // UTC datetime
    case 0x11: // timestamp
    case 0x12: // int64
      to = at + 8;
      break;
    case 0x10: // int32
      to = at + 4;
      break;
    case 0x13: // decimal128
      to = at + 16;
      break;
    case 0x07: // ObjectId
      to = at + 12;
      break;
    case 0x08: // boolean
      to = at + 1;
      break;
    case 0x0a: // null
    case 0x06: // undefined
    case 0xff: // min key
    case 0x7f: // max key
      to = at;
      break;
    // String, JavaScript code, symbol: a size (at least 1, the terminating zero), the bytes,
    // the zero.
    case 0x02:
    case 0x0d:
    case 0x0e:
      to = zeroEnded(bytes, at, 4, 1, end);
      break;
    // Document, array, code with scope: a size (at least its own four bytes and the terminating
    // zero) that counts itself, ending in the zero.
    case 0x03:
    case 0x04:
    case 0x0f:
      to = zeroEnded(bytes, at, 0, 5, end);
      break;
    // Binary: a size, a subtype, the bytes.
    case 0x05: {
      const size = int32(bytes, at);
      if (size < 0) return -1;
      to = at + 5 + size;
      break;
    }
    default:
      return -1;
  }
  return to <= end ? to : -1;
}

/**
 * The end of a value that starts at `at` with its size, `header` plus that size long and ending
 * in a zero byte, or -1 when the size is below `minimum` or the value does not end so by `end`.
 */
function zeroEnded(
  bytes: Uint8Array,
  at: number,
  header: number,
  minimum: number,
  end: number,
): number {
  const size = int32(bytes, at);
  if (size < minimum) return -1;
  const to = at + header + size;
  return to <= end && bytes[to - 1] === 0 ? to : -1;
}

/** The BSON document `bytes` with the string value at `[valueStart, valueEnd)` made empty. */
function withoutValue(bytes: Uint8Array, valueStart: number, valueEnd: number): Uint8Array {
  const out = new Uint8Array(bytes.length - (valueEnd - valueStart) + 5);
  out.set(bytes.subarray(0, valueStart));
  // An empty string: its length (1, the terminating zero) and the zero.
  out[valueStart] = 1;
  out.set(bytes.subarray(valueEnd), valueStart + 5);
  const view = new DataView(out.buffer);
  view.setInt32(0, out.length, true);
  return out;
}

/**
 * The document `bytes` with its text element prepared (`prepareUtf8Text`) and the rest
 * deserialised, or null when it is to be deserialised whole: an element this does not walk,
 * the text missing, repeated or not a string, its text not UTF-8 or needing `prepare`, or the
 * rest not deserialising.
 */
function preparedDocument(bytes: Uint8Array, key: Buffer): LineValue | null {
  const end = bytes.length - 1;
  if (bytes[end] !== 0) return null;
  let i = 4;
  let textStart = -1;
  let textEnd = -1;
  let length = -1;
  while (i < end) {
    const type = bytes[i]!;
    const nameEnd = bytes.indexOf(0, i + 1);
    if (nameEnd < 0 || nameEnd >= end) return null;
    const at = nameEnd + 1;
    const to = valueEnd(bytes, type, at, end);
    if (to < 0) return null;
    if (nameEnd - i - 1 === key.length && key.compare(bytes, i + 1, nameEnd) === 0) {
      if (type !== 0x02 || textStart >= 0) return null;
      textStart = at + 4;
      textEnd = to - 1;
      if (!isUtf8(bytes.subarray(textStart, textEnd))) return null;
      length = prepareUtf8Text(bytes, textStart, textEnd);
      if (length < 0) return null;
    }
    i = to;
  }
  if (i !== end || textStart < 0) return null;
  let parsed: unknown;
  try {
    parsed = deserialize(withoutValue(bytes, textStart - 4, textEnd + 1), STRICT);
  } catch {
    return null;
  }
  const prepared = new BsonPreparedText(length, preparedLinks, bytes, textStart, textEnd);
  return { parsed, prepared };
}
