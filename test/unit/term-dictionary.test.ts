import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRange, sharedTermId } from '../../src/analysis/term-table.js';
import { StateCorruptError } from '../../src/state/store-schema.js';
import {
  type LanguageParts,
  LanguageTerms,
  TermDictionary,
} from '../../src/state/term-dictionary.js';
import { prng } from '../support/corpus.js';

/** Two words with the same 32-bit FNV-1a hash, found by a birthday search. */
const COLLIDING = ['gxwjqbe', 'ensbcjc'] as const;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-dictionary-'));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Random words, some outside the Basic Multilingual Plane, all distinct. */
function words(count: number, seed: number): string[] {
  const random = prng(seed);
  const alphabet = ['a', 'é', 'ß', 'я', 'λ', '語', '𝔘', 'z', 'q', 'ı'];
  const out = new Set<string>();
  while (out.size < count) {
    let word = '';
    const length = 1 + Math.floor(random() * 9);
    for (let i = 0; i < length; i++) word += alphabet[Math.floor(random() * alphabet.length)];
    out.add(word);
  }
  return [...out];
}

/** The dictionary in `bytes`, read from a file of that name in the test's directory. */
function readBytes(bytes: Uint8Array, name = 'd.bin'): TermDictionary {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return TermDictionary.read(path);
}

/**
 * A dictionary file laid out by hand, with a checksum that holds: one language, `en`, of
 * `terms` terms whose counts are all 1, and the arena `units`.
 */
function handMade(terms: number, units: number[]): Buffer {
  const header = { languages: [{ lang: 'en', terms, arenaUnits: units.length }] };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headEnd = Math.ceil((12 + json.length) / 8) * 8;
  const bodyEnd = headEnd + Math.ceil((terms * 16 + units.length * 2) / 8) * 8;
  const buf = Buffer.alloc(bodyEnd + 4);
  buf.write('SWRDICT1', 0, 'latin1');
  buf.writeUInt32LE(json.length, 8);
  json.copy(buf, 12);
  for (let i = 0; i < terms * 2; i++) buf.writeDoubleLE(1, headEnd + i * 8);
  for (const [i, unit] of units.entries()) buf.writeUInt16LE(unit, headEnd + terms * 16 + i * 2);
  buf.writeUInt32LE(crc32(buf.subarray(0, bodyEnd)), bodyEnd);
  return buf;
}

function contents(dictionary: TermDictionary): Record<string, Array<[string, number, number]>> {
  const out: Record<string, Array<[string, number, number]>> = {};
  for (const terms of dictionary.languages()) {
    out[terms.lang] = Array.from({ length: terms.size }, (_, id) => [
      terms.term(id),
      terms.df(id),
      terms.cf(id),
    ]);
  }
  return out;
}

describe('TermDictionary', () => {
  it('finds every term by its id and its id by the term, colliding hashes included', () => {
    const list = [...words(5000, 1), ...COLLIDING];
    const terms = LanguageTerms.fromTerms(
      'xx',
      list,
      list.map((_, i) => i + 1),
      list.map((_, i) => 2 * i + 2),
    );
    for (let id = 0; id < list.length; id++) {
      expect(terms.term(id)).toBe(list[id]);
      expect(terms.id(list[id]!)).toBe(id);
    }
    expect(terms.id('not-there')).toBe(-1);
    expect(terms.id(`${COLLIDING[0]}x`)).toBe(-1);
  });

  it('adds new terms with the next free id, growing past its first table', () => {
    const terms = LanguageTerms.empty('en');
    const list = words(20_000, 2);
    for (let i = 0; i < list.length; i++) {
      expect(terms.idOrAdd(list[i]!)).toBe(i);
      terms.counts[2 * i] = 1;
      terms.counts[2 * i + 1] = 3;
    }
    // Asked again, each gets its id back and nothing is added.
    for (let i = 0; i < list.length; i += 97) expect(terms.idOrAdd(list[i]!)).toBe(i);
    expect(terms.size).toBe(list.length);
    expect(terms.atLeast(1).df.size).toBe(list.length);
  });

  it('shares its terms with workers read-only: the same ids, and terms added later stay apart', () => {
    const list = [...words(4000, 5), ...COLLIDING];
    const dictionary = new TermDictionary();
    dictionary.set(
      LanguageTerms.fromTerms(
        'xx',
        list,
        list.map(() => 1),
        list.map(() => 1),
      ),
    );
    const path = join(dir, 'shared.bin');
    dictionary.write(path);
    const terms = TermDictionary.read(path).get('xx')!;
    const shared = terms.shared();
    expect(shared.arena.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.slots.buffer).toBeInstanceOf(SharedArrayBuffer);
    const find = (word: string, text = word, start = 0): number =>
      sharedTermId(shared, text, start, word.length, hashRange(text, start, start + word.length));
    for (let id = 0; id < list.length; id++) expect(find(list[id]!)).toBe(id);
    // A word cut from the middle of a longer text is found by its range.
    expect(find(COLLIDING[1], `zz ${COLLIDING[1]} zz`, 3)).toBe(list.length - 1);
    const before = { arena: shared.arena.slice(), slots: shared.slots.slice() };
    const added = terms.idOrAdd('brand-new');
    expect(added).toBe(list.length);
    expect(terms.id('brand-new')).toBe(added);
    expect(terms.term(added)).toBe('brand-new');
    // The shared memory is not written: the new term is not found there.
    expect(find('brand-new')).toBe(-1);
    expect(shared.arena).toEqual(before.arena);
    expect(shared.slots).toEqual(before.slots);
    // A language built in memory is copied to shared memory with the same ids.
    const built = LanguageTerms.fromTerms('yy', ['a', 'b'], [1, 1], [1, 1]).shared();
    expect(built.arena.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(sharedTermId(built, 'b', 0, 1, hashRange('b', 0, 1))).toBe(1);
    // Added terms are written after the others and read back with their ids.
    terms.counts[2 * added] = 1;
    terms.counts[2 * added + 1] = 2;
    const again = new TermDictionary();
    again.set(terms);
    again.write(join(dir, 'shared-2.bin'));
    const back = TermDictionary.read(join(dir, 'shared-2.bin')).get('xx')!;
    expect(back.id('brand-new')).toBe(added);
    expect(back.cf(added)).toBe(2);
    expect(back.id(list[17]!)).toBe(17);
  });

  it('writes a file that reads back the same, and counts past 2^32 occurrences', () => {
    const dictionary = new TermDictionary();
    const en = words(3000, 3);
    dictionary.set(
      LanguageTerms.fromTerms(
        'en',
        en,
        en.map((_, i) => 3000 - i),
        en.map((_, i) => 2 ** 40 + i),
      ),
    );
    dictionary.set(LanguageTerms.fromTerms('ja', ['日本', '語'], [2, 1], [5, 1]));
    const empty = dictionary.language('de');
    expect(empty.size).toBe(0);
    const path = join(dir, 'round-trip.bin');
    dictionary.write(path);
    const back = TermDictionary.read(path);
    expect(contents(back)).toEqual(contents(dictionary));
    expect(back.get('ja')!.id('語')).toBe(1);
    expect(back.get('en')!.cf(2)).toBe(2 ** 40 + 2);
    // A term added after reading takes the next id in that language only.
    expect(back.get('ja')!.idOrAdd('新しい')).toBe(2);
    expect(back.get('en')!.size).toBe(3000);
    // Written piece by piece from the arrays of a dictionary read back (shared arenas, counts
    // with room to spare) and with an added term, the file is `encode()`'s bytes, and reads back.
    back.get('ja')!.counts[4] = 1;
    back.get('ja')!.counts[5] = 1;
    const again = join(dir, 'round-trip-2.bin');
    back.write(again);
    expect(readFileSync(again).equals(back.encode())).toBe(true);
    expect(TermDictionary.read(again).get('ja')!.id('新しい')).toBe(2);
    expect(contents(TermDictionary.read(again))).toEqual(contents(back));
  });

  it('hands its arrays to another thread as read, shared, lookup tables built; taken over, it is the same dictionary', async () => {
    const list = [...words(6000, 9), ...COLLIDING];
    const dictionary = new TermDictionary();
    dictionary.set(
      LanguageTerms.fromTerms(
        'xx',
        list,
        list.map((_, i) => i + 1),
        list.map((_, i) => 2 * i + 3),
      ),
    );
    dictionary.set(LanguageTerms.fromTerms('ja', ['日本', '語'], [2, 1], [5, 1]));
    const path = join(dir, 'parts.bin');
    dictionary.write(path);
    const read = TermDictionary.read(path);
    const parts = read.parts();
    for (const language of parts) {
      for (const array of [language.arena, language.counts, language.offsets, language.slots]) {
        expect(array.buffer, language.lang).toBeInstanceOf(SharedArrayBuffer);
      }
    }
    // Through a message port, as a worker's answer comes: structured clone shares the memory.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<LanguageParts[]>((resolve) => {
      port2.once('message', resolve);
    });
    port1.postMessage(parts);
    const taken = TermDictionary.fromParts(await received);
    port1.close();
    expect(contents(taken)).toEqual(contents(dictionary));
    const xx = taken.get('xx')!;
    for (let id = 0; id < list.length; id += 7) expect(xx.id(list[id]!)).toBe(id);
    expect(xx.id(COLLIDING[1])).toBe(list.length - 1);
    expect(xx.id('not-there')).toBe(-1);
    // The very arrays the reader filled: a count changed on one side is seen on the other.
    xx.counts[0] = 41;
    expect(read.get('xx')!.df(0)).toBe(41);
    xx.counts[0] = 1;
    // Workers look the terms up in that shared memory, without a copy.
    const shared = xx.shared();
    expect(shared.slots.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.arena.buffer).toBeInstanceOf(SharedArrayBuffer);
    // Taken over, it grows and writes as one read on this thread.
    expect(xx.idOrAdd('brand-new')).toBe(list.length);
    xx.counts[2 * list.length] = 1;
    xx.counts[2 * list.length + 1] = 1;
    const again = join(dir, 'parts-2.bin');
    taken.write(again);
    expect(readFileSync(again).equals(taken.encode())).toBe(true);
    expect(TermDictionary.read(again).get('xx')!.id('brand-new')).toBe(list.length);
    // Only a language as read can be handed over: one with terms added is not.
    expect(() => taken.parts()).toThrow(/only a language as read can be handed over/);
    // Parts that do not fit together are refused.
    const xxParts = parts.find((l) => l.lang === 'xx')!;
    expect(() =>
      TermDictionary.fromParts([{ ...xxParts, offsets: xxParts.offsets.subarray(1) }]),
    ).toThrow(/its parts do not fit together/);
  });

  it('refuses a file that is damaged, truncated or not a dictionary, naming the fault', () => {
    const dictionary = new TermDictionary();
    dictionary.set(LanguageTerms.fromTerms('en', ['the', 'cat'], [2, 1], [3, 1]));
    const good = dictionary.encode();
    const read =
      (bytes: Buffer): (() => TermDictionary) =>
      () =>
        readBytes(bytes);
    expect(contents(read(good)())).toEqual(contents(dictionary));
    const flipped = Buffer.from(good);
    flipped[40]! ^= 0x10;
    expect(read(flipped)).toThrow(/dictionary d.bin is damaged: checksum mismatch/);
    expect(read(good.subarray(0, good.length - 8))).toThrow(StateCorruptError);
    expect(read(Buffer.from('{"lang": "en"}\n'))).toThrow(/not a dictionary file/);
    expect(() => TermDictionary.read(join(dir, 'absent.bin'))).toThrow(
      /dictionary absent.bin cannot be read: ENOENT/,
    );
    expect(() => TermDictionary.read(dir)).toThrow(/cannot be read: EISDIR/);
  });

  it('reads a file piece by piece into its arrays, and tells a damaged file by its checksum', () => {
    const dictionary = new TermDictionary();
    const words = Array.from({ length: 5000 }, (_, i) => `mot${i.toString(36)}`);
    dictionary.set(
      LanguageTerms.fromTerms(
        'fr',
        words,
        words.map((_, i) => 5000 - i),
        words.map((_, i) => 10000 - i),
      ),
    );
    dictionary.set(LanguageTerms.fromTerms('en', ['the', 'cat'], [2, 1], [3, 1]));
    const path = join(dir, 'pieces.bin');
    dictionary.write(path);
    const bytes = readFileSync(path);
    expect(contents(TermDictionary.read(path))).toEqual(contents(dictionary));
    // Damage anywhere is a checksum mismatch, even where the bytes still parse (a count, a
    // character of a word) or where they no longer do (the header).
    for (const at of [20, bytes.length >> 1, bytes.length - 40, bytes.length - 2]) {
      const damaged = Buffer.from(bytes);
      damaged[at]! ^= 0x04;
      const file = join(dir, `damaged-${at}.bin`);
      writeFileSync(file, damaged);
      expect(() => TermDictionary.read(file), `byte ${at}`).toThrow(
        /dictionary damaged-\d+.bin is damaged: checksum mismatch/,
      );
    }
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    expect(() => TermDictionary.read(cut)).toThrow(/dictionary cut.bin is damaged/);
  });

  it('refuses a file whose checksum holds but whose counts cannot be', () => {
    // df above cf: every occurrence count is at least the document count.
    const dictionary = new TermDictionary();
    dictionary.set(LanguageTerms.fromTerms('en', ['the'], [5], [4]));
    expect(() => readBytes(dictionary.encode())).toThrow(
      /dictionary en: a term has impossible counts \(df 5, cf 4\)/,
    );
    // A count that is not a whole number.
    const fractional = new TermDictionary();
    fractional.set(LanguageTerms.fromTerms('en', ['the'], [1.5], [4]));
    expect(() => readBytes(fractional.encode())).toThrow(/impossible counts/);
    // An arena that does not hold exactly the terms it should: a length running past its end,
    // or fewer terms than counted.
    const the = [3, 0x74, 0x68, 0x65];
    const cat = [3, 0x63, 0x61, 0x74];
    expect(
      readBytes(handMade(2, [...the, ...cat]))
        .get('en')!
        .term(1),
    ).toBe('cat');
    const overlong = [...the, 9, 0x63, 0x61, 0x74];
    expect(() => readBytes(handMade(2, overlong))).toThrow(
      /dictionary en: the terms do not fill their arena/,
    );
    expect(() => readBytes(handMade(3, [...the, ...cat]))).toThrow(
      /the terms do not fill their arena/,
    );
    // The same term twice.
    const twice = new TermDictionary();
    twice.set(LanguageTerms.fromTerms('en', ['the', 'the'], [1, 1], [1, 1]));
    const decoded = readBytes(twice.encode());
    expect(() => decoded.index()).toThrow(/a term is stored twice/);
    expect(() => decoded.get('en')!.id('the')).toThrow(/a term is stored twice/);
  });

  it('finds every term of a large language, and a term stored twice anywhere in it', () => {
    // The lookup table is built by batches of terms: a term twice within one batch or in two
    // batches is refused alike, and every id is found again.
    const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`);
    const counts = words.map(() => 1);
    const all = LanguageTerms.fromTerms('en', words, counts, counts);
    all.index();
    for (let id = 0; id < words.length; id++) expect(all.id(words[id]!)).toBe(id);
    expect(all.id('absent')).toBe(-1);
    for (const [first, second] of [
      [70, 71],
      [5, 2900],
    ] as const) {
      const doubled = [...words];
      doubled[second] = doubled[first]!;
      const language = LanguageTerms.fromTerms('en', doubled, counts, counts);
      expect(() => language.index()).toThrow(/dictionary en: a term is stored twice/);
    }
  });
});
