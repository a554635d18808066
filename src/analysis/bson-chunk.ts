/**
 * Splits a chunk of raw BSON documents, as the MongoDB source hands them over (each document is
 * its own length-prefixed BSON object, back to back), into decoded documents. Decoding happens
 * here, in the worker, so the main thread never builds the documents' objects.
 */
import { deserialize } from 'bson';
import type { LineValue } from './chunk-lines.js';
import type { BadReason } from './document.js';

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
): number {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let offset = 0;
  let index = 0;
  while (offset < chunk.byteLength) {
    index++;
    const left = chunk.byteLength - offset;
    const size = left >= 4 ? view.getInt32(offset, true) : -1;
    if (size < MIN_DOCUMENT || size > left) {
      onDocument(index, 'invalidBson');
      return index;
    }
    const bytes = chunk.subarray(offset, offset + size);
    offset += size;
    onDocument(index, decode(bytes));
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
