/**
 * Word tokeniser shared by DF counting and the published lists (DESIGN §5).
 *
 * Policy, fixed by ANALYZER_VERSION:
 * - Word characters are Unicode letters and marks. A run that also contains a digit or an
 *   underscore (`mp3`, `3rd`, hashes, `snake_case`) is dropped whole: such runs are codes and
 *   identifiers, and their letter fragments would only add noise to the counts.
 * - Hyphens and dashes split words (`state-of-the-art` -> state, of, the, art). Keeping compounds
 *   whole would spread the counts of their parts over thousands of rare compounds, and the parts
 *   are what a stopword list is about.
 * - `'`, `’` and `ʼ` are one apostrophe, written `'`. In elision languages an apostrophe ends a
 *   token and stays on it (`l'homme` -> `l'`, `homme`); elsewhere it stays inside the word
 *   (`don't`). Leading and trailing apostrophes are quotes, not part of the word.
 * - A middle dot between letters is inside the word (Catalan `col·lecció`); soft hyphens are
 *   removed, since HTML extraction leaves them in the middle of words.
 * - URLs and e-mail addresses are skipped up to the next whitespace.
 * - Words longer than MAX_TOKEN_LENGTH code units are dropped; single letters are kept.
 * - Han, kana, Thai, Lao, Khmer and Myanmar runs go through Intl.Segmenter.
 */

import { CLASS_RUNS } from './char-classes.js';
import { FNV_OFFSET, FNV_PRIME, hashUnits, type UnitSink } from './term-table.js';

/** Bump whenever any input yields different tokens: published lists record it. */
export const ANALYZER_VERSION = 'tok-1';

const MAX_TOKEN_LENGTH = 40;

/**
 * Intl.Segmenter on Node 20 gets slower per character as its input grows (on a 110k-char
 * Japanese text: 3.1 Mchar/s with 128-char pieces, 1.9 at 2048, 0.3 at 32768; 32-64 are slower
 * again from per-call overhead). 128 sits at the flat bottom of that curve: a 200 KB Japanese or
 * Chinese document takes 50-60 ms.
 */
const SEGMENT_PIECE = 128;

/** Context a dictionary segmenter needs after a word to settle it; longer than most words. */
const SEGMENT_OVERLAP = 24;

const ELISION_LANGUAGES: ReadonlySet<string> = new Set(['fr', 'it', 'ca', 'ga']);

/** Words that are spelled with an apostrophe but are not an elided article or pronoun. */
const ELISION_EXCEPTIONS: ReadonlySet<string> = new Set([
  "aujourd'hui",
  "prud'homme",
  "prud'hommes",
  "presqu'île",
  "presqu'îles",
]);

// Character classes. Order matters: every class >= HAN is a script without spaces.
const OTHER = 0;
const SPACE = 1;
const LETTER = 2;
const DIGIT = 3;
const JOINER = 4;
const APOSTROPHE = 5;
const MIDDOT = 6;
const HIGH_SURROGATE = 7;
const HAN = 8;
const KANA = 9;
const THAI = 10;
const LAO = 11;
const KHMER = 12;
const MYANMAR = 13;

const SCRIPTS: ReadonlyArray<readonly [number, RegExp]> = [
  [HAN, /\p{scx=Han}/u],
  [KANA, /[\p{scx=Hiragana}\p{scx=Katakana}]/u],
  [THAI, /\p{scx=Thai}/u],
  [LAO, /\p{scx=Lao}/u],
  [KHMER, /\p{scx=Khmer}/u],
  [MYANMAR, /\p{scx=Myanmar}/u],
];

const WHITESPACE = /\s/u;
const NUMBER = /\p{N}/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;

/** Class of one code point by its Unicode properties; too slow for the scan loop itself. */
function classify(ch: string): number {
  if (WHITESPACE.test(ch)) return SPACE;
  if (NUMBER.test(ch)) return DIGIT;
  if (!LETTER_OR_MARK.test(ch)) return OTHER;
  for (const [cls, script] of SCRIPTS) {
    if (script.test(ch)) return cls;
  }
  return LETTER;
}

/**
 * The class of every BMP code unit from the running engine's Unicode data: 15-50 ms, the largest
 * part of loading this module in every thread of a run. The table in use is decoded from
 * `char-classes.ts` instead, which test/unit/char-classes.test.ts keeps equal to this one.
 */
export function computeClassTable(): Uint8Array {
  const table = new Uint8Array(0x10000);
  for (let c = 0; c < 0xd800; c++) table[c] = classify(String.fromCharCode(c));
  for (let c = 0xe000; c < 0x10000; c++) table[c] = classify(String.fromCharCode(c));
  table.fill(HIGH_SURROGATE, 0xd800, 0xdc00);
  table[0x5f] = JOINER;
  // prepare() has already rewritten ’ and ʼ to this one.
  table[0x27] = APOSTROPHE;
  table[0xb7] = MIDDOT;
  return table;
}

/**
 * `CLASS_RUNS` as a table: each run is a class (`A` + class) followed by its length in base 36,
 * the runs back to back, covering 0..0xFFFF in order.
 */
export function decodeClassRuns(runs: readonly string[]): Uint8Array {
  const table = new Uint8Array(0x10000);
  let at = 0;
  for (const line of runs) {
    for (const [, cls, length] of line.matchAll(/([A-Z])([0-9a-z]+)/g)) {
      const end = at + Number.parseInt(length!, 36);
      table.fill(cls!.charCodeAt(0) - 65, at, end);
      at = end;
    }
  }
  if (at !== 0x10000) throw new Error(`the character classes cover ${at} code units`);
  return table;
}

const CLASS = decodeClassRuns(CLASS_RUNS);

/** Supplementary-plane code points (Han extensions, historic scripts, emoji) are rare. */
const astralClasses = new Map<number, number>();

function astralClass(cp: number): number {
  let cls = astralClasses.get(cp);
  if (cls === undefined) {
    cls = classify(String.fromCodePoint(cp));
    astralClasses.set(cp, cls);
  }
  return cls;
}

/** Where `addTerms` puts words, each as a string of its own: a `Set`, or any object with `add`. */
export interface TermSink {
  add(term: string): unknown;
}

/**
 * The text being scanned, as UTF-16 code units: `units[0, unitsLength)`. One buffer, reused from
 * document to document: a sink copies what it keeps (`UnitSink`). Reading a typed array costs
 * about half of `charCodeAt` (a string's representation is checked on every call), and the scan,
 * the per-document table and the counting table all read every word's units.
 */
let units = new Uint16Array(1 << 14);
let unitBytes = Buffer.from(units.buffer);
let unitsLength = 0;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function growUnits(need: number): void {
  let size = units.length;
  while (size < need) size *= 2;
  units = new Uint16Array(size);
  unitBytes = Buffer.from(units.buffer);
}

/** Copies `s` into `units`, growing it as needed. */
function loadUnits(s: string): void {
  if (s.length > units.length) growUnits(s.length);
  if (LITTLE_ENDIAN) {
    unitBytes.write(s, 0, 'utf16le');
  } else {
    for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
  }
  unitsLength = s.length;
}

/** `u[start, end)` as a string. */
function unitString(u: Uint16Array, start: number, end: number): string {
  // Words and segmenter pieces are short: one call is faster than a TextDecoder.
  return String.fromCharCode.apply(null, u.subarray(start, end) as unknown as number[]);
}

/**
 * The unit at `i` of the text, or -1 past its end (where the text as a string would give NaN):
 * the scan reads one unit ahead in a few places, and the buffer holds older texts there.
 */
function unitAt(u: Uint16Array, i: number): number {
  return i < unitsLength ? u[i]! : -1;
}

/** Class of the character at i, resolving surrogate pairs; width 2 means a pair. */
function classAt(u: Uint16Array, i: number, end: number): number {
  const c = u[i]!;
  const cls = CLASS[c]!;
  if (cls !== HIGH_SURROGATE) return cls;
  const low = i + 1 < end ? u[i + 1]! : 0;
  if (low < 0xdc00 || low > 0xdfff) return OTHER;
  return astralClass(((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000);
}

function widthAt(u: Uint16Array, i: number): number {
  if (CLASS[u[i]!] !== HIGH_SURROGATE) return 1;
  const low = unitAt(u, i + 1);
  return low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
}

const NOT_WORD = 1;
const HAS_APOSTROPHE = 2;

function emit(u: Uint16Array, start: number, end: number, sink: UnitSink): void {
  if (end > start && end - start <= MAX_TOKEN_LENGTH) {
    sink.addUnits(u, start, end, hashUnits(u, start, end));
  }
}

const EXCEPTION_LENGTHS = [...ELISION_EXCEPTIONS].map((word) => word.length);
const SHORTEST_EXCEPTION = Math.min(...EXCEPTION_LENGTHS);
const LONGEST_EXCEPTION = Math.max(...EXCEPTION_LENGTHS);

function isElisionException(u: Uint16Array, start: number, end: number): boolean {
  const length = end - start;
  if (length < SHORTEST_EXCEPTION || length > LONGEST_EXCEPTION) return false;
  return ELISION_EXCEPTIONS.has(unitString(u, start, end));
}

function emitWithApostrophes(
  u: Uint16Array,
  start: number,
  end: number,
  elide: boolean,
  sink: UnitSink,
): void {
  while (start < end && CLASS[u[start]!] === APOSTROPHE) start++;
  while (end > start && CLASS[u[end - 1]!] === APOSTROPHE) end--;
  if (elide && isElisionException(u, start, end)) {
    emit(u, start, end, sink);
    return;
  }
  let pieceStart = start;
  let i = start;
  while (i < end) {
    if (CLASS[u[i]!] !== APOSTROPHE) {
      i++;
      continue;
    }
    let after = i + 1;
    // The word's last unit is not an apostrophe, so this stops before `end`.
    while (after < end && CLASS[u[after]!] === APOSTROPHE) after++;
    // Two or more in a row are quote marks (wiki ''italics''), never an elision.
    if (after - i > 1) {
      emit(u, pieceStart, i, sink);
      pieceStart = after;
    } else if (elide) {
      emit(u, pieceStart, i + 1, sink);
      pieceStart = after;
    }
    i = after;
  }
  emit(u, pieceStart, end, sink);
}

/** Scans letters, digits, underscores and apostrophes from start; returns where the run ends. */
function latinRun(
  u: Uint16Array,
  start: number,
  end: number,
  elide: boolean,
  sink: UnitSink,
): number {
  let flags = 0;
  let i = start;
  while (i < end) {
    const cls = CLASS[u[i]!]!;
    if (cls === LETTER) {
      i++;
    } else if (cls === APOSTROPHE) {
      flags |= HAS_APOSTROPHE;
      i++;
    } else if (cls === DIGIT || cls === JOINER) {
      flags |= NOT_WORD;
      i++;
    } else if (
      // Catalan ela geminada (col·lecció): the middle dot is inside the word.
      cls === MIDDOT &&
      i > start &&
      i + 1 < end &&
      CLASS[u[i - 1]!] === LETTER &&
      CLASS[u[i + 1]!] === LETTER
    ) {
      i += 2;
    } else if (cls === HIGH_SURROGATE) {
      const astral = classAt(u, i, end);
      if (astral === LETTER) i += 2;
      else if (astral === DIGIT) {
        flags |= NOT_WORD;
        i += 2;
      } else break;
    } else break;
  }
  if ((flags & NOT_WORD) === 0) {
    if ((flags & HAS_APOSTROPHE) === 0) emit(u, start, i, sink);
    else emitWithApostrophes(u, start, i, elide, sink);
  }
  return i;
}

const segmenters = new Map<string, Intl.Segmenter>();

function segmenterFor(locale: string): Intl.Segmenter {
  let segmenter = segmenters.get(locale);
  if (segmenter === undefined) {
    segmenter = new Intl.Segmenter(locale, { granularity: 'word' });
    segmenters.set(locale, segmenter);
  }
  return segmenter;
}

function localeFor(cls: number, hasKana: boolean, lang: string): string {
  switch (cls) {
    case HAN:
      if (lang === 'ja' || lang === 'zh') return lang;
      return hasKana ? 'ja' : 'zh';
    case THAI:
      return 'th';
    case LAO:
      return 'lo';
    case KHMER:
      return 'km';
    default:
      return 'my';
  }
}

/** A segmenter's word, copied into units of its own for the sink. */
const segmentUnits = new Uint16Array(MAX_TOKEN_LENGTH);

function emitSegment(segment: Intl.SegmentData, sink: UnitSink): void {
  const word = segment.segment;
  if (segment.isWordLike === true && word.length <= MAX_TOKEN_LENGTH) {
    for (let i = 0; i < word.length; i++) segmentUnits[i] = word.charCodeAt(i);
    sink.addUnits(segmentUnits, 0, word.length, hashUnits(segmentUnits, 0, word.length));
  }
}

/**
 * Segments a run of one spaceless script in bounded pieces. Dictionary segmentation near a
 * piece's cut sees a truncated context, so only segments ending SEGMENT_OVERLAP or more before
 * the cut are kept and the next piece starts at the first segment that was not; a single
 * segment as long as a whole piece is the only thing ever split.
 */
function segmentRun(
  u: Uint16Array,
  start: number,
  end: number,
  lang: string,
  sink: UnitSink,
): number {
  const first = classAt(u, start, end);
  const group = first === KANA ? HAN : first;
  let hasKana = first === KANA;
  let runEnd = start;
  while (runEnd < end) {
    const cls = classAt(u, runEnd, end);
    if ((cls === KANA ? HAN : cls) !== group) break;
    if (cls === KANA) hasKana = true;
    runEnd += widthAt(u, runEnd);
  }
  const segmenter = segmenterFor(localeFor(group, hasKana, lang));
  let pieceStart = start;
  while (pieceStart < runEnd) {
    if (runEnd - pieceStart <= SEGMENT_PIECE) {
      for (const segment of segmenter.segment(unitString(u, pieceStart, runEnd))) {
        emitSegment(segment, sink);
      }
      break;
    }
    let pieceEnd = pieceStart + SEGMENT_PIECE;
    if (widthAt(u, pieceEnd - 1) === 2) pieceEnd--;
    const keepBefore = pieceEnd - pieceStart - SEGMENT_OVERLAP;
    let restart = 0;
    const segments = segmenter.segment(unitString(u, pieceStart, pieceEnd));
    for (const segment of segments) {
      if (segment.index + segment.segment.length > keepBefore) {
        restart = segment.index;
        break;
      }
      emitSegment(segment, sink);
    }
    if (restart === 0) {
      for (const segment of segments) emitSegment(segment, sink);
      restart = pieceEnd - pieceStart;
    }
    pieceStart += restart;
  }
  return runEnd;
}

function scanRange(u: Uint16Array, start: number, end: number, lang: string, sink: UnitSink): void {
  const elide = ELISION_LANGUAGES.has(lang);
  let i = start;
  while (i < end) {
    const cls = CLASS[u[i]!]!;
    if (cls === LETTER) {
      // Fast path for the common word: letters up to a space, punctuation or a spaceless
      // script, which latinRun would end the same way. Anything it treats specially
      // (apostrophe, digit, underscore, middle dot, surrogate) hands the run to latinRun.
      // The word's hashUnits is computed on the way, so that the sink need not read it again.
      let h = Math.imul(FNV_OFFSET ^ u[i]!, FNV_PRIME);
      let j = i + 1;
      let next = SPACE;
      while (j < end) {
        const c = u[j]!;
        next = CLASS[c]!;
        if (next !== LETTER) break;
        h = Math.imul(h ^ c, FNV_PRIME);
        j++;
      }
      if (j === end || next === SPACE || next === OTHER || next >= HAN) {
        if (j - i <= MAX_TOKEN_LENGTH) sink.addUnits(u, i, j, h);
        i = j;
      } else {
        i = latinRun(u, i, end, elide, sink);
      }
    } else if (cls === APOSTROPHE || cls === DIGIT || cls === JOINER) {
      i = latinRun(u, i, end, elide, sink);
    } else if (cls >= HAN) {
      i = segmentRun(u, i, end, lang, sink);
    } else if (cls === HIGH_SURROGATE) {
      const astral = classAt(u, i, end);
      if (astral >= HAN) i = segmentRun(u, i, end, lang, sink);
      else if (astral === LETTER || astral === DIGIT) i = latinRun(u, i, end, elide, sink);
      else i += widthAt(u, i);
    } else {
      i++;
    }
  }
}

function isLetterOrDigit(s: string, i: number): boolean {
  const cls = CLASS[s.charCodeAt(i)];
  return cls === LETTER || cls === DIGIT;
}

/** Whether a whitespace-delimited chunk is a URL (`://`, `www.`) or an e-mail (`x@y.z`). */
function isLink(chunk: string): boolean {
  if (chunk.includes('://')) return true;
  const www = chunk.indexOf('www.');
  if (www >= 0 && www + 4 < chunk.length && (www === 0 || !isLetterOrDigit(chunk, www - 1))) {
    return true;
  }
  const at = chunk.indexOf('@');
  if (at > 0) {
    const dot = chunk.indexOf('.', at + 2);
    if (dot >= 0 && isLetterOrDigit(chunk, dot + 1)) return true;
  }
  return false;
}

const LINK_MARKERS = ['://', 'www.', '@'] as const;

/**
 * Scans around URL and e-mail chunks; only texts containing a marker pay for this. `s` is the
 * text whose units are `u`.
 */
function scanSkippingLinks(s: string, u: Uint16Array, lang: string, sink: UnitSink): void {
  // Next occurrence of each marker, refreshed only once passed, so the search stays linear.
  const next = LINK_MARKERS.map((needle) => s.indexOf(needle));
  let scanned = 0;
  let from = 0;
  for (;;) {
    let marker = -1;
    for (let k = 0; k < next.length; k++) {
      let at = next[k]!;
      if (at >= 0 && at < from) {
        at = s.indexOf(LINK_MARKERS[k]!, from);
        next[k] = at;
      }
      if (at >= 0 && (marker < 0 || at < marker)) marker = at;
    }
    if (marker < 0) break;
    let chunkStart = marker;
    while (chunkStart > scanned && CLASS[s.charCodeAt(chunkStart - 1)] !== SPACE) chunkStart--;
    let chunkEnd = marker;
    while (chunkEnd < s.length && CLASS[s.charCodeAt(chunkEnd)] !== SPACE) chunkEnd++;
    if (isLink(s.slice(chunkStart, chunkEnd))) {
      scanRange(u, scanned, chunkStart, lang, sink);
      scanned = chunkEnd;
    }
    from = chunkEnd + 1;
  }
  scanRange(u, scanned, s.length, lang, sink);
}

/** Nothing below U+0300 composes or decomposes under NFC, so most Latin text skips it. */
const MAY_NEED_NFC = /[^\u0000-\u02ff]/;

/** What the tokeniser scans of a text: NFC, lower case, one apostrophe, no soft hyphens. */
function prepare(text: string, lang: string): string {
  let s = MAY_NEED_NFC.test(text) ? text.normalize('NFC') : text;
  s = lang === 'tr' || lang === 'az' ? s.toLocaleLowerCase('tr') : s.toLowerCase();
  if (s.indexOf('\u2019') >= 0 || s.indexOf('\u02bc') >= 0) s = s.replace(/[\u2019\u02bc]/g, "'");
  if (s.indexOf('\u00ad') >= 0) s = s.replaceAll('\u00ad', '');
  return s;
}

function run(text: string, lang: string, sink: UnitSink): void {
  const s = prepare(text, lang);
  loadUnits(s);
  if (s.indexOf('://') < 0 && s.indexOf('www.') < 0 && s.indexOf('@') < 0) {
    scanRange(units, 0, s.length, lang, sink);
  } else {
    scanSkippingLinks(s, units, lang, sink);
  }
}

/**
 * Texts decoded straight from their UTF-8 bytes (`prepareJsonText`) are those whose every
 * character takes one or two bytes of UTF-8 (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic
 * and a few more) or lies in General Punctuation: for them
 * the tables below say what `prepare` makes of each one alone. Anything else goes through
 * `prepare`.
 */
const DIRECT_LIMIT = 0x800;
const PUNCTUATION_START = 0x2000;
const PUNCTUATION_END = 0x2070;
/** In the tables below: the character must go through `prepare`. */
const NEEDS_PREPARE = -1;
/** In the tables below: `prepare` removes the character (the soft hyphen). */
const REMOVED = -2;
const MARK = /\p{M}/u;

/**
 * What `prepare` makes of the character `c` in a text for any language but Turkish and
 * Azerbaijani, when that does not depend on its neighbours: its lower case, one code unit, with
 * the apostrophes rewritten. `NEEDS_PREPARE` for a character that NFC could change or combine
 * (a mark, or one with a different normal form), for the capital sigma (its lower case depends
 * on what follows) and for one whose lower case is not one code unit (`İ`). A text made only of
 * characters this prepares is its own NFC (no mark to compose or reorder, no character NFC
 * replaces), so it is prepared character by character.
 */
function directUnit(c: number): number {
  if (c === 0x00ad) return REMOVED;
  if (c === 0x2019 || c === 0x02bc) return 0x27;
  if (c === 0x03a3) return NEEDS_PREPARE;
  const ch = String.fromCharCode(c);
  if (c >= 0x300 && (MARK.test(ch) || ch.normalize('NFC') !== ch)) return NEEDS_PREPARE;
  const lower = ch.toLowerCase();
  return lower.length === 1 ? lower.charCodeAt(0) : NEEDS_PREPARE;
}

const DIRECT = Int32Array.from({ length: DIRECT_LIMIT }, (_, c) => directUnit(c));
/**
 * The prepared unit of each byte `prepareJsonText` copies without a second look, -1 for the
 * others: printable ASCII but the quote, the backslash and the last units of the link markers
 * (`/`, `.`, `@`).
 */
const PLAIN = Int16Array.from({ length: 256 }, (_, b) =>
  b >= 0x20 && b < 0x80 && b !== 0x22 && b !== 0x5c && b !== 0x2f && b !== 0x2e && b !== 0x40
    ? DIRECT[b]!
    : -1,
);
const DIRECT_PUNCTUATION = Int32Array.from(
  { length: PUNCTUATION_END - PUNCTUATION_START },
  (_, k) => directUnit(PUNCTUATION_START + k),
);

/**
 * After `prepareJsonText` succeeds: where its literal ends (past the closing quote), how many
 * bytes of UTF-8 the text it decoded takes, and whether the prepared text holds a link marker
 * (`://`, `www.`, `@`). Module state, like `varintEnd`, to save an object per document.
 */
export let preparedEnd = 0;
export let preparedBytes = 0;
export let preparedLinks = false;

/** Bytes of UTF-8 that encode the (non-surrogate) code unit `c`. */
function utf8Length(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
}

/** The value of four hexadecimal digits at `bytes[at]`, or -1. */
function hex4(bytes: Uint8Array, at: number): number {
  let value = 0;
  for (let i = at; i < at + 4; i++) {
    const b = bytes[i]!;
    const digit =
      b >= 0x30 && b <= 0x39
        ? b - 0x30
        : (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66
          ? (b | 0x20) - 0x57
          : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * Decodes the JSON string literal that starts at `bytes[at]` (just past its opening quote; the
 * bytes up to `end` are valid UTF-8) straight into the text `prepare` would make of it for any
 * language but Turkish and Azerbaijani, in the units `addPreparedTermRanges` scans, without a
 * string: decoding, parsing, normalising and lower-casing a document's text as strings cost
 * about as much as tokenising it. Returns the number of units, the literal's end and the text's
 * size in `preparedEnd` and `preparedBytes`; or -1 when the text has a character `directUnit`
 * leaves to `prepare` (or one above U+FFFF), an escape of a surrogate, or is not a valid JSON
 * string before `end`: the caller then parses the line and prepares the text as a string.
 */
export function prepareJsonText(bytes: Uint8Array, at: number, end: number): number {
  return prepareBytes(bytes, at, end, true);
}

/**
 * `prepareJsonText` of the text that is the valid UTF-8 `bytes[at, end)` as it is (a BSON
 * string's bytes), without escapes: the text ends at `end`.
 */
export function prepareUtf8Text(bytes: Uint8Array, at: number, end: number): number {
  return prepareBytes(bytes, at, end, false);
}

function prepareBytes(bytes: Uint8Array, at: number, end: number, json: boolean): number {
  if (end - at > units.length) growUnits(end - at);
  const u = units;
  let n = 0;
  // Bytes of escapes beyond the UTF-8 of the characters they stand for.
  let escaped = 0;
  let links = false;
  let i = at;
  for (;;) {
    // Most bytes are plain ASCII: PLAIN gives their prepared unit.
    let b = bytes[i]!;
    let plain = PLAIN[b]!;
    while (plain >= 0 && i < end) {
      u[n++] = plain;
      b = bytes[++i]!;
      plain = PLAIN[b]!;
    }
    // Then two-byte characters (Latin accents, Greek, Cyrillic), prepared by DIRECT alone.
    while (b >= 0xc2 && b < 0xe0 && i < end) {
      const p = DIRECT[((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f)]!;
      i += 2;
      if (p >= 0) u[n++] = p;
      else if (p !== REMOVED) return -1;
      b = bytes[i]!;
    }
    if (i >= end) {
      if (json) return -1;
      preparedEnd = end;
      preparedBytes = end - at;
      preparedLinks = links;
      return n;
    }
    if (PLAIN[b]! >= 0) continue;
    let c: number;
    if (!json && b < 0x80) {
      c = b;
      i++;
    } else if (b === 0x22) {
      preparedEnd = i + 1;
      preparedBytes = i - at - escaped;
      preparedLinks = links;
      return n;
    } else if (b === 0x5c) {
      const e = bytes[i + 1];
      if (e === 0x6e) c = 0x0a;
      else if (e === 0x22 || e === 0x5c || e === 0x2f) c = e;
      else if (e === 0x74) c = 0x09;
      else if (e === 0x72) c = 0x0d;
      else if (e === 0x62) c = 0x08;
      else if (e === 0x66) c = 0x0c;
      else if (e === 0x75 && i + 6 <= end) {
        c = hex4(bytes, i + 2);
        if (c < 0 || (c >= 0xd800 && c < 0xe000)) return -1;
        i += 4;
        escaped += 4;
      } else return -1;
      i += 2;
      escaped += 2 - utf8Length(c);
    } else if (b < 0x80) {
      // A raw control character is not allowed in a JSON string.
      if (b < 0x20) return -1;
      c = b;
      i++;
    } else if (b < 0xe0) {
      c = ((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
      i += 2;
    } else if (b < 0xf0) {
      c = ((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      i += 3;
    } else {
      return -1;
    }
    const p =
      c < DIRECT_LIMIT
        ? DIRECT[c]!
        : c >= PUNCTUATION_START && c < PUNCTUATION_END
          ? DIRECT_PUNCTUATION[c - PUNCTUATION_START]!
          : NEEDS_PREPARE;
    if (p < 0) {
      if (p === REMOVED) continue;
      return -1;
    }
    u[n++] = p;
    // The markers `run` looks for, found as their last unit is written.
    if (p === 0x40) links = true;
    else if (p === 0x2f) links ||= n >= 3 && u[n - 2] === 0x2f && u[n - 3] === 0x3a;
    else if (p === 0x2e) {
      links ||= n >= 4 && u[n - 2] === 0x77 && u[n - 3] === 0x77 && u[n - 4] === 0x77;
    }
  }
}

/**
 * `addTermRanges` of the text the last `prepareJsonText` decoded, `length` units with link
 * markers when `links` (its `preparedLinks`), for a language other than Turkish and
 * Azerbaijani. Nothing else may use the tokeniser in between.
 */
export function addPreparedTermRanges(
  length: number,
  links: boolean,
  lang: string,
  sink: UnitSink,
): void {
  unitsLength = length;
  if (!links) scanRange(units, 0, length, lang, sink);
  else scanSkippingLinks(unitBytes.toString('utf16le', 0, 2 * length), units, lang, sink);
}

/** Whether `prepareJsonText` prepares texts as `prepare` does for `lang`. */
export function preparesDirectly(lang: string): boolean {
  return lang !== 'tr' && lang !== 'az';
}

/**
 * Reports every word of text to `sink` as a range of the prepared (normalised, lower-cased)
 * text's code units, once per occurrence, without making a string of it: the hot path of
 * counting.
 */
export function addTermRanges(text: string, lang: string, sink: UnitSink): void {
  run(text, lang, sink);
}

/** Adds every word of text to out, once per occurrence, as a string of its own. */
export function addTerms(text: string, lang: string, out: TermSink): void {
  run(text, lang, {
    addUnits(u: Uint16Array, start: number, end: number): void {
      out.add(unitString(u, start, end));
    },
  });
}

/** Every word of text in order, repeats included. */
export function tokenize(text: string, lang: string): string[] {
  const words: string[] = [];
  addTerms(text, lang, { add: (term: string) => words.push(term) });
  return words;
}

const LANGUAGE_TAG = /^([a-z]{2,3})(?:-[a-z0-9]{1,8})*$/;

/**
 * Language variants kept apart from their primary language: lower-case tag -> the tag as
 * configured (`pt-BR`). A document tagged with a variant or a more specific tag (`zh-Hant-TW`
 * for `zh-Hant`) is counted under the variant.
 */
export type LanguageVariants = ReadonlyMap<string, string>;

export function languageVariants(tags: readonly string[]): LanguageVariants {
  return new Map(tags.map((tag) => [tag.toLowerCase(), tag]));
}

/**
 * Primary language subtag of a BCP-47-like value (`en-US` -> `en`), or the longest configured
 * variant it falls under; anything unusable becomes `und`.
 */
export function normalizeLanguage(
  value: unknown,
  variants?: LanguageVariants,
): {
  lang: string;
  problem: null | 'missing' | 'invalid';
} {
  if (value === undefined || value === null) return { lang: 'und', problem: 'missing' };
  if (typeof value !== 'string') return { lang: 'und', problem: 'invalid' };
  const tag = value.trim().toLowerCase().replaceAll('_', '-');
  if (tag === '') return { lang: 'und', problem: 'missing' };
  const match = LANGUAGE_TAG.exec(tag);
  if (match === null) return { lang: 'und', problem: 'invalid' };
  if (variants !== undefined && variants.size > 0) {
    // Longest prefix first: `zh-hant-tw`, then `zh-hant`.
    for (let end = tag.length; end > match[1]!.length; end = tag.lastIndexOf('-', end - 1)) {
      const variant = variants.get(tag.slice(0, end));
      if (variant !== undefined) return { lang: variant, problem: null };
    }
  }
  return { lang: match[1]!, problem: null };
}
