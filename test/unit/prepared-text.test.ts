import { ObjectId, serialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { scanBsonChunk } from '../../src/analysis/bson-chunk.js';
import { type LineValue, scanChunk } from '../../src/analysis/chunk-lines.js';
import type { UnitSink } from '../../src/analysis/term-table.js';
import {
  addPreparedTermRanges,
  addTermRanges,
  preparedBytes,
  preparedEnd,
  preparedLinks,
  prepareJsonText,
  preparesDirectly,
} from '../../src/analysis/tokenizer.js';
import { prng, sampleDocuments } from '../support/corpus.js';

/** Every word a sink receives, with its hash, as `word#hash`. */
function collect(run: (sink: UnitSink) => void): string[] {
  const words: string[] = [];
  run({
    addUnits(units, start, end, hash) {
      words.push(`${String.fromCharCode(...units.subarray(start, end))}#${hash}`);
    },
  });
  return words;
}

const viaString = (text: string, lang: string): string[] =>
  collect((sink) => addTermRanges(text, lang, sink));

/**
 * The words of the JSON string literal `literal` (quotes included) prepared from its bytes,
 * or null when `prepareJsonText` leaves it to the string path. Checks the literal's end and
 * the text's size on the way.
 */
function viaBytes(literal: string, text: string, lang: string): string[] | null {
  const bytes = Buffer.from(`${literal},"x":1}`, 'utf8');
  const length = prepareJsonText(bytes, 1, bytes.length);
  if (length < 0) return null;
  expect(preparedEnd).toBe(Buffer.byteLength(literal));
  expect(preparedBytes).toBe(Buffer.byteLength(text));
  const links = preparedLinks;
  return collect((sink) => addPreparedTermRanges(length, links, lang, sink));
}

/** `JSON.stringify`, with some characters written as `\uXXXX` and some `/` as `\/`. */
function literalOf(text: string, random: () => number): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0x20 && random() < 0.1) {
      const hex = code.toString(16).padStart(4, '0');
      out += `\\u${random() < 0.5 ? hex : hex.toUpperCase()}`;
    } else if (ch === '/' && random() < 0.5) {
      out += '\\/';
    } else {
      out += JSON.stringify(ch).slice(1, -1);
    }
  }
  return `${out}"`;
}

const ALPHABET = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ...'àéèêëïîôöüûçñßÀÉÈÇÑÆØÅæøåłŁżŻśŚąĄęĘőŐűŰ',
  ...'абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ',
  ...'αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώΆΈΉΊΌΎΏ',
  ...'אבגדהוזחטיכלמנסעפצקרשת',
  ...'ابتثجحخدذرزسشصضطظعغفقكلمنهوي',
  ' ',
  ' ',
  ' ',
  ' ',
  '\n',
  '\t',
  '.',
  ',',
  ';',
  '!',
  '?',
  '-',
  '—',
  '"',
  '\\',
  '/',
  ':',
  '@',
  'w',
  "'",
  '’',
  'ʼ',
  '·',
  '_',
  '0',
  '7',
  '\u00ad',
  '\u00a0',
  '\u2028',
  '\u2000',
  'İ',
  'ı',
  'Σ',
  '\u0301',
  '\u0308',
  '\u0483',
  '\u05b8',
  '\u064e',
  '\u0374',
  '\u037e',
  '\u0387',
  '\u2126',
  '\u212b',
  '\u212a',
  '日本語',
  'ไทย',
  '😀',
  '𝔘',
  '://',
  'www.',
  'ex@ample.com',
  "l'",
  "aujourd'hui",
];

describe('prepareJsonText', () => {
  it('prepares a JSON text as prepare() does, or leaves it to prepare(), on random texts', () => {
    const random = prng(11);
    let direct = 0;
    let left = 0;
    for (let round = 0; round < 3000; round++) {
      // Most texts from the direct scripts alone, the others with anything.
      const pool = round % 3 === 0 ? ALPHABET : ALPHABET.slice(0, 250);
      let text = '';
      const size = Math.floor(random() * 120);
      for (let i = 0; i < size; i++) text += pool[Math.floor(random() * pool.length)]!;
      const literal = literalOf(text, random);
      for (const lang of ['en', 'fr', 'ru']) {
        const words = viaBytes(literal, text, lang);
        if (words === null) {
          left++;
          continue;
        }
        direct++;
        expect(words, `${JSON.stringify(text)} in ${lang}`).toEqual(viaString(text, lang));
      }
    }
    expect(direct).toBeGreaterThan(3000);
    expect(left).toBeGreaterThan(1000);
  });

  it('agrees with prepare() on every character it prepares, alone and between letters', () => {
    let direct = 0;
    const characters = [
      ...Array.from({ length: 0x800 }, (_, c) => c),
      ...Array.from({ length: 0x70 }, (_, k) => 0x2000 + k),
    ];
    for (const c of characters) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, `Ab${ch}cD`, `${ch}${ch}x ${ch}`]) {
        const words = viaBytes(JSON.stringify(text), text, 'fr');
        if (words === null) continue;
        direct++;
        expect(words, `U+${c.toString(16)}`).toEqual(viaString(text, 'fr'));
      }
    }
    expect(direct).toBeGreaterThan(5000);
  });

  it('leaves to prepare() what NFC or lower-casing could change', () => {
    const ohm = '\u2126';
    for (const text of ['Cafe\u0301', 'ΟΔΟΣ', 'İstanbul', ohm, '\u2000', 'x\u0483', '日本', '😀']) {
      expect(viaBytes(JSON.stringify(text), text, 'en'), text).toBeNull();
    }
    expect(viaBytes('"Ca\u00adfé Ça’va ʼn"', 'Ca\u00adfé Ça’va ʼn', 'fr')).toEqual(
      viaString('Ca\u00adfé Ça’va ʼn', 'fr'),
    );
    expect(preparesDirectly('en')).toBe(true);
    expect(preparesDirectly('tr')).toBe(false);
    expect(preparesDirectly('az')).toBe(false);
  });

  it('refuses what is not a JSON string, for JSON.parse to report', () => {
    for (const bad of ['"a\\x"', '"a\\u12"', '"a\\ud800"', '"tab\there"', '"unterminated']) {
      const bytes = Buffer.from(bad, 'utf8');
      expect(prepareJsonText(bytes, 1, bytes.length), bad).toBe(-1);
    }
    // Unterminated before `end`, whatever follows it.
    expect(prepareJsonText(Buffer.from('"abc"', 'utf8'), 1, 3)).toBe(-1);
    expect(prepareJsonText(Buffer.from('"abcé"', 'utf8'), 1, 4)).toBe(-1);
  });

  it('agrees with prepare() on every document of the sample corpus it prepares, most of them', () => {
    const docs = sampleDocuments();
    let direct = 0;
    for (const { lang, text } of docs) {
      if (!preparesDirectly(lang)) continue;
      const words = viaBytes(JSON.stringify(text), text, lang);
      if (words === null) continue;
      direct++;
      expect(words).toEqual(viaString(text, lang));
    }
    expect(direct).toBeGreaterThan(docs.length / 2);
  });
});

/**
 * What a line or a document came to: a prepared value checked against the string path (in its
 * language, else `fallbackLang`) and given back with its text in place, so that it compares
 * equal to what a whole parse gives; anything else as it is.
 */
function outcome(value: LineValue, fallbackLang: string): unknown {
  if (typeof value === 'string' || value.prepared === undefined) return value;
  const { prepared } = value;
  const parsed = value.parsed as Record<string, unknown>;
  expect(parsed.text).toBe('');
  const text = prepared.text();
  const lang = typeof parsed.lang === 'string' ? parsed.lang : fallbackLang;
  // The worker prepares a Turkish text as a string (`preparesDirectly`).
  if (preparesDirectly(lang)) {
    const words = collect((sink) =>
      addPreparedTermRanges(prepared.length, prepared.links, lang, sink),
    );
    expect(words).toEqual(viaString(text, lang));
  }
  expect(prepared.bytes).toBe(Buffer.byteLength(text));
  return { parsed: { ...parsed, text } };
}

describe('scanChunk with a text key', () => {
  const key = Buffer.from('text');

  function outcomes(ndjson: string, textKey?: Buffer): Array<[number, unknown]> {
    const out: Array<[number, unknown]> = [];
    scanChunk(
      new Uint8Array(Buffer.from(ndjson, 'utf8')),
      (line: number, value: LineValue) => out.push([line, outcome(value, 'en')]),
      undefined,
      textKey,
    );
    return out;
  }

  it('gives every line the outcome a whole parse gives, prepared or not', () => {
    const lines = [
      '{"_id":"a","lang":"fr","text":"L\'Homme va à Paris.","updatedAt":"2026-01-01T00:00:00Z"}',
      ' { "text" : "Spaces around" , "_id" : 1 } ',
      '{"meta":{"text":"nested","list":[1,{"a":"}"}]},"text":"The outer one","n":-1.5e3}',
      '{"_id":"b","text":"first","text":"second"}',
      '{"_id":"c","text":5}',
      '{"_id":"d","text":null}',
      '{"_id":"e","body":"no text member"}',
      '{"_id":"f","te\\u0078t":"escaped name"}',
      '{"_id":"g","text":"trailing"} x',
      '{"_id":"h","text":"unterminated}',
      '{"_id":"i","text":"ΟΔΟΣ Cafe\u0301"}',
      '{"_id":"j","text":"ok",}',
      '{"_id":"k","text":"a \\"quoted\\" \\\\ word\\/s \\u00e9t\\u00C9"}',
      '{"_id":"l","s":"a\\"b","text":"after an escaped quote"}',
      '{"_id":"m","text":"mail me@example.com or www.example.org, https://x.y/z"}',
      '[1,2]',
      '{}',
      '"text"',
      '',
      '{"_id":"n","lang":"tr","text":"İstanbul ILIK"}',
      '{"_id":"o","lang":"tr","text":"ILIK"}',
    ].join('\n');
    const withKey = outcomes(lines, key);
    expect(withKey).toEqual(outcomes(lines));
    // Most of the well-formed ones went through the prepared path.
    let prepared = 0;
    scanChunk(
      new Uint8Array(Buffer.from(lines, 'utf8')),
      (_line, value) => {
        if (typeof value !== 'string' && value.prepared !== undefined) prepared++;
      },
      undefined,
      key,
    );
    expect(prepared).toBe(7);
  });
});

describe('scanBsonChunk with a text key', () => {
  const key = Buffer.from('text');

  function outcomes(docs: Uint8Array[], textKey?: Buffer): Array<[number, unknown]> {
    const out: Array<[number, unknown]> = [];
    const chunk = new Uint8Array(Buffer.concat(docs));
    scanBsonChunk(chunk, (index, value) => out.push([index, outcome(value, 'fr')]), textKey);
    return out;
  }

  /** A BSON document with a string element `name` whose bytes are `value`, as given. */
  function rawString(name: string, value: Buffer): Uint8Array {
    const element = Buffer.concat([
      Buffer.from([0x02]),
      Buffer.from(`${name}\0`, 'latin1'),
      Buffer.from(Int32Array.of(value.length + 1).buffer),
      value,
      Buffer.from([0]),
    ]);
    const size = 4 + element.length + 1;
    return new Uint8Array(
      Buffer.concat([Buffer.from(Int32Array.of(size).buffer), element, Buffer.from([0])]),
    );
  }

  it('gives every document the outcome a whole deserialisation gives, prepared or not', () => {
    const at = new Date('2026-11-29T10:00:00.000Z');
    const docs = [
      serialize({
        _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
        lang: 'fr',
        text: "L'Homme\nva à Paris.",
        updatedAt: at,
      }),
      serialize({
        meta: { text: 'nested', list: [1, 'two', { three: 3 }], n: 1.5, big: 2n ** 40n },
        flag: true,
        none: null,
        bin: new Uint8Array([1, 2, 3]),
        text: 'Привет, мир! Ça va? E-mail: me@example.com, www.example.org',
        updatedAt: at,
      }),
      serialize({ _id: 'c', text: 5, updatedAt: at }),
      serialize({ _id: 'd', body: 'no text', updatedAt: at }),
      serialize({ _id: 'e', text: 'ΟΔΟΣ Cafe\u0301', updatedAt: at }),
      serialize({ _id: 'f', re: /x/g, text: 'after a regular expression', updatedAt: at }),
      serialize({ _id: 'g', text: '', updatedAt: at }),
      rawString('text', Buffer.from([0x61, 0xff, 0x62])),
      rawString('text', Buffer.from('soft\u00adhyphen and tab\there', 'utf8')),
    ];
    const withKey = outcomes(docs, key);
    expect(withKey).toEqual(outcomes(docs));
    let prepared = 0;
    scanBsonChunk(
      new Uint8Array(Buffer.concat(docs)),
      (_index, value) => {
        if (typeof value !== 'string' && value.prepared !== undefined) prepared++;
      },
      key,
    );
    // The first two, the empty text and the tab and soft hyphen.
    expect(prepared).toBe(4);
  });

  it('gives a damaged document the outcome a whole deserialisation gives, byte by byte', () => {
    const at = new Date('2026-11-29T10:00:00.000Z');
    const original = Buffer.from(
      serialize({
        _id: 'x',
        meta: { a: [1, 'b'], c: 2.5 },
        lang: 'fr',
        text: 'Le chat dort.',
        n: 7,
        updatedAt: at,
      }),
    );
    const random = prng(5);
    for (let round = 0; round < 400; round++) {
      const damaged = Buffer.from(original);
      const at = Math.floor(random() * damaged.length);
      damaged[at] = round < damaged.length ? (damaged[at]! + 1) & 0xff : Math.floor(random() * 256);
      expect(outcomes([new Uint8Array(damaged)], key), `byte ${at}`).toEqual(
        outcomes([new Uint8Array(damaged)]),
      );
    }
  });
});
