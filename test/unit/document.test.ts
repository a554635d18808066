import { describe, expect, it } from 'vitest';
import { scanChunk } from '../../src/analysis/chunk-lines.js';
import { DocumentValidator, parseTime } from '../../src/analysis/document.js';

const fields = {
  id: '_id',
  lang: 'lang',
  text: ['title', 'body'],
  updatedAt: 'updatedAt',
  deleted: 'deletedAt',
};
const validator = new DocumentValidator({ fields, maxDocumentBytes: 100 });
const base = { _id: 'a', lang: 'en', body: 'hello world', updatedAt: '2026-11-01T00:00:00Z' };

function reason(value: unknown): string {
  const check = validator.check(value);
  return check.ok ? 'ok' : check.reason;
}

describe('DocumentValidator', () => {
  it('accepts a document and joins its text fields', () => {
    const check = validator.check({ ...base, title: 'Title' });
    expect(check.ok && check.doc).toEqual({
      id: 'a',
      rawLang: 'en',
      text: 'Title\nhello world',
      updatedAtMs: Date.parse('2026-11-01T00:00:00Z'),
      deleted: false,
    });
  });

  it.each([
    ['an array', [1, 2], 'notAnObject'],
    ['null', null, 'notAnObject'],
    ['a number', 42, 'notAnObject'],
    ['no id', { ...base, _id: undefined }, 'missingId'],
    ['an empty id', { ...base, _id: '' }, 'invalidId'],
    ['an object id that is not an ObjectId', { ...base, _id: { x: 1 } }, 'invalidId'],
    ['a fractional id', { ...base, _id: 1.5 }, 'invalidId'],
    ['a huge id', { ...base, _id: 'x'.repeat(600) }, 'invalidId'],
    ['no updatedAt', { ...base, updatedAt: undefined }, 'missingUpdatedAt'],
    ['an updatedAt that is not a date', { ...base, updatedAt: 'yesterday' }, 'invalidUpdatedAt'],
    [
      'an updatedAt without time zone',
      { ...base, updatedAt: '2026-11-01T10:00:00' },
      'invalidUpdatedAt',
    ],
    ['an impossible updatedAt', { ...base, updatedAt: '2026-13-45T00:00:00Z' }, 'invalidUpdatedAt'],
    ['a boolean updatedAt', { ...base, updatedAt: true }, 'invalidUpdatedAt'],
    ['a negative updatedAt', { ...base, updatedAt: -5 }, 'invalidUpdatedAt'],
    ['no text at all', { _id: 'a', lang: 'en', updatedAt: base.updatedAt }, 'missingText'],
    ['a numeric text', { ...base, body: 42 }, 'textNotString'],
    ['an object text', { ...base, body: { t: 'x' } }, 'textNotString'],
    ['an array text', { ...base, title: ['x'] }, 'textNotString'],
    ['a text over maxDocumentBytes', { ...base, body: 'é'.repeat(51) }, 'textTooLarge'],
    ['a tombstone that is a string', { ...base, deletedAt: 'soon' }, 'invalidDeleted'],
    ['a tombstone that is an object', { ...base, deletedAt: { when: 1 } }, 'invalidDeleted'],
  ])('rejects %s', (_what, value, expected) => {
    expect(reason(value)).toBe(expected);
  });

  it('accepts ids as strings, integers and Extended JSON ObjectIds', () => {
    expect(reason({ ...base, _id: 7 })).toBe('ok');
    expect(reason({ ...base, _id: { $oid: '65a1b2c3d4e5f60718293a4b' } })).toBe('ok');
  });

  it('reads tombstones as true, a date, or Extended JSON', () => {
    for (const deletedAt of [true, '2026-11-02T00:00:00Z', { $date: '2026-11-02T00:00:00Z' }]) {
      const check = validator.check({ ...base, deletedAt });
      expect(check.ok && check.doc.deleted).toBe(true);
    }
    const live = validator.check({ ...base, deletedAt: null });
    expect(live.ok && live.doc.deleted).toBe(false);
  });

  it('lets a tombstone go without text', () => {
    expect(reason({ _id: 'a', updatedAt: base.updatedAt, deletedAt: true })).toBe('ok');
  });

  it('reads dotted field paths', () => {
    const nested = new DocumentValidator({
      fields: { ...fields, text: ['content.body'] },
      maxDocumentBytes: 100,
    });
    const check = nested.check({ ...base, body: undefined, content: { body: 'deep' } });
    expect(check.ok && check.doc.text).toBe('deep');
  });
});

describe('parseTime', () => {
  it('reads ISO 8601 with a zone, epoch milliseconds and Extended JSON', () => {
    const ms = Date.parse('2026-11-30T02:00:00Z');
    expect(parseTime('2026-11-30T02:00:00Z')).toBe(ms);
    expect(parseTime('2026-11-30T03:00:00+01:00')).toBe(ms);
    expect(parseTime(ms)).toBe(ms);
    expect(parseTime({ $date: { $numberLong: String(ms) } })).toBe(ms);
    expect(parseTime('2026-11-30')).toBe(Date.parse('2026-11-30T00:00:00Z'));
    expect(parseTime('30/11/2026')).toBeNull();
  });
});

describe('scanChunk', () => {
  it('parses lines, skips blank ones, accepts CRLF and flags bad UTF-8 and JSON by line', () => {
    const chunk = Buffer.concat([
      Buffer.from('{"a":1}\r\n\n   \n{oops\n'),
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]),
      Buffer.from('{"b":2}'),
    ]);
    const seen: Array<[number, unknown]> = [];
    const lines = scanChunk(new Uint8Array(chunk), (line, value) => seen.push([line, value]));
    expect(lines).toBe(6);
    expect(seen).toEqual([
      [1, { parsed: { a: 1 } }],
      [4, 'invalidJson'],
      [5, 'invalidUtf8'],
      [6, { parsed: { b: 2 } }],
    ]);
  });
});
