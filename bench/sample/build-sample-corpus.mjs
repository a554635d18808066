#!/usr/bin/env node
// Builds bench/sample/corpus.ndjson from the translated Debian man pages installed on this machine.
//
//   node bench/sample/build-sample-corpus.mjs [--out FILE] [--per-language N] [--man-root DIR]
//   node bench/sample/build-sample-corpus.mjs --check [--out FILE]   # validate and count only
//
// The output depends only on the installed manpages-* packages and groff: file lists are sorted,
// then shuffled by a PRNG seeded from the language code, so a rebuild on the same Debian release
// gives the same bytes.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { mulberry32 } from '../lib/random.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(HERE, 'corpus.ndjson') },
    'per-language': { type: 'string', default: '308' },
    'man-root': { type: 'string', default: '/usr/share/man' },
    tombstones: { type: 'string', default: '20' },
    check: { type: 'boolean', default: false },
  },
});

const PER_LANGUAGE = Number(args['per-language']);
const TOMBSTONES = Number(args.tombstones);
const MAN_ROOT = args['man-root'];
const MAX_CHARS = 2000;
// At most this many documents per man page and pages per family (`gcloud_*`, `git-*`, `dpkg-*`),
// so each language's sample spans many pages and tools instead of one generated reference whose
// own vocabulary would fill the top of the DF list.
const MAX_DOCS_PER_PAGE = 6;
const MAX_PAGES_PER_FAMILY = 3;

const WINDOW_START = Date.parse('2026-10-01T00:00:00.000Z');
const WINDOW_END = Date.parse('2026-11-28T00:00:00.000Z');

// Function words decide whether a Latin-script paragraph is in the page's language: translated
// pages keep untranslated English paragraphs, and those must not be labelled as another language.
const FUNCTION_WORDS = {
  en: 'the of and to is in that for this with are be by not or it as an on from which can if',
  de: 'der die das und ist nicht sie mit den für ein eine von zu auf wird werden des dem oder auch wenn bei',
  fr: 'le la les des est et une un du pour dans que pas par sur qui sont ou au ce cette être avec',
  es: 'el la los las del que es en una un por para se con no como más al su pero está son lo',
  it: 'il la di che è non per un una del della le dei gli con sono da al nel questo come se',
  pl: 'i w nie na jest się z do że to o jak przez jeśli lub oraz dla po być są ten może',
  pt: 'o a os as de do da dos das que é em um uma para não com por se no na ao mais são',
  tr: 've bir bu için ile olarak da de olan veya gibi ise daha çok eğer ya her değil kadar',
  nl: 'de het een van en is dat niet in op te voor met zijn wordt worden als ook door bij aan',
};
const FUNCTION_SETS = Object.fromEntries(
  Object.entries(FUNCTION_WORDS).map(([code, words]) => [code, new Set(words.split(' '))]),
);

const LANGUAGES = [
  { code: 'en', dir: '.', sections: ['man1', 'man5', 'man7', 'man8'], script: 'latin' },
  { code: 'de', dir: 'de', script: 'latin' },
  { code: 'fr', dir: 'fr', script: 'latin' },
  { code: 'es', dir: 'es', script: 'latin' },
  { code: 'it', dir: 'it', script: 'latin' },
  { code: 'pl', dir: 'pl', script: 'latin' },
  { code: 'ru', dir: 'ru', script: 'cyrillic' },
  { code: 'pt', dir: 'pt_BR', script: 'latin' },
  { code: 'ja', dir: 'ja', script: 'ja' },
  { code: 'zh', dir: 'zh_CN', script: 'zh' },
  { code: 'tr', dir: 'tr', script: 'latin' },
  { code: 'nl', dir: 'nl', script: 'latin' },
  { code: 'uk', dir: 'uk', script: 'cyrillic' },
];

// Sections whose text is names, command syntax, cross references or per-page boilerplate
// (translator credits, licence notes, bug-report addresses). Repeated on every page, they would
// turn names and e-mail words into "stopwords" of the sample.
const SKIPPED_SECTIONS = new RegExp(
  '^(' +
    [
      'NAME',
      'SYNOPSIS',
      'SEE ALSO',
      'AUTHORS?',
      'COPYRIGHT',
      'REPORTING BUGS',
      'COLOPHON',
      'LICENSE',
      'TRANSLATION',
      'BEZEICHNUNG',
      'ÜBERSICHT',
      'SIEHE AUCH',
      'ÜBERSETZUNG',
      'AUTORE?N?',
      'FEHLER MELDEN',
      'KOLOPHON',
      'NOM',
      'VOIR AUSSI',
      'AUTEURS?',
      'TRADUCTION',
      'TRADUCTEURS?',
      'SIGNALER DES BOGUES',
      'NOMBRE',
      'SINOPSIS',
      'VÉASE TAMBIÉN',
      'TRADUCCIÓN',
      'TRADUCTOR(ES)?',
      'INFORMAR DE ERRORES',
      'NOME',
      'SINTASSI',
      'SINOSSI',
      'VEDERE ANCHE',
      'TRADUZIONE',
      'AUTORI',
      'NAZWA',
      'SKŁADNIA',
      'ZOBACZ TAKŻE',
      'TŁUMACZENIE',
      'ZGŁASZANIE BŁĘDÓW',
      'PRAWA AUTORSKIE',
      'ИМЯ',
      'НАЗВАНИЕ',
      'СИНТАКСИС',
      'ОБЗОР',
      'СМОТРИТЕ ТАКЖЕ',
      'СМ\\. ТАКЖЕ',
      'ПЕРЕВОД',
      'АВТОРЫ?',
      'АВТОРСКИЕ ПРАВА',
      'SINOPSE',
      'VEJA TAMBÉM',
      'TRADUÇÃO',
      'RELATANDO PROBLEMAS',
      'DIREITOS AUTORAIS',
      '名前',
      '書式',
      '関連項目',
      '著作権',
      '著者',
      '作者',
      'バグ報告',
      '翻訳者?',
      '名称',
      '概述',
      '总览',
      'SYNOPSIS 总览',
      '参见',
      '跋',
      '版权',
      '报告错误',
      '\\[中文版',
      '《中国linux',
      'İSİM',
      'KULLANIM',
      'İLGİLİ BELGELER',
      'ÇEVİREN',
      'YAZAN',
      'TELİF HAKKI',
      'GERİBİLDİRİM',
      'NAAM',
      'SAMENVATTING',
      'OVERZICHT',
      'ZIE OOK',
      'VERTALING',
      'RAPPORTEREN VAN BUGS',
      'НАЗВА',
      'КОРОТКИЙ ОПИС',
      'ДИВ\\. ТАКОЖ',
      'ПЕРЕКЛАД',
      'ЗВІТИ ПРО ВАДИ',
      'АВТОРСЬКІ ПРАВА',
    ].join('|') +
    ')\\s*$',
  'u',
);

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function shuffle(items, random) {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function listPages(lang) {
  const base = path.join(MAN_ROOT, lang.dir);
  const sections = (lang.sections ?? readdirSync(base).filter((d) => /^man\d/.test(d))).sort();
  const seen = new Set();
  const pages = [];
  for (const section of sections) {
    const dir = path.join(base, section);
    let names;
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.gz')) continue;
      const file = path.join(dir, name);
      let real;
      try {
        real = realpathSync(file);
        if (!statSync(real).isFile()) continue;
      } catch {
        continue;
      }
      // Symlinked aliases would otherwise render the same page several times.
      if (seen.has(real)) continue;
      seen.add(real);
      pages.push({ file: real, page: name.replace(/\.gz$/, '') });
    }
  }
  return pages;
}

function familyOf(page) {
  return page.split(/[-_.]/)[0].toLowerCase();
}

function render(file) {
  const source = gunzipSync(readFileSync(file));
  // `.so` stubs only point at another page, which is listed on its own.
  if (/^\.so\s/m.test(source.subarray(0, 512).toString('latin1'))) return null;
  const result = spawnSync(
    'groff',
    ['-k', '-t', '-Kutf-8', '-Tutf8', '-mandoc', '-P-cbou', '-rLL=2000n', '-rHY=0'],
    {
      input: source,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30_000,
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    },
  );
  if (result.status !== 0 || !result.stdout) return null;
  return result.stdout.toString('utf8');
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

function joinLines(lines) {
  let text = '';
  for (const line of lines) {
    if (text === '') {
      text = line;
      continue;
    }
    // A CJK line break is not a word boundary; inserting a space there would split words.
    const glue = CJK.test(text.at(-1)) && CJK.test(line[0]) ? '' : ' ';
    text += glue + line;
  }
  return text;
}

function cleanText(text) {
  return text
    .normalize('NFC')
    .replace(/[\u2010\u2011\u2212]/g, '-')
    .replace(/\u00ad/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

// Splits rendered output into sections of paragraphs, dropping option tags: with a 2000-column
// line length every filled paragraph is one line, and a tagged paragraph puts its tag on a line
// of its own (or in front of the text, separated by a wide gap).
function parsePage(output) {
  const lines = output
    .replace(/.\x08/g, '')
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n');
  const nonBlank = lines.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
  if (nonBlank.length < 3) return [];
  const body = lines.slice(nonBlank[0] + 1, nonBlank.at(-1));
  const sections = [];
  let section = null;
  let block = [];
  const flush = () => {
    if (section && block.length) section.blocks.push(block);
    block = [];
  };
  for (const raw of body) {
    const line = raw.replace(/\s+$/, '');
    if (line === '') {
      flush();
      continue;
    }
    if (!/^\s/.test(line)) {
      flush();
      section = { heading: line.trim(), blocks: [] };
      sections.push(section);
      continue;
    }
    const indent = line.length - line.trimStart().length;
    block.push({ indent, text: line.trim() });
  }
  flush();
  return sections.map((s) => ({
    heading: s.heading,
    paragraphs: s.blocks.map(blockText).filter(Boolean),
  }));
}

function blockText(block) {
  // With this line length a filled paragraph is a line or two; a block of many short lines is a
  // table, a list or verbatim text.
  if (block.length > 3) {
    const lengths = block.map((l) => l.text.length).sort((a, b) => a - b);
    if (lengths[Math.floor(lengths.length / 2)] < 100) return '';
  }
  let lines = block;
  if (lines.length > 1 && lines[0].indent < lines[1].indent && lines[0].text.length < 100) {
    lines = lines.slice(1);
  }
  const first = lines[0].text.replace(/^[-+][^\s]*(?:,? [-+]\S*)*(?:\s{2,}|$)/, '');
  return cleanText(joinLines([first, ...lines.slice(1).map((l) => l.text)].filter(Boolean)));
}

function countMatches(text, re) {
  return text.match(re)?.length ?? 0;
}

function isProse(text, lang) {
  if (text.length < 20) return false;
  if (text.includes('\uFFFD')) return false;
  const visible = text.replace(/\s/g, '').length;
  const letters = countMatches(text, /\p{L}/gu);
  // Mostly-symbol paragraphs are code, option tables or paths, not language.
  if (letters / visible < 0.78) return false;
  // Prose has punctuation; term-and-definition tables and keyword lists mostly do not.
  if (countMatches(text, /[.!?;:,。、，；：！？]/gu) < text.length / (CJK.test(text) ? 120 : 250)) {
    return false;
  }
  if (lang.script === 'ja' || lang.script === 'zh') {
    const han = countMatches(text, /\p{Script=Han}/gu);
    const kana = countMatches(text, /[\p{Script=Hiragana}\p{Script=Katakana}]/gu);
    if (han + kana < 12 || (han + kana) / letters < 0.6) return false;
    // Hiragana is what sets Japanese prose apart from Chinese, and its absence the reverse.
    if (lang.script === 'ja') return kana / (han + kana) > 0.2;
    return kana === 0;
  }
  const words = text.toLowerCase().match(/\p{L}+(?:['’]\p{L}+)*/gu) ?? [];
  if (words.length < 5) return false;
  if (lang.script === 'cyrillic') {
    const cyrillic = countMatches(text, /\p{Script=Cyrillic}/gu);
    if (cyrillic / letters < 0.7) return false;
    // Letters only one of the two languages uses keep stray Russian out of the Ukrainian sample.
    if (lang.code === 'uk') return !/[ыэъё]/iu.test(text);
    return !/[іїєґ]/iu.test(text);
  }
  const latin = countMatches(text, /\p{Script=Latin}/gu);
  if (latin / letters < 0.95) return false;
  const score = (code) => words.filter((w) => FUNCTION_SETS[code].has(w)).length / words.length;
  const own = score(lang.code);
  if (own < 0.06) return false;
  // The page's language must beat every other candidate, English above all.
  for (const code of Object.keys(FUNCTION_SETS)) {
    if (code !== lang.code && score(code) > own) return false;
  }
  return true;
}

// Long paragraphs are cut at sentence ends so every document stays at most MAX_CHARS.
function splitLong(text) {
  if (text.length <= MAX_CHARS) return [text];
  const sentences = text.match(/[^.!?。！？]+(?:[.!?。！？]+["'”»)]*\s*|$)/gu) ?? [text];
  const pieces = [];
  let current = '';
  for (const sentence of sentences) {
    if (current && current.length + sentence.length > MAX_CHARS) {
      pieces.push(current.trim());
      current = '';
    }
    current += sentence;
  }
  if (current.trim()) pieces.push(current.trim());
  return pieces.flatMap(splitAtSpaces);
}

// A run-on "sentence" longer than a document is cut at the last space that fits.
function splitAtSpaces(text) {
  const out = [];
  let rest = text;
  while (rest.length > MAX_CHARS) {
    const cut = rest.lastIndexOf(' ', MAX_CHARS);
    const at = cut > MAX_CHARS / 2 ? cut : MAX_CHARS;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}

function joinParagraphs(a, b) {
  if (!a) return b;
  return CJK.test(a.at(-1)) && CJK.test(b[0]) ? a + b : `${a} ${b}`;
}

// Man-page paragraphs are often a sentence or two; consecutive prose paragraphs of one section
// are merged until a document reaches a realistic size. CJK text carries about a word per
// character, so its minimum is lower.
function documentsOfPage(sections, lang, seenParagraphs, random) {
  const cjk = lang.script === 'ja' || lang.script === 'zh';
  // A target size drawn per document gives a spread of lengths instead of a pile at the minimum.
  const nextMin = () => Math.round((cjk ? 150 : 300) * (1 + random() * 2));
  let minChars = nextMin();
  const docs = [];
  for (const section of sections) {
    if (SKIPPED_SECTIONS.test(section.heading)) continue;
    let buffer = '';
    const emit = (force) => {
      if (buffer.length >= minChars || (force && buffer.length >= (cjk ? 105 : 210))) {
        docs.push(cleanText(buffer));
        minChars = nextMin();
      }
      buffer = '';
    };
    for (const paragraph of section.paragraphs) {
      if (!isProse(paragraph, lang)) continue;
      // Boilerplate shared between pages (licence blurbs, "full documentation at ...") would
      // dominate document frequencies; keep only its first occurrence.
      const key = paragraph.toLowerCase().replace(/\d+/g, '0');
      if (seenParagraphs.has(key)) continue;
      seenParagraphs.add(key);
      for (const piece of splitLong(paragraph)) {
        if (buffer && buffer.length + piece.length + 1 > MAX_CHARS) emit(true);
        buffer = joinParagraphs(buffer, piece);
        if (buffer.length >= minChars) emit(false);
      }
    }
    emit(true);
  }
  return docs;
}

function build() {
  const documents = [];
  for (const lang of LANGUAGES) {
    const random = mulberry32(fnv1a(`sample:${lang.code}`));
    const pages = shuffle(listPages(lang), random);
    const seenParagraphs = new Set();
    const pagesPerFamily = new Map();
    const deferred = [];
    let count = 0;
    const take = ({ file, page }) => {
      const output = render(file);
      if (!output) return;
      const texts = documentsOfPage(parsePage(output), lang, seenParagraphs, random).slice(
        0,
        Math.min(MAX_DOCS_PER_PAGE, PER_LANGUAGE - count),
      );
      if (texts.length === 0) return;
      const family = familyOf(page);
      pagesPerFamily.set(family, (pagesPerFamily.get(family) ?? 0) + 1);
      // All documents of a page are imported close together; pairs share a timestamp so that
      // consumers paging by (updatedAt, _id) meet real ties.
      const span = (WINDOW_END - WINDOW_START) / 1000 - 3600;
      const base = WINDOW_START + Math.floor(random() * span) * 1000;
      const pageId = page.replace(/[^\p{L}\p{N}._+-]/gu, '_');
      texts.forEach((text, n) => {
        let tag = lang.code;
        const r = random();
        // A few region-qualified tags exercise language-code normalisation downstream.
        if (lang.code === 'pt' && r < 0.1) tag = 'pt-BR';
        if (lang.code === 'en' && r < 0.05) tag = 'en-US';
        documents.push({
          _id: `${lang.code}-${pageId}-${n}`,
          lang: tag,
          text,
          updatedAtMs: base + Math.floor(n / 2) * 1000,
        });
      });
      count += texts.length;
    };
    for (const entry of pages) {
      if (count >= PER_LANGUAGE) break;
      if ((pagesPerFamily.get(familyOf(entry.page)) ?? 0) >= MAX_PAGES_PER_FAMILY) {
        deferred.push(entry);
        continue;
      }
      take(entry);
    }
    // Languages with few translated pages may need more of one family to reach the target.
    for (const entry of deferred) {
      if (count >= PER_LANGUAGE) break;
      take(entry);
    }
    process.stderr.write(`${lang.code}: ${count} documents from ${pages.length} pages listed\n`);
  }

  const ids = new Set();
  for (const doc of documents) {
    if (ids.has(doc._id)) throw new Error(`duplicate id ${doc._id}`);
    ids.add(doc._id);
  }

  // Tombstones: soft-deleted documents whose updatedAt moved with the deletion, as a soft delete
  // must for a delta run to see it. Picked evenly over the id-sorted list, so every language
  // gets some.
  const random = mulberry32(fnv1a('sample:tombstones'));
  const byId = documents.slice().sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const stride = byId.length / TOMBSTONES;
  for (let i = 0; i < TOMBSTONES; i++) {
    const doc = byId[Math.floor(i * stride + random() * stride)];
    const later = Math.floor((random() * (WINDOW_END - doc.updatedAtMs)) / 1000) * 1000;
    doc.updatedAtMs += Math.max(1000, later);
    doc.deletedAtMs = doc.updatedAtMs;
  }

  documents.sort((a, b) =>
    a.updatedAtMs !== b.updatedAtMs
      ? a.updatedAtMs - b.updatedAtMs
      : a._id < b._id
        ? -1
        : a._id > b._id
          ? 1
          : 0,
  );
  const lines = documents.map((doc) => {
    const record = {
      _id: doc._id,
      lang: doc.lang,
      text: doc.text,
      updatedAt: new Date(doc.updatedAtMs).toISOString(),
    };
    if (doc.deletedAtMs !== undefined) record.deletedAt = new Date(doc.deletedAtMs).toISOString();
    return JSON.stringify(record);
  });
  const body = lines.join('\n') + '\n';
  writeFileSync(args.out, body);
  process.stderr.write(
    `wrote ${documents.length} documents, ${Buffer.byteLength(body)} bytes to ${args.out}\n`,
  );
}

// Validates a corpus file the way its consumers read it: strict UTF-8, one JSON object a line,
// the fields typed as documented, unique ids, lines ordered by (updatedAt, _id).
function check(file) {
  const problems = [];
  let content;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
  } catch (error) {
    throw new Error(`${file}: not valid UTF-8 (${error.message})`);
  }
  if (!content.endsWith('\n')) problems.push('no final newline');
  const lines = content.split('\n').slice(0, -1);
  const ids = new Set();
  const perLanguage = {};
  const perTag = {};
  let tombstones = 0;
  let previous = null;
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    let doc;
    try {
      doc = JSON.parse(line);
    } catch {
      problems.push(`${where}: not JSON`);
      return;
    }
    const keys = Object.keys(doc).join(',');
    if (keys !== '_id,lang,text,updatedAt' && keys !== '_id,lang,text,updatedAt,deletedAt') {
      problems.push(`${where}: unexpected fields ${keys}`);
    }
    if (typeof doc._id !== 'string' || ids.has(doc._id)) problems.push(`${where}: bad _id`);
    ids.add(doc._id);
    if (typeof doc.text !== 'string' || doc.text.trim() === '') problems.push(`${where}: empty`);
    for (const field of ['updatedAt', 'deletedAt']) {
      const value = doc[field];
      if (value === undefined && field === 'deletedAt') continue;
      if (typeof value !== 'string' || new Date(value).toISOString() !== value) {
        problems.push(`${where}: bad ${field}`);
      }
    }
    const key = [doc.updatedAt, doc._id];
    if (previous && (key[0] < previous[0] || (key[0] === previous[0] && key[1] <= previous[1]))) {
      problems.push(`${where}: out of (updatedAt, _id) order`);
    }
    previous = key;
    const base = String(doc._id).split('-')[0];
    perLanguage[base] = (perLanguage[base] ?? 0) + 1;
    perTag[doc.lang] = (perTag[doc.lang] ?? 0) + 1;
    if (doc.deletedAt) tombstones++;
  });
  const summary = {
    file,
    bytes: Buffer.byteLength(content),
    documents: lines.length,
    tombstones,
    perLanguage,
    perTag,
    problems: problems.slice(0, 20),
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  if (problems.length) process.exitCode = 1;
}

if (args.check) {
  check(args.out);
} else {
  build();
  check(args.out);
}
