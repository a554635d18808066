import { describe, expect, it } from 'vitest';
import {
  ANALYZER_VERSION,
  addTerms,
  languageVariants,
  normalizeLanguage,
  tokenize,
} from '../../src/analysis/tokenizer.js';

/** Word segmentation of a whole string in one Segmenter call, for comparison with the pieces. */
function segmentWhole(text: string, locale: string): string[] {
  const words: string[] = [];
  for (const segment of new Intl.Segmenter(locale, { granularity: 'word' }).segment(text)) {
    if (segment.isWordLike === true) words.push(segment.segment);
  }
  return words;
}

describe('tokenize: spaced scripts', () => {
  it('splits English on spaces and punctuation and lower-cases', () => {
    expect(tokenize('The committee’s report, published on Tuesday, was late!', 'en')).toEqual([
      'the',
      "committee's",
      'report',
      'published',
      'on',
      'tuesday',
      'was',
      'late',
    ]);
  });

  it('keeps German ß and umlauts', () => {
    expect(tokenize('Die Straße führt über GROSSE Brücken. ÄÖÜ', 'de')).toEqual([
      'die',
      'straße',
      'führt',
      'über',
      'grosse',
      'brücken',
      'äöü',
    ]);
  });

  it('lower-cases Russian', () => {
    expect(tokenize('Всё смешалось в доме Облонских.', 'ru')).toEqual([
      'всё',
      'смешалось',
      'в',
      'доме',
      'облонских',
    ]);
  });

  it('writes the Greek final sigma at word ends', () => {
    expect(tokenize('Ο ΣΟΦΟΣ ΛΟΓΟΣ.', 'el')).toEqual(['ο', 'σοφο\u03c2', 'λογο\u03c2']);
  });

  it('keeps Polish diacritics', () => {
    expect(tokenize('Zażółć gęślą jaźń w ŁODZI.', 'pl')).toEqual([
      'zażółć',
      'gęślą',
      'jaźń',
      'w',
      'łodzi',
    ]);
  });

  it('treats Spanish inverted marks as punctuation', () => {
    expect(tokenize('¿Dónde está el niño? ¡Allí, señor!', 'es')).toEqual([
      'dónde',
      'está',
      'el',
      'niño',
      'allí',
      'señor',
    ]);
  });

  it('keeps the Catalan middle dot inside a word', () => {
    expect(tokenize('La col·lecció de l’Ajuntament · il·lusió', 'ca')).toEqual([
      'la',
      'col·lecció',
      'de',
      "l'",
      'ajuntament',
      'il·lusió',
    ]);
  });

  it('ends a run of letters the same way whatever follows it', () => {
    // Plain words take a fast path; whatever ends them that needs a closer look (an apostrophe,
    // a digit, an underscore, a middle dot, a surrogate pair) hands the run to the full scanner.
    const cases: Array<[string, string, string[]]> = [
      ['abc', 'en', ['abc']],
      ['abc,def.', 'en', ['abc', 'def']],
      ['abc1 def', 'en', ['def']],
      ['abc_def x', 'en', ['x']],
      ['col·lecció abc·', 'ca', ['col·lecció', 'abc']],
      ["l'homme abc'", 'fr', ["l'", 'homme', 'abc']],
      ["don't", 'en', ["don't"]],
      ['a𝒜b c', 'en', ['a𝒜b', 'c']],
      ['abc漢字', 'zh', ['abc', '漢字']],
      ['abc😀def', 'en', ['abc', 'def']],
      [`${'x'.repeat(41)} y`, 'en', ['y']],
      ['abc\u00addef', 'en', ['abcdef']],
    ];
    for (const [text, lang, words] of cases) expect(tokenize(text, lang), text).toEqual(words);
  });

  it('keeps single letters, which are real stopwords', () => {
    expect(tokenize('a y à и', 'und')).toEqual(['a', 'y', 'à', 'и']);
  });
});

describe('tokenize: locale-aware lower-casing', () => {
  it('maps Turkish dotted and dotless capitals', () => {
    expect(tokenize('İstanbul ve IĞDIR', 'tr')).toEqual(['istanbul', 've', 'ığdır']);
  });

  it('does the same for Azerbaijani', () => {
    expect(tokenize('BAKI İNKİŞAF EDİR', 'az')).toEqual(['bakı', 'inkişaf', 'edir']);
  });

  it('uses the default mapping for other languages', () => {
    expect(tokenize('IĞDIR', 'en')).toEqual(['iğdir']);
    expect(tokenize('İstanbul', 'en')).toEqual(['i\u0307stanbul']);
  });
});

describe('tokenize: apostrophes', () => {
  it('splits French elision with either apostrophe', () => {
    expect(tokenize("L'homme qu’il a vu n'est pas là", 'fr')).toEqual([
      "l'",
      'homme',
      "qu'",
      'il',
      'a',
      'vu',
      "n'",
      'est',
      'pas',
      'là',
    ]);
  });

  it('keeps French words that are spelled with an apostrophe', () => {
    expect(tokenize('Aujourd’hui, le presqu’île', 'fr')).toEqual([
      "aujourd'hui",
      'le',
      "presqu'île",
    ]);
  });

  it('splits Catalan elision', () => {
    expect(tokenize("L'home va beure d'aigua a l’estació.", 'ca')).toEqual([
      "l'",
      'home',
      'va',
      'beure',
      "d'",
      'aigua',
      'a',
      "l'",
      'estació',
    ]);
  });

  it('splits Irish elision', () => {
    expect(tokenize("D'fhág sé an baile agus m'athair ann.", 'ga')).toEqual([
      "d'",
      'fhág',
      'sé',
      'an',
      'baile',
      'agus',
      "m'",
      'athair',
      'ann',
    ]);
  });

  it('splits Italian elision', () => {
    expect(tokenize("Dell'anno scorso, l’amica di un po' tutti", 'it')).toEqual([
      "dell'",
      'anno',
      'scorso',
      "l'",
      'amica',
      'di',
      'un',
      'po',
      'tutti',
    ]);
  });

  it('keeps inner apostrophes whole in other languages, as a plain apostrophe', () => {
    expect(tokenize("Don't wait, it’s five oʼclock", 'en')).toEqual([
      "don't",
      'wait',
      "it's",
      'five',
      "o'clock",
    ]);
    expect(tokenize("l'homme", 'en')).toEqual(["l'homme"]);
  });

  it('drops leading and trailing apostrophes', () => {
    expect(tokenize("'Tis the dogs' bowls, ’quoted’", 'en')).toEqual([
      'tis',
      'the',
      'dogs',
      'bowls',
      'quoted',
    ]);
  });

  it('treats doubled apostrophes as quote marks', () => {
    expect(tokenize("''italic''text", 'en')).toEqual(['italic', 'text']);
    expect(tokenize("d''accord", 'fr')).toEqual(['d', 'accord']);
  });
});

describe('tokenize: non-words', () => {
  it('drops runs containing digits or underscores', () => {
    expect(
      tokenize('My mp3 player, the 3rd one, hash a3f9c2, year 2026, snake_case ok', 'en'),
    ).toEqual(['my', 'player', 'the', 'one', 'hash', 'year', 'ok']);
    expect(tokenize('في ٢٠٢٦ كان', 'ar')).toEqual(['في', 'كان']);
  });

  it('drops URLs and e-mail addresses up to whitespace', () => {
    expect(
      tokenize(
        'See https://example.com/a-b?c=d and (www.example.org), HTTP://X.Y; mail John.Doe@example.com now',
        'en',
      ),
    ).toEqual(['see', 'and', 'mail', 'now']);
  });

  it('keeps words next to an @ or www that are not links', () => {
    expect(tokenize('meet @ noon, ping @alice, awww. nice', 'en')).toEqual([
      'meet',
      'noon',
      'ping',
      'alice',
      'awww',
      'nice',
    ]);
  });

  it('ignores emoji and other symbols', () => {
    expect(tokenize('emoji 😀are ✓ not words', 'en')).toEqual(['emoji', 'are', 'not', 'words']);
  });

  it('keeps supplementary-plane letters and skips a lone surrogate without eating a letter', () => {
    expect(tokenize('𐌰𐌹𐌽𐍃 \ud800a', 'got')).toEqual(['𐌰𐌹𐌽𐍃', 'a']);
  });

  it('drops words longer than 40 code units', () => {
    const forty = 'a'.repeat(40);
    expect(tokenize(`${forty} ${forty}b short`, 'en')).toEqual([forty, 'short']);
  });
});

describe('tokenize: hyphens and normalisation', () => {
  it('splits on hyphens and dashes', () => {
    expect(tokenize('state-of-the-art — by‑the–way', 'en')).toEqual([
      'state',
      'of',
      'the',
      'art',
      'by',
      'the',
      'way',
    ]);
    expect(tokenize('каждая по-своему', 'ru')).toEqual(['каждая', 'по', 'своему']);
  });

  it('removes soft hyphens instead of splitting on them', () => {
    expect(tokenize('hy\u00adphen\u00adation', 'en')).toEqual(['hyphenation']);
  });

  it('makes decomposed and composed forms the same word', () => {
    const decomposed = 'Cafe\u0301 cafe\u0301';
    const composed = 'caf\u00e9';
    expect(tokenize(decomposed, 'fr')).toEqual([composed, composed]);
    const terms = new Set<string>();
    addTerms(`${decomposed} ${composed}`, 'fr', terms);
    expect([...terms]).toEqual([composed]);
  });
});

describe('tokenize: scripts without spaces', () => {
  it('segments Japanese into words', () => {
    const words = tokenize('これは日本語の文章です。東京都に住んでいる。', 'ja');
    expect(words.length).toBeGreaterThanOrEqual(8);
    expect(words).toContain('これ');
    expect(words).toContain('は');
    expect(words).toContain('日本語');
    expect(words.every((w) => w.length <= 4 && !w.includes('。'))).toBe(true);
  });

  it('segments Chinese into words', () => {
    const words = tokenize('我们的国家是一个历史悠久的文明古国。', 'zh');
    expect(words.length).toBeGreaterThanOrEqual(8);
    expect(words).toContain('的');
    expect(words).toContain('我们');
  });

  it('segments Thai into words', () => {
    const words = tokenize('ภาษาไทยเป็นภาษาราชการของประเทศไทย', 'th');
    expect(words.length).toBeGreaterThanOrEqual(5);
    expect(words).toContain('ภาษา');
    expect(words).toContain('ของ');
  });

  it('segments Lao, Khmer and Burmese into words that rebuild the sentence', () => {
    const cases: Array<[string, string, string]> = [
      ['lo', 'ພາສາລາວເປັນພາສາທາງການ', 'ເປັນ'],
      ['km', 'ភាសាខ្មែរជាភាសាផ្លូវការ', 'ជា'],
      ['my', 'မြန်မာဘာသာစကားသည်ရုံးသုံးဘာသာဖြစ်သည်', 'စကား'],
    ];
    for (const [lang, sentence, word] of cases) {
      const words = tokenize(sentence, lang);
      expect(words.length, lang).toBeGreaterThanOrEqual(3);
      expect(words, lang).toContain(word);
      expect(words.join(''), lang).toBe(sentence);
    }
  });

  it('guesses the locale from the script when the language is unknown', () => {
    const words = tokenize('これは日本語の文章です', 'und');
    expect(words).toContain('これ');
    expect(words).toContain('日本語');
  });

  it('separates spaceless runs from Latin letters and digits', () => {
    const words = tokenize('2026年にiPhoneを買った', 'ja');
    expect(words).toContain('iphone');
    expect(words).toContain('年');
    expect(words.some((w) => /\d/.test(w))).toBe(false);
  });

  it('gives the same words as one unbounded Segmenter call on long runs', () => {
    const ja = '何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している';
    const zh = '中华人民共和国成立于一九四九年北京是中国的首都经济全球化是不可逆转的历史潮流';
    const th = 'ประเทศไทยมีจังหวัดทั้งหมดเจ็ดสิบเจ็ดจังหวัดกรุงเทพมหานครเป็นเมืองหลวง';
    for (const [text, lang] of [
      [ja.repeat(30), 'ja'],
      [zh.repeat(30), 'zh'],
      [th.repeat(30), 'th'],
    ] as const) {
      expect(text.length).toBeGreaterThan(1000);
      expect(tokenize(text, lang)).toEqual(segmentWhole(text, lang));
    }
  });

  it('finishes on 200 KB without spaces', () => {
    const japanese = '吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。'.repeat(
      2200,
    );
    expect(japanese.length).toBeGreaterThan(66_000);
    expect(Buffer.byteLength(japanese)).toBeGreaterThan(200_000);
    expect(tokenize(japanese, 'ja').length).toBeGreaterThan(20_000);

    const unpunctuated = 'ジャパンのねこはかわいいですね'.repeat(4500);
    expect(tokenize(unpunctuated, 'ja').length).toBeGreaterThan(20_000);

    const latinWords = 'lorem.ipsum,dolor;sit-amet/'.repeat(7500);
    expect(latinWords.length).toBeGreaterThan(200_000);
    expect(tokenize(latinWords, 'la')).toHaveLength(5 * 7500);

    const latinRun = 'abcdefghij'.repeat(20_000);
    expect(tokenize(`${latinRun} end`, 'en')).toEqual(['end']);

    const atSigns = 'a@b'.repeat(70_000);
    expect(tokenize(atSigns, 'en').length).toBeGreaterThan(60_000);
  });
});

describe('addTerms', () => {
  it('adds each word once and keeps what the set already held', () => {
    const terms = new Set(['earlier']);
    addTerms('The cat and the hat. THE END, the end.', 'en', terms);
    expect([...terms].sort()).toEqual(['and', 'cat', 'earlier', 'end', 'hat', 'the']);
  });

  it('adds exactly the words tokenize returns', () => {
    const text = "Qu'il vienne, l'homme: https://x.org/ 42 fois et l'homme reste.";
    const terms = new Set<string>();
    addTerms(text, 'fr', terms);
    expect(terms).toEqual(new Set(tokenize(text, 'fr')));
    expect(terms.size).toBe(8);
  });
});

describe('normalizeLanguage', () => {
  it('reports missing values', () => {
    for (const value of [undefined, null, '', '   ']) {
      expect(normalizeLanguage(value)).toEqual({ lang: 'und', problem: 'missing' });
    }
  });

  it('reduces tags to the lower-case primary subtag', () => {
    expect(normalizeLanguage('en-US')).toEqual({ lang: 'en', problem: null });
    expect(normalizeLanguage('EN')).toEqual({ lang: 'en', problem: null });
    expect(normalizeLanguage('en_GB')).toEqual({ lang: 'en', problem: null });
    expect(normalizeLanguage('zh-Hant-TW')).toEqual({ lang: 'zh', problem: null });
    expect(normalizeLanguage(' fil ')).toEqual({ lang: 'fil', problem: null });
  });

  it('keeps und without a problem', () => {
    expect(normalizeLanguage('und')).toEqual({ lang: 'und', problem: null });
  });

  it('rejects values that are not language tags', () => {
    for (const value of [42, {}, ['en'], true, 'e', 'english', 'x-klingon', 'en-', 'e1', 'en us']) {
      expect(normalizeLanguage(value)).toEqual({ lang: 'und', problem: 'invalid' });
    }
  });
});

describe('ANALYZER_VERSION', () => {
  it('is a non-empty version string', () => {
    expect(ANALYZER_VERSION).toMatch(/^tok-\d+$/);
  });
});

describe('language variants', () => {
  const variants = languageVariants(['pt-BR', 'zh-Hant']);

  it('keeps a configured variant, and more specific tags under it, as the configured tag', () => {
    expect(normalizeLanguage('pt-BR', variants)).toEqual({ lang: 'pt-BR', problem: null });
    expect(normalizeLanguage('pt_br', variants)).toEqual({ lang: 'pt-BR', problem: null });
    expect(normalizeLanguage('zh-Hant-TW', variants)).toEqual({ lang: 'zh-Hant', problem: null });
  });

  it('files every other tag under its primary language, as without variants', () => {
    expect(normalizeLanguage('pt-PT', variants)).toEqual({ lang: 'pt', problem: null });
    expect(normalizeLanguage('pt', variants)).toEqual({ lang: 'pt', problem: null });
    expect(normalizeLanguage('zh-Hans-CN', variants)).toEqual({ lang: 'zh', problem: null });
    expect(normalizeLanguage('zh-hantx', variants)).toEqual({ lang: 'zh', problem: null });
    expect(normalizeLanguage('pt-BR')).toEqual({ lang: 'pt', problem: null });
    expect(normalizeLanguage('not a tag', variants)).toEqual({ lang: 'und', problem: 'invalid' });
  });
});
