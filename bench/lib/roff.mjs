// Plain text from man(7) and mdoc(7) roff source, without groff: the paragraphs of each section.
//
//   parseRoff(source) → null for a `.so` stub, otherwise { title, sections: [{ heading,
//   paragraphs: [text] }] }
//
// What is kept is running prose. Dropped on purpose: comments, macro definitions (`.de`, `.ig`),
// conditionals, tables (`.TS`…`.TE`), no-fill and example blocks (`.nf`, `.EX`, `.Bd -literal`),
// synopsis blocks (`.SY`), the tags of tagged paragraphs (`.TP`, `.IP`, `.It`), the arguments of
// mdoc's code macros (`.Fl`, `.Ar`, `.Pa`, …) and sub-section headings. Escapes become the
// characters they stand for (`\(em` → —, `\-` → -, `\[u00E9]` → é, `\*(lq` → “, strings defined
// with `.ds`), font and size changes vanish, and `\c` joins lines. A line break between two CJK
// characters is no word boundary, so such lines are joined without a space.

// Named characters (`\(em`, `\[em]`): name=character, the character always one code unit.
const SPECIAL = Object.fromEntries(
  [
    'em=— en=– hy=- mi=- bu=• aq=\' dq=" lq=“ rq=” oq=‘ cq=’ Fo=« Fc=» fo=‹ fc=› co=© rg=®',
    'tm=™ de=° ti=~ ha=^ ga=` aa=´ sl=/ rs=\\ ba=| or=| sc=§ ps=¶ mu=× di=÷ +-=± pl=+ eq==',
    '>==≥ <==≤ !==≠ ->=→ <-=← =>=⇒ ua=↑ da=↓ **=* no=¬ ss=ß ae=æ AE=Æ oe=œ OE=Œ o/=ø O/=Ø',
    '.i=ı lB=[ rB=] lC={ rC=} la=⟨ ra=⟩ dg=† at=@ sh=# Do=$ Eu=€ eu=€ Po=£ Ye=¥ ct=¢ pc=·',
    'fm=′ sd=″ r!=¡',
  ]
    .join(' ')
    .split(' ')
    .map((pair) => [pair.slice(0, -2), pair.slice(-1)]),
);
// `\('e` → é and the like: an accent mark and a letter, composed.
const ACCENTS = {
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  ':': '\u0308',
  '~': '\u0303',
  ',': '\u0327',
  o: '\u030a',
  v: '\u030c',
};
const PREDEFINED_STRINGS = { R: '®', Tm: '™', lq: '“', rq: '”', aq: "'" };

function special(name) {
  if (name in SPECIAL) return SPECIAL[name];
  if (name.length === 2 && name[0] in ACCENTS && /\p{L}/u.test(name[1])) {
    return (name[1] + ACCENTS[name[0]]).normalize('NFC');
  }
  const u = /^u([0-9A-Fa-f]{4,6})((?:_[0-9A-Fa-f]{4,6})*)$/.exec(name);
  if (u !== null) {
    const points = [u[1], ...u[2].split('_').filter(Boolean)].map((h) => parseInt(h, 16));
    return String.fromCodePoint(...points).normalize('NFC');
  }
  const char = /^char(\d+)$/.exec(name);
  if (char !== null) return String.fromCharCode(Number(char[1]));
  return '';
}

// Escapes taking a delimited argument: \h'…' \w'…' \v'…' and the rest; all produce no text here.
const DELIMITED = new Set('hvwlLobDXZABRNSxHC'.split(''));
// Escapes taking a name: x, (xx or [xxx].
const NAMED = new Set('fsnkmMFYVg$*'.split(''));

/** Reads a name after an escape at s[i]: one char, `(xx` or `[…]`; returns [name, next index]. */
function readName(s, i) {
  if (s[i] === '(') return [s.slice(i + 1, i + 3), i + 3];
  if (s[i] === '[') {
    const end = s.indexOf(']', i);
    return end < 0 ? [s.slice(i + 1), s.length] : [s.slice(i + 1, end), end + 1];
  }
  return [s[i] ?? '', i + 1];
}

/**
 * Interprets the escapes of one input line. Returns { text, join } where join means the line
 * ended in `\c` (the next line continues the same word) and text is what it prints.
 */
export function unescapeLine(line, strings = {}) {
  let out = '';
  let i = 0;
  let join = false;
  while (i < line.length) {
    const c = line[i];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = line[i + 1];
    i += 2;
    if (e === undefined) break;
    if (e === '"' || e === '#') break;
    if (e === 'c') {
      join = true;
      continue;
    }
    if (e === '(' || e === '[') {
      const [name, next] = readName(line, i - 1);
      i = next;
      out += special(name);
      continue;
    }
    if (NAMED.has(e)) {
      // \s takes a sign and digits as well: \s-1, \s+2, \s0, \s12.
      if (e === 's' && /[-+\d]/.test(line[i])) {
        i += /^[-+]?\d\d?/.exec(line.slice(i))?.[0].length ?? 1;
        continue;
      }
      if (e === 'n' && (line[i] === '+' || line[i] === '-')) i++;
      const [name, next] = readName(line, i);
      i = next;
      if (e === '*') {
        const key = name.split(' ')[0];
        out += strings[key] ?? PREDEFINED_STRINGS[key] ?? '';
      }
      continue;
    }
    if (DELIMITED.has(e)) {
      const delimiter = line[i];
      const end = line.indexOf(delimiter, i + 1);
      const body = end < 0 ? '' : line.slice(i + 1, end);
      i = end < 0 ? line.length : end + 1;
      if (e === 'C') out += special(body);
      continue;
    }
    switch (e) {
      case '-':
        out += '-';
        break;
      case 'e':
      case 'E':
      case '\\':
        out += '\\';
        break;
      case ' ':
      case '~':
      case '0':
      case 't':
        out += ' ';
        break;
      case "'":
        out += '´';
        break;
      case '`':
        out += '`';
        break;
      case '.':
      case '_':
        out += e;
        break;
      default:
        // \& \| \^ \) \% \: \{ \} \a \d \u \p \r \z \! and friends print nothing.
        break;
    }
  }
  return { text: out, join };
}

/** Splits the arguments of a request line, honouring double quotes ("" is a literal quote). */
export function splitArgs(rest) {
  const args = [];
  let i = 0;
  while (i < rest.length) {
    while (rest[i] === ' ' || rest[i] === '\t') i++;
    if (i >= rest.length) break;
    if (rest[i] === '"') {
      let arg = '';
      i++;
      while (i < rest.length) {
        if (rest[i] === '"' && rest[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else if (rest[i] === '"') {
          i++;
          break;
        } else arg += rest[i++];
      }
      args.push(arg);
    } else {
      let j = i;
      while (j < rest.length && rest[j] !== ' ' && rest[j] !== '\t') j++;
      args.push(rest.slice(i, j));
      i = j;
    }
  }
  return args;
}

const FONT_MACROS = new Set(['B', 'I', 'SM', 'SB', 'R']);
const ALTERNATING = new Set(['BI', 'BR', 'IB', 'IR', 'RB', 'RI']);
const BREAKS = new Set(['PP', 'LP', 'P', 'Pp', 'Lp', 'HP', 'sp', 'RS', 'RE', 'in', 'ti', 'bp']);
const BREAKS_MDOC = new Set(['Bl', 'El', 'Bd', 'Ed', 'D1', 'Dl', 'Rs', 'Re']);
// mdoc macros whose arguments are code, names or references rather than prose.
const MDOC_CODE = new Set(
  'Fl Ar Cm Nm Pa Xr Ic Va Ev Dv Er Fn Fa Ft Fd Fo Fc Lb In Li Ad An Mt Lk St Sx Tn Cd Ot Ms Vt Ql Ic Dd Dt Os Nd Rv Ex'.split(
    ' ',
  ),
);
const CJK_CHAR = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\u3000-\u303f\uff00-\uffef]/u;

function isCjk(ch) {
  return ch !== undefined && CJK_CHAR.test(ch);
}

/** The text of one mdoc line: prose arguments kept, macro names and code arguments dropped. */
function mdocText(args) {
  let code = false;
  const words = [];
  for (const arg of args) {
    if (/^[A-Z][a-z][a-z]?$/.test(arg) && arg !== 'No' && arg !== 'A') {
      code = MDOC_CODE.has(arg);
      continue;
    }
    if (arg === 'No') {
      code = false;
      continue;
    }
    if (/^[.,:;)\]?!]$/.test(arg) && words.length > 0) {
      words[words.length - 1] += arg;
      continue;
    }
    if (!code) words.push(arg);
  }
  return words.join(' ');
}

export function parseRoff(source) {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const firstReal = lines.find((l) => l.trim() !== '' && !/^['.]\s*\\"/.test(l));
  if (firstReal !== undefined && /^\.so\s/.test(firstReal)) return null;
  const mdoc = lines.some((l) => /^\.(Dd|Sh)\s/.test(l));
  const strings = {};
  const sections = [];
  let title = '';
  let section = null;
  let paragraph = '';
  let joinNext = false;
  let pendingHeading = false;
  let pendingDrop = 0;
  let skipUntil = null; // regex of the line that ends a skipped block
  let braceDepth = 0;

  const flush = () => {
    const text = paragraph.replace(/\s+/g, ' ').trim();
    if (text !== '' && section !== null) section.paragraphs.push(text);
    paragraph = '';
    joinNext = false;
  };
  const startSection = (heading) => {
    flush();
    section = { heading: heading.replace(/\s+/g, ' ').trim(), paragraphs: [] };
    sections.push(section);
  };
  const addText = (raw) => {
    const { text, join } = unescapeLine(raw, strings);
    if (pendingHeading) {
      pendingHeading = false;
      startSection(text);
      return;
    }
    if (pendingDrop > 0) {
      if (text.trim() !== '') pendingDrop--;
      return;
    }
    if (paragraph === '' || joinNext) paragraph += text;
    else {
      const glue = isCjk(paragraph.at(-1)) && isCjk(text.trimStart()[0]) ? '' : ' ';
      paragraph += glue + text.trimStart();
    }
    joinNext = join;
  };

  for (let n = 0; n < lines.length; n++) {
    let line = lines[n];
    while (line.endsWith('\\') && !line.endsWith('\\\\') && n + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++n];
    }
    if (braceDepth > 0) {
      braceDepth += (line.match(/\\\{/g)?.length ?? 0) - (line.match(/\\\}/g)?.length ?? 0);
      continue;
    }
    if (skipUntil !== null) {
      if (skipUntil.test(line)) skipUntil = null;
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line[0] !== '.' && line[0] !== "'") {
      addText(line);
      continue;
    }
    const request = /^['.]\s*(\S*)\s*(.*)$/.exec(line);
    const name = request[1];
    const rest = request[2];
    if (name.startsWith('\\"') || name.startsWith('\\#') || name === '') continue;
    const args = () => splitArgs(unescapeLine(rest, strings).text);
    if (name === 'TH' || name === 'Dt') title = splitArgs(rest)[0] ?? '';
    else if (name === 'SH' || name === 'Sh') {
      const heading = mdoc ? rest.replace(/"/g, '') : args().join(' ');
      if (heading.trim() === '') pendingHeading = true;
      else startSection(unescapeLine(heading, strings).text);
    } else if (name === 'SS' || name === 'Ss') {
      flush();
      if (rest.trim() === '') pendingDrop = 1;
    } else if (name === 'TP' || name === 'TQ') {
      flush();
      pendingDrop = 1;
    } else if (name === 'IP' || name === 'It') flush();
    else if (BREAKS.has(name) || (mdoc && BREAKS_MDOC.has(name))) {
      flush();
      if (name === 'Bd' && /-(literal|unfilled)/.test(rest)) skipUntil = /^\.\s*Ed\b/;
    } else if (name === 'nf' || name === 'EX') {
      flush();
      skipUntil = name === 'nf' ? /^\.\s*fi\b/ : /^\.\s*EE\b/;
    } else if (name === 'TS') {
      flush();
      skipUntil = /^\.\s*TE\b/;
    } else if (name === 'SY') {
      flush();
      skipUntil = /^\.\s*YS\b/;
    } else if (name === 'de' || name === 'de1' || name === 'am' || name === 'ig') {
      const end = splitArgs(rest)[name === 'ig' ? 0 : 1];
      const escaped = (end ?? '.').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      skipUntil = end === undefined ? /^\.\.\s*$/ : new RegExp(`^\\.${escaped}\\s*$`);
    } else if (name === 'ds' || name === 'ds1') {
      const m = /^(\S+)\s*"?(.*)$/.exec(rest);
      if (m !== null) strings[m[1]] = unescapeLine(m[2], strings).text;
    } else if (name === 'if' || name === 'ie' || name === 'el' || name === 'while') {
      const open = (rest.match(/\\\{/g)?.length ?? 0) - (rest.match(/\\\}/g)?.length ?? 0);
      if (open > 0) braceDepth = open;
      // pod2man and friends define their strings conditionally; the first definition wins.
      const ds = /['.]\s*ds\s+(\S+)\s*"?(.*)$/.exec(rest);
      if (ds !== null && !(ds[1] in strings)) strings[ds[1]] = unescapeLine(ds[2], strings).text;
    } else if (FONT_MACROS.has(name)) {
      const a = args();
      if (a.length > 0) addText(a.join(' '));
    } else if (ALTERNATING.has(name)) {
      addText(args().join(''));
    } else if (name === 'UE' || name === 'ME') {
      const a = args().join('');
      if (a !== '') paragraph += a;
    } else if (mdoc && /^[A-Z][a-z][a-z]?$/.test(name) && !MDOC_CODE.has(name)) {
      const text = mdocText([name, ...splitArgs(unescapeLine(rest, strings).text)]);
      if (text !== '') addText(text.replace(/\\/g, '\\\\'));
    }
    // Every other request (fonts, spacing, registers, .UR/.MT targets, .IX, …) prints nothing.
  }
  flush();
  return { title, sections };
}
