import { ObjectId, serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { scanBsonChunk } from '../../src/analysis/bson-chunk.js';
import type { LineValue } from '../../src/analysis/chunk-lines.js';
import { DocumentValidator } from '../../src/analysis/document.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function scan(chunk: Uint8Array): Array<[number, LineValue]> {
  const seen: Array<[number, LineValue]> = [];
  const count = scanBsonChunk(chunk, (index, value) => seen.push([index, value]));
  expect(count).toBe(seen.length);
  return seen;
}

const FIELDS = {
  id: '_id',
  lang: 'lang',
  text: ['text'],
  updatedAt: 'updatedAt',
  deleted: 'deletedAt',
};

describe('scanBsonChunk', () => {
  it('decodes documents back to back with dates and ObjectIds the validator accepts', () => {
    const oid = new ObjectId('64b7f0c2a1b2c3d4e5f60718');
    const at = new Date('2026-11-29T10:00:00.000Z');
    const chunk = concat([
      serialize({ _id: oid, lang: 'en', text: 'the cat', updatedAt: at }),
      serialize({ _id: 'b', lang: 'fr', text: "l'homme", updatedAt: at, deletedAt: at }),
    ]);
    const seen = scan(chunk);
    expect(seen.map(([index]) => index)).toEqual([1, 2]);
    const validator = new DocumentValidator({ fields: FIELDS, maxDocumentBytes: 1000 });
    const first = seen[0]?.[1];
    if (first === undefined || typeof first === 'string') throw new Error('not decoded');
    expect(validator.check(first.parsed)).toEqual({
      ok: true,
      doc: {
        id: '64b7f0c2a1b2c3d4e5f60718',
        rawLang: 'en',
        text: 'the cat',
        updatedAtMs: at.getTime(),
        deleted: false,
      },
    });
    const second = seen[1]?.[1];
    if (second === undefined || typeof second === 'string') throw new Error('not decoded');
    expect(validator.check(second.parsed)).toMatchObject({ ok: true, doc: { deleted: true } });
  });

  it('reports invalid UTF-8 in a string as invalidUtf8 and carries on', () => {
    const good = serialize({ _id: 'a', text: 'ok' });
    const bad = serialize({ _id: 'b', text: 'xx' });
    // Replace the text's two bytes by a lone continuation byte and a letter.
    const at = Buffer.from(bad).lastIndexOf(Buffer.from('xx'));
    bad[at] = 0x80;
    expect(scan(concat([bad, good])).map(([, v]) => (typeof v === 'string' ? v : 'ok'))).toEqual([
      'invalidUtf8',
      'ok',
    ]);
  });

  it('ends the chunk with one invalidBson when a length prefix does not fit', () => {
    const good = serialize({ _id: 'a', text: 'ok' });
    const truncated = serialize({ _id: 'b', text: 'cut short' }).subarray(0, 10);
    const seen = scan(concat([good, truncated]));
    expect(seen.map(([i, v]) => [i, typeof v === 'string' ? v : 'ok'])).toEqual([
      [1, 'ok'],
      [2, 'invalidBson'],
    ]);
    expect(scan(new Uint8Array([1, 0]))).toEqual([[1, 'invalidBson']]);
  });

  it('reports a document whose inside is damaged as invalidBson', () => {
    const doc = serialize({ _id: 'a', text: 'ok' });
    doc[4] = 0x7e; // an element type that does not exist
    expect(scan(doc)).toEqual([[1, 'invalidBson']]);
  });
});
