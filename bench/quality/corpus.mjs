// The evaluation corpus: Debian's man pages (English and translations), read straight from the
// .gz roff sources of the manpages* packages, cut into paragraph-size documents.
//
// Deterministic: the pages of a package come from dpkg's file list, ordered by a hash of the page
// name (so a cap on pages takes an even spread of tools rather than the ones starting with `a`),
// and the same package versions give the same bytes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseRoff } from '../lib/roff.mjs';

/**
 * tag: the BCP-47 code written in the corpus; lang: the code the product publishes it under (it
 * keeps the primary subtag); iso: the stopwords-iso list it is scored against (null: none).
 * zh_TW is left out: manpages-zh ships it as a script conversion of the same zh_CN pages, and the
 * product would file zh-Hant under zh and count every page twice.
 */
export const LANGUAGES = [
  ['en', 'en', null, 'manpages manpages-dev', 'latin'],
  ['de', 'de', 'de', 'manpages-de', 'latin'],
  ['fr', 'fr', 'fr', 'manpages-fr', 'latin'],
  ['es', 'es', 'es', 'manpages-es', 'latin'],
  ['it', 'it', 'it', 'manpages-it', 'latin'],
  ['pl', 'pl', 'pl', 'manpages-pl', 'latin'],
  ['pt-BR', 'pt', 'pt', 'manpages-pt-br', 'latin', 'pt_BR'],
  ['nl', 'nl', 'nl', 'manpages-nl', 'latin'],
  ['tr', 'tr', 'tr', 'manpages-tr', 'latin'],
  ['cs', 'cs', 'cs', 'manpages-cs', 'latin'],
  ['da', 'da', 'da', 'manpages-da', 'latin'],
  ['fi', 'fi', 'fi', 'manpages-fi', 'latin'],
  ['hu', 'hu', 'hu', 'manpages-hu', 'latin'],
  ['id', 'id', 'id', 'manpages-id', 'latin'],
  ['nb', 'nb', 'no', 'manpages-nb', 'latin'],
  ['ro', 'ro', 'ro', 'manpages-ro', 'latin'],
  ['sv', 'sv', 'sv', 'manpages-sv', 'latin'],
  ['vi', 'vi', 'vi', 'manpages-vi', 'latin'],
  ['ru', 'ru', 'ru', 'manpages-ru', 'cyrillic'],
  ['uk', 'uk', 'uk', 'manpages-uk', 'cyrillic'],
  ['sr', 'sr', null, 'manpages-sr', 'cyrillic'],
  ['mk', 'mk', null, 'manpages-mk', 'cyrillic'],
  ['el', 'el', 'el', 'manpages-el', 'greek'],
  ['ja', 'ja', 'ja', 'manpages-ja', 'ja'],
  ['zh', 'zh', 'zh', 'manpages-zh', 'zh', 'zh_CN'],
].map(([tag, lang, iso, packages, script, dir]) => ({
  tag,
  lang,
  iso: iso ?? (tag === 'en' ? 'en' : null),
  packages: packages.split(' '),
  script,
  dir: tag === 'en' ? null : (dir ?? tag),
}));

const UPDATED_AT = '2025-01-01T00:00:00.000Z';
const MAX_CHARS = 2000;

// Sections that hold names, command syntax, cross references or per-page boilerplate (authors,
// licences, bug-report addresses, translator credits), in the languages above. The first section
// (NAME) is always skipped, and so is a last section that ends most pages of a language.
const SKIPPED = [
  'NAME|SYNOPSIS|SEE ALSO|AUTHORS?|COPYRIGHT|REPORTING BUGS|COLOPHON|LICEN[CS]E|AVAILABILITY',
  'ÜBERSICHT|SIEHE AUCH|AUTORE?N?|FEHLER MELDEN|ÜBERSETZUNG|KOLOPHON|VERFÜGBARKEIT',
  'VOIR AUSSI|AUTEURS?|TRADUCTION|SIGNALER DES BOGUES|DISPONIBILITÉ',
  'SINOPSIS|VÉASE TAMBIÉN|TRADUCCIÓN|INFORMAR DE ERRORES|AUTOR(ES)?|DISPONIBILIDAD',
  'SINTASSI|SINOSSI|VEDERE ANCHE|TRADUZIONE|AUTOR[EI]|SEGNALAZIONE BUG|DISPONIBILITÀ',
  'SKŁADNIA|ZOBACZ TAKŻE|TŁUMACZENIE|ZGŁASZANIE BŁĘDÓW|PRAWA AUTORSKIE|AUTORZY|DOSTĘPNOŚĆ',
  'SINOPSE|VEJA TAMBÉM|TRADUÇÃO|RELATANDO PROBLEMAS|DIREITOS AUTORAIS',
  'SAMENVATTING|OVERZICHT|ZIE OOK|VERTALING|RAPPORTEREN VAN BUGS|AUTEURS?',
  'KULLANIM|İLGİLİ BELGELER|ÇEVİREN|YAZAN|TELİF HAKKI|GERİBİLDİRİM',
  'POUŽITÍ|DALŠÍ INFORMACE|PŘEKLAD|HLÁŠENÍ CHYB|TIRÁŽ',
  'SE OGSÅ|OVERSÆTTELSE|FEJLRAPPORTER|FORFATTERE?|OPHAVSRET',
  'YLEISKATSAUS|KATSO MYÖS|KÄÄNNÖS|TEKIJÄT?|TEKIJÄNOIKEUDET|VIRHEISTÄ ILMOITTAMINEN',
  'ÖSSZEGZÉS|LÁSD MÉG|FORDÍTÁS|SZERZŐI?|HIBÁK JELENTÉSE|SZERZŐI JOG',
  'RINGKASAN|LIHAT JUGA|TERJEMAHAN|PENGARANG|MELAPORKAN BUG|HAK CIPTA|PENULIS',
  'OVERSIKT|OVERSETTELSE|RAPPORTERING AV FEIL|OPPHAVSMANN|OPPHAVSRETT',
  'REZUMAT|VEDEȚI ȘI|TRADUCERE|RAPORTĂ O EROARE',
  'SE ÄVEN|ÖVERSÄTTNING|RAPPORTERA FEL|UPPHOVSMAN',
  'TÓM TẮT|XEM THÊM|DỊCH|THÔNG BÁO LỖI|TÁC GIẢ|BẢN QUYỀN',
  'СИНТАКСИС|ОБЗОР|СМ\\. ТАКЖЕ|СМОТРИТЕ ТАКЖЕ|ПЕРЕВОД|АВТОРЫ?|АВТОРСКИЕ ПРАВА',
  'КОРОТКИЙ ОПИС|ДИВ\\. ТАКОЖ|ПЕРЕКЛАД|ЗВІТИ ПРО ВАДИ|АВТОРСЬКІ ПРАВА|ДОСТУПНІСТЬ',
  'УВОД|ВИДИТЕ ТАКОЂЕ|ПРЕВОД|ПРИЈАВЉИВАЊЕ ГРЕШАКА|АУТОРИ?|АУТОРСКА ПРАВА',
  'СИНОПСИС|ВИДЕТЕ ИСТО|РЕПОРТИРАЊЕ НА ГРЕШКИ|АВТОРСКИ ПРАВА',
  'ΣΦΑΙΡΙΚΗ ΕΙΚΟΝΑ|ΣΥΓΓΡΑΦΕΑΣ|ΑΝΑΦΟΡΑ ΣΦΑΛΜΑΤΟΣ|ΔΕΙΤΕ ΕΠΙΣΗΣ|ΜΕΤΑΦΡΑΣΗ',
  '名前|名称|書式|関連項目|著作権|著者|作者|バグ報告|翻訳者?|この文書について',
  '概述|总览|参见|跋|版权|报告错误|译者|\\[中文版[^\\]]*\\]|《中国 ?linux',
].join('|');
const SKIPPED_SECTION = new RegExp(`^(?:${SKIPPED})(?:\\s|:|$)|\\s(?:${SKIPPED})$`, 'iu');

// Untranslated English paragraphs inside a translated page: words that are common in English
// prose and rare as words of the other languages here.
const ENGLISH = new Set(
  'the and of that this with which from are will when should can you your be it was'.split(' '),
);
const CJK = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const count = (text, re) => text.match(re)?.length ?? 0;

/** Whether a paragraph is running prose in the language of its page. */
export function isProse(text, language) {
  const { script, tag } = language;
  const cjk = script === 'ja' || script === 'zh';
  if (text.length < (cjk ? 8 : 20) || text.includes('\uFFFD')) return false;
  const visible = text.replace(/\s/g, '').length;
  const letters = count(text, /\p{L}/gu);
  // Mostly symbols: code, paths, option tables.
  if (letters / visible < 0.7) return false;
  // Cross references (`ls(1), cp(1)`) with little else.
  const words = text.match(/\p{L}+/gu) ?? [];
  if (count(text, /\w\(\d\w*\)/g) > Math.max(2, words.length / 5)) return false;
  if (cjk) {
    const han = count(text, /\p{Script=Han}/gu);
    const kana = count(text, /[\p{Script=Hiragana}\p{Script=Katakana}]/gu);
    if (han + kana < 6 || (han + kana) / letters < 0.5) return false;
    return script === 'ja' ? kana / (han + kana) > 0.15 : kana === 0;
  }
  if (script === 'cyrillic' || script === 'greek') {
    const own = count(text, script === 'greek' ? /\p{Script=Greek}/gu : /\p{Script=Cyrillic}/gu);
    if (own / letters < 0.7) return false;
    if (tag === 'uk') return !/[ыэъё]/iu.test(text);
    if (tag === 'ru') return !/[іїєґ]/iu.test(text);
    return true;
  }
  if (count(text, /\p{Script=Latin}/gu) / letters < 0.95 || words.length < 4) return false;
  if (tag === 'en') return true;
  const english = words.filter((w) => ENGLISH.has(w.toLowerCase())).length;
  return english / words.length < 0.08;
}

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Installed version of a Debian package, or null. */
export function packageVersion(name) {
  // dpkg-query's own ${field} syntax, not a template.
  const format = ['-f=$', '{Status}\t$', '{Version}'].join('');
  const r = spawnSync('dpkg-query', ['-W', format, name], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const [status, version] = r.stdout.split('\t');
  return status.endsWith(' installed') ? version : null;
}

/** The man pages of a language: [{ page, file }], deduplicated, in the deterministic order. */
export function listPages(language) {
  const pattern = /^\/usr\/share\/man\/(?:([^/]+)\/)?man[^/]+\/([^/]+)\.gz$/;
  const seen = new Set();
  const pages = [];
  for (const pkg of language.packages) {
    const list = `/var/lib/dpkg/info/${pkg}.list`;
    if (!existsSync(list)) continue;
    for (const line of readFileSync(list, 'utf8').split('\n')) {
      const m = pattern.exec(line);
      if (m === null || (m[1] ?? null) !== language.dir) continue;
      let file;
      try {
        file = realpathSync(line);
      } catch {
        continue;
      }
      // Symlinked aliases would read the same page twice.
      if (seen.has(file)) continue;
      seen.add(file);
      pages.push({ page: m[2], file, key: fnv1a(m[2]) });
    }
  }
  return pages.sort((a, b) => a.key - b.key || (a.page < b.page ? -1 : a.page > b.page ? 1 : 0));
}

function decode(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

// Long paragraphs are cut at sentence ends, then at spaces, so a document stays ≤ MAX_CHARS.
function splitLong(text) {
  if (text.length <= MAX_CHARS) return [text];
  const pieces = [];
  let current = '';
  for (const sentence of text.match(/[^.!?。！？]+(?:[.!?。！？]+\S*\s*|$)/gu) ?? [text]) {
    if (current && current.length + sentence.length > MAX_CHARS) {
      pieces.push(current.trim());
      current = '';
    }
    current += sentence;
  }
  if (current.trim()) pieces.push(current.trim());
  return pieces.flatMap((piece) => {
    const out = [];
    let rest = piece;
    while (rest.length > MAX_CHARS) {
      const cut = rest.lastIndexOf(' ', MAX_CHARS);
      const at = cut > MAX_CHARS / 2 ? cut : MAX_CHARS;
      out.push(rest.slice(0, at).trim());
      rest = rest.slice(at).trim();
    }
    if (rest) out.push(rest);
    return out;
  });
}

const glue = (a, b) => (a === '' ? b : CJK.test(a.at(-1)) && CJK.test(b[0]) ? a + b : `${a} ${b}`);

/**
 * Builds the documents of one language. A document is one paragraph, or consecutive short
 * paragraphs of one section merged until the document has minChars (a tagged option description
 * is often a line). Paragraphs already seen on an earlier page (shared boilerplate) are dropped.
 */
export function languageDocuments(language, { maxPages, maxDocsPerPage }) {
  const all = listPages(language);
  const pages = all.slice(0, maxPages);
  const minChars = language.script === 'ja' || language.script === 'zh' ? 80 : 200;
  const parsed = [];
  const lastHeadings = new Map();
  for (const { page, file } of pages) {
    const roff = parseRoff(decode(gunzipSync(readFileSync(file))));
    if (roff === null || roff.sections.length === 0) continue;
    parsed.push({ page, sections: roff.sections });
    const last = roff.sections.at(-1).heading;
    lastHeadings.set(last, (lastHeadings.get(last) ?? 0) + 1);
  }
  const boilerplateLast = new Set(
    [...lastHeadings].filter(([, n]) => n >= parsed.length / 2).map(([h]) => h),
  );
  const seen = new Set();
  const documents = [];
  const stats = { pagesListed: all.length, pagesRead: parsed.length, pagesUsed: 0, skipped: 0 };
  for (const { page, sections } of parsed) {
    const docs = [];
    sections.forEach(({ heading, paragraphs }, index) => {
      if (index === 0 || SKIPPED_SECTION.test(heading)) return;
      if (index === sections.length - 1 && boilerplateLast.has(heading)) return;
      let buffer = '';
      const emit = () => {
        if (buffer.length >= minChars / 2) docs.push({ section: heading, text: buffer });
        buffer = '';
      };
      for (const paragraph of paragraphs) {
        if (!isProse(paragraph, language)) {
          stats.skipped++;
          continue;
        }
        const key = paragraph.toLowerCase().replace(/\d+/g, '0');
        if (seen.has(key)) continue;
        seen.add(key);
        for (const piece of splitLong(paragraph.normalize('NFC'))) {
          if (buffer && buffer.length + piece.length + 1 > MAX_CHARS) emit();
          buffer = glue(buffer, piece);
          if (buffer.length >= minChars) emit();
        }
      }
      emit();
    });
    if (docs.length === 0) continue;
    stats.pagesUsed++;
    docs.slice(0, maxDocsPerPage).forEach((doc, n) => {
      documents.push({
        _id: `${language.tag}:${page}:${n}`,
        lang: language.tag,
        text: doc.text,
        updatedAt: UPDATED_AT,
        page,
        section: doc.section,
      });
    });
  }
  return { documents, stats };
}

/** Writes the corpus as NDJSON ordered by (updatedAt, _id); returns its size in bytes. */
export function writeCorpus(file, documents) {
  const sorted = documents.slice().sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const body = sorted.map((d) => JSON.stringify(d)).join('\n') + '\n';
  writeFileSync(file, body);
  return Buffer.byteLength(body);
}

export const pageOf = (id) => id.slice(0, id.lastIndexOf(':'));
