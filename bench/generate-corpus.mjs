#!/usr/bin/env node
// Synthetic benchmark corpus in the NDJSON source format (DESIGN.md §4), one document a line.
//
//   node bench/generate-corpus.mjs --docs 200000 --seed 42 --out bench/out/corpus-200k.ndjson
//   node bench/generate-corpus.mjs --docs 200000 --mutate-from 42 --seed 43 --changed-ratio 0.01 \
//     --out bench/out/corpus-200k-delta.ndjson
//
// Every document is a pure function of (seed, id index), so output is byte-identical for the same
// arguments, and a delta corpus can regenerate any base document without reading the base file.
//
// Text: per language, a Zipf-distributed vocabulary whose head is real function words and whose
// tail is synthetic words built from the language's syllables. The vocabulary available at
// document i grows like Heaps' law, V(i) = head + base + K·sqrt(i·share), and each document also
// carries the words unlocked at its own index, so new words keep appearing as the corpus grows.

import { once } from 'node:events';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = `usage: node bench/generate-corpus.mjs --docs N [options]

  --docs N             documents to generate (required)
  --seed S             seed of this corpus; in delta mode, of the changes (default 42)
  --out FILE           output file (default: stdout); parent directories are created
  --languages K        use the first K of en de fr es ru pl it nl (default 8)
  --avg-bytes B        mean UTF-8 bytes of a document's text (default 2000)
  --start-id I         index of the first document; ids, timestamps and vocabulary growth
                       continue from there, so files can be appended to each other (default 0)
  --start-time ISO     updatedAt of index 0 (default 2026-01-01T00:00:00.000Z)
  --step-ms MS         mean updatedAt step between consecutive documents (default 2000)
  --zipf-s S           Zipf exponent (default 1.07)
  --heaps-k K          vocabulary growth constant (default 500)

delta mode (the same corpus with a share of its documents changed):
  --mutate-from S      seed of the base corpus (alias --base-seed); the other base options
                       (--docs, --languages, --avg-bytes, --start-id, ...) must match the base
  --changed-ratio R    share of ids that get new text and a newer updatedAt (default 0.01)
  --deleted-ratio R    share of the changed ids that are tombstoned instead (default 0.05)

Unchanged documents come first, byte-identical to the base corpus and in its order; the changed
ones follow in id order, with updatedAt after every base timestamp, so the file stays one line per
id and ordered by updatedAt. A summary (bytes, MB/s, docs/s) goes to stderr as one JSON line.
`;

const LANGUAGES = {
  en: {
    share: 0.35,
    functionWords:
      'the of and to a in is that for it as was with be by on not he this are or his from at ' +
      'which but have an they you were her she there one all we their has been if more when ' +
      'will would who so no can its also into than only other some what them then these two ' +
      'may first any could our out do such like most about over',
    onsets: 'b c d f g h l m n p r s t w th st pr tr sh ch',
    vowels: 'a e i o u ea oo ou',
    codas: '- n r s t',
  },
  de: {
    share: 0.15,
    functionWords:
      'der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es ' +
      'an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen ' +
      'so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei',
    onsets: 'b d f g h k l m n p r s t w z sch st sp kr br gr pf',
    vowels: 'a e i o u ä ö ü ei au ie eu',
    codas: '- n r l t ch ng st nd',
    // German nouns are capitalised; a lower-casing tokeniser must fold them.
    capitalise: 0.4,
  },
  fr: {
    share: 0.12,
    functionWords:
      'de la le et les des en un du une que est pour qui dans a par plus pas au sur ne se ce ' +
      'il sont ou avec son cette aux elle mais nous comme ont été leur sa y tout on bien ses ' +
      'même peut entre deux fait sans aussi très',
    onsets: 'b c d f g j l m n p r s t v ch qu tr pl gr',
    vowels: 'a e i o u é è ou ai eau on an in',
    codas: '- r s l t x',
    elisions: { le: 'l', la: 'l', de: 'd', que: 'qu', ne: 'n', se: 's' },
  },
  es: {
    share: 0.1,
    functionWords:
      'de la que el en y a los del se las por un para con no una su al es lo como más pero ' +
      'sus le ya o fue este ha sí porque esta son entre está cuando muy sin sobre ser tiene ' +
      'también me hasta hay donde han quien desde todo nos durante',
    onsets: 'b c d f g j l m n p r s t v ll ch ñ tr pr bl',
    vowels: 'a e i o u á é í ó ue ia io',
    codas: '- n r s l z',
  },
  ru: {
    share: 0.1,
    functionWords:
      'и в не на я что он с как а то это по к но его все она так из у же вы за бы от мы было ' +
      'о ты их её для до ещё при или ни ли когда уже если они был есть только быть даже где ' +
      'чтобы себя',
    onsets: 'б в г д ж з к л м н п р с т ф х ц ч ш щ ст пр кр',
    vowels: 'а е и о у ы я ю ё э',
    codas: '- н р л т й в ск сть',
  },
  pl: {
    share: 0.07,
    functionWords:
      'w i na z do się nie że to jest o jak a po przez od dla czy są ale tak może być jego ' +
      'tylko by jej już ich oraz lub tym tego który która które także jako gdy przy też ' +
      'bardzo ze za co go jeszcze pod',
    onsets: 'b c d g k l ł m n p r s t w z cz sz rz ż ś dz pr st ch',
    vowels: 'a e i o u y ą ę ó ie ia',
    codas: '- n k ć ł m sz',
  },
  it: {
    share: 0.06,
    functionWords:
      'di e il la che in a per un è del non una le con i si da al dei della sono gli come più ' +
      'anche ma nel alla ha lo se delle questo tra sul essere nella o dal ci dalla quando solo ' +
      'cui suo sua molto',
    onsets: 'b c d f g l m n p r s t v z gn sc ch gl tr pr',
    vowels: 'a e i o u à è ia io uo',
    codas: '- n r l s',
    elisions: { lo: 'l', la: 'l', una: 'un', dello: 'dell', della: 'dell' },
  },
  nl: {
    share: 0.05,
    functionWords:
      'de en van het een in is dat op te zijn met voor niet die aan er om ook als bij door ' +
      'maar of worden dan uit naar nog wordt kan over zo tot was hij deze wel al ze hebben ' +
      'meer heeft werd geen zich',
    onsets: 'b d f g h j k l m n p r s t v w z sch st gr kr sl',
    vowels: 'a e i o u aa ee oo ij ui oe ie eu',
    codas: '- n r l t k cht ng s',
  },
};
const LANGUAGE_ORDER = Object.keys(LANGUAGES);

// Words available from the first document on, after the function words.
const BASE_VOCABULARY = 5000;
const CHUNK_BYTES = 4 * 1024 * 1024;

function fail(message) {
  process.stderr.write(`generate-corpus: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        docs: { type: 'string' },
        seed: { type: 'string', default: '42' },
        out: { type: 'string' },
        languages: { type: 'string', default: String(LANGUAGE_ORDER.length) },
        'avg-bytes': { type: 'string', default: '2000' },
        'start-id': { type: 'string', default: '0' },
        'start-time': { type: 'string', default: '2026-01-01T00:00:00.000Z' },
        'step-ms': { type: 'string', default: '2000' },
        'zipf-s': { type: 'string', default: '1.07' },
        'heaps-k': { type: 'string', default: '500' },
        'mutate-from': { type: 'string' },
        'base-seed': { type: 'string' },
        'changed-ratio': { type: 'string', default: '0.01' },
        'deleted-ratio': { type: 'string', default: '0.05' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    fail(error.message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const number = (name, { min = -Infinity, max = Infinity, integer = false } = {}) => {
    const raw = values[name];
    const n = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(n)) {
      fail(`--${name} must be a number`);
    }
    if (n < min || n > max || (integer && !Number.isInteger(n))) {
      fail(`--${name} must be ${integer ? 'an integer ' : ''}in [${min}, ${max}]`);
    }
    return n;
  };
  if (values.docs === undefined) fail('--docs is required');
  if (values['mutate-from'] !== undefined && values['base-seed'] !== undefined) {
    fail('give --mutate-from or --base-seed, not both');
  }
  const startTime = Date.parse(values['start-time']);
  if (Number.isNaN(startTime)) fail('--start-time must be an ISO 8601 time');
  const baseSeed = values['mutate-from'] ?? values['base-seed'];
  return {
    docs: number('docs', { min: 0, max: 1e10, integer: true }),
    seed: seedOf(values.seed),
    out: values.out,
    languages: number('languages', { min: 1, max: LANGUAGE_ORDER.length, integer: true }),
    avgBytes: number('avg-bytes', { min: 20, max: 10_000_000 }),
    startId: number('start-id', { min: 0, max: 1e12, integer: true }),
    startTime,
    stepMs: number('step-ms', { min: 0, max: 1e9 }),
    zipfS: number('zipf-s', { min: 0.5, max: 3 }),
    heapsK: number('heaps-k', { min: 0, max: 1e6 }),
    delta: baseSeed !== undefined,
    baseSeed: baseSeed === undefined ? undefined : seedOf(baseSeed),
    changedRatio: number('changed-ratio', { min: 0, max: 1 }),
    deletedRatio: number('deleted-ratio', { min: 0, max: 1 }),
  };
}

function seedOf(text) {
  if (/^\d+$/.test(text)) return Number(BigInt(text) % 4294967296n);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mix32(x) {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

// Seeds are derived from (seed, purpose, index) so each document and each decision about it can
// be recomputed on its own, in any order.
const SALT_TEXT = 0x1b873593;
const SALT_CHANGE = 0x5c4bcea9;
const SALT_TIME = 0x27d4eb2f;

function seedFor(seed, salt, index) {
  let h = mix32(seed ^ salt);
  h = mix32(h ^ (index >>> 0));
  return mix32(h ^ Math.floor(index / 4294967296));
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Rejection-inversion sampling of a bounded Zipf distribution (Hörmann & Derflinger 1996):
// exact, O(1) per draw and without tables, so the vocabulary bound can change every document.
class Zipf {
  constructor(exponent) {
    this.q = exponent;
    this.hX1 = this.hIntegral(1.5) - 1;
    this.squeeze = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
    this.n = 0;
    this.hN = 0;
  }

  setSize(n) {
    if (n !== this.n) {
      this.n = n;
      this.hN = this.hIntegral(n + 0.5);
    }
  }

  // A rank in [1, n].
  sample(random) {
    for (;;) {
      const u = this.hN + random() * (this.hX1 - this.hN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.squeeze || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }

  h(x) {
    return Math.exp(-this.q * Math.log(x));
  }

  hIntegral(x) {
    const logX = Math.log(x);
    return helper2((1 - this.q) * logX) * logX;
  }

  hIntegralInverse(x) {
    let t = x * (1 - this.q);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
}

function helper1(x) {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}

function helper2(x) {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x));
}

// Output is assembled as bytes in a growing buffer: building ~2 KB strings out of ~300 short
// pieces and encoding them afterwards spent most of the time in the garbage collector.
class ByteSink {
  constructor(capacity) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.pos = 0;
  }

  reserve(n) {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // Callers reserve first; only ASCII goes through here.
  ascii(text) {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < text.length; i++) buf[p++] = text.charCodeAt(i);
    this.pos = p;
  }

  copy(source, start, length) {
    const buf = this.buf;
    let p = this.pos;
    for (let k = 0; k < length; k++) buf[p++] = source[start + k];
    this.pos = p;
  }

  take() {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }
}

// A language's vocabulary by rank: function words first, then synthetic words. Synthetic word j
// is a scrambled mixed-radix number over the syllable inventory, one syllable for the first
// ranks, two for the next, and so on, so frequent words are short as in real text. Words are
// built in rank order and deduplicated, so rank r's word never depends on which documents were
// generated before. Each word is kept as UTF-8 in one pool, in plain and sentence-initial form.
class Vocabulary {
  constructor(spec) {
    this.head = spec.functionWords.split(' ');
    const onsets = spec.onsets.split(' ');
    const vowels = spec.vowels.split(' ');
    const codas = spec.codas.split(' ').map((c) => (c === '-' ? '' : c));
    this.syllables = [];
    for (const onset of onsets) {
      for (const vowel of vowels) {
        for (const coda of codas) this.syllables.push(onset + vowel + coda);
      }
    }
    this.capitalise = spec.capitalise ?? 0;
    this.elisions = null;
    if (spec.elisions) {
      // Per rank: the elided forms (plain, capitalised) with either apostrophe, or nothing.
      this.elisions = this.head.map((word) => {
        const elided = spec.elisions[word];
        if (elided === undefined) return null;
        const capital = elided[0].toUpperCase() + elided.slice(1);
        return [elided, capital].map((form) => [
          Buffer.from(`${form}'`),
          Buffer.from(`${form}\u2019`),
        ]);
      });
    }
    this.pool = Buffer.allocUnsafe(1 << 20);
    this.used = 0;
    this.start = [];
    this.length = [];
    this.capitalStart = [];
    this.capitalLength = [];
    this.vowelStart = [];
    this.seen = new Set();
    for (const word of this.head) this.add(word);
  }

  get size() {
    return this.start.length;
  }

  store(word) {
    const need = word.length * 4;
    if (this.used + need > this.pool.length) {
      const next = Buffer.allocUnsafe(this.pool.length * 2 + need);
      this.pool.copy(next, 0, 0, this.used);
      this.pool = next;
    }
    const start = this.used;
    this.used += this.pool.write(word, start);
    return start;
  }

  add(word) {
    this.seen.add(word);
    const start = this.store(word);
    this.start.push(start);
    this.length.push(this.used - start);
    const capital = word[0].toUpperCase() + word.slice(1);
    const capitalStart = this.store(capital);
    this.capitalStart.push(capitalStart);
    this.capitalLength.push(this.used - capitalStart);
    this.vowelStart.push(VOWEL_START.test(word));
  }

  ensure(size) {
    const s = this.syllables.length;
    while (this.size < size) {
      let j = this.size - this.head.length;
      let digits = 1;
      let levelSize = s;
      while (j >= levelSize) {
        j -= levelSize;
        digits++;
        levelSize *= s;
      }
      // 1000003 is prime and larger than any inventory, hence coprime to s^digits: the
      // multiplication permutes the level, so neighbouring ranks do not share prefixes. The
      // product stays exact in a double for any vocabulary that fits in memory.
      let q = (j * 1000003) % levelSize;
      let word = '';
      for (let d = 0; d < digits; d++) {
        word += this.syllables[q % s];
        q = Math.floor(q / s);
      }
      let extra = 0;
      while (this.seen.has(word)) word += this.syllables[extra++ % s];
      if (this.capitalise > 0 && (mix32(this.size) & 0xffff) / 0x10000 < this.capitalise) {
        word = word[0].toUpperCase() + word.slice(1);
      }
      this.add(word);
    }
  }
}

const VOWEL_START = /^[aeiouhàâéèêëîïôûùœæ]/i;
// The longest a sentence can run past its document's target, with generous room for words.
const SENTENCE_SLACK = 16 * 1024;

class Generator {
  constructor(options) {
    this.options = options;
    this.codes = LANGUAGE_ORDER.slice(0, options.languages);
    const shares = this.codes.map((code) => LANGUAGES[code].share);
    const total = shares.reduce((a, b) => a + b, 0);
    let acc = 0;
    this.cumulative = shares.map((share) => {
      acc += share / total;
      return acc;
    });
    this.shares = shares.map((share) => share / total);
    this.vocabularies = this.codes.map((code) => new Vocabulary(LANGUAGES[code]));
    this.zipf = new Zipf(options.zipfS);
    // Base timestamps end before this, so every changed document sorts after the whole base.
    const lastIndex = options.startId + Math.max(options.docs, 1) - 1;
    this.deltaEpoch = this.baseTime(lastIndex) + 60_000;
  }

  vocabularySize(languageIndex, index) {
    return (
      this.vocabularies[languageIndex].head.length +
      BASE_VOCABULARY +
      Math.floor(this.options.heapsK * Math.sqrt((index + 1) * this.shares[languageIndex]))
    );
  }

  languageOf(index, seed) {
    const u = mulberry32(seedFor(seed, SALT_TEXT, index))();
    let l = 0;
    while (l < this.cumulative.length - 1 && u >= this.cumulative[l]) l++;
    return l;
  }

  // Mean step plus jitter below one step keeps times increasing; a few documents (5%) share the
  // time of the one before, as batch writes do, so paging by (updatedAt, _id) meets ties.
  baseTime(index) {
    let k = index;
    while (k > 0 && mulberry32(seedFor(1, SALT_TIME, k))() < 0.05) k--;
    const { startTime, stepMs } = this.options;
    return Math.floor(startTime + k * stepMs + mulberry32(seedFor(0, SALT_TIME, k))() * stepMs);
  }

  // Changed documents get times after the whole base corpus, spread over about as long as the
  // same number of base documents would take.
  changedTime(index) {
    const { startId, stepMs, changedRatio } = this.options;
    return Math.floor(this.deltaEpoch + (index - startId) * stepMs * Math.max(changedRatio, 1e-6));
  }

  changeOf(index) {
    const random = mulberry32(seedFor(this.options.seed, SALT_CHANGE, index));
    const changed = random() < this.options.changedRatio;
    return { changed, deleted: changed && random() < this.options.deletedRatio };
  }

  // Writes the text's UTF-8 bytes; the JSON escapes needed are only the paragraph breaks, since
  // words are letters, digits and apostrophes.
  text(sink, index, languageIndex, random) {
    const vocabulary = this.vocabularies[languageIndex];
    const size = this.vocabularySize(languageIndex, index);
    vocabulary.ensure(size);
    const zipf = this.zipf;
    zipf.setSize(size);
    // Words first allowed at this index are written here once, so the observed vocabulary grows
    // with the corpus instead of waiting for the sampler to reach the far tail.
    const fresh = index > 0 ? size - this.vocabularySize(languageIndex, index - 1) : 0;
    let nextFresh = size - fresh;

    // Log-normal document sizes (sigma 0.6) with the requested mean, clipped to a sane range.
    const u1 = random() || 1e-12;
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
    const avg = this.options.avgBytes;
    const target = Math.min(avg * 8, Math.max(avg / 10, avg * Math.exp(0.6 * normal - 0.18)));

    sink.reserve(target + SENTENCE_SLACK);
    const { pool, start, length, capitalStart, capitalLength, vowelStart, elisions } = vocabulary;
    const begin = sink.pos;
    let paragraphStart = true;
    while (sink.pos - begin < target) {
      const sentenceLength = 4 + Math.floor(random() * 21);
      // French and Italian articles elide before a vowel (l'homme, d'un): the tokeniser has to
      // split them off, with the ASCII and the typographic apostrophe alike.
      let pendingRank = -1;
      let pendingCapital = false;
      for (let w = 0; w < sentenceLength; w++) {
        const r = random();
        let rank = -1;
        if (r >= 0.012) {
          rank = nextFresh < size && r > 0.9 ? nextFresh++ : zipf.sample(random) - 1;
          if (
            elisions !== null &&
            pendingRank < 0 &&
            w + 1 < sentenceLength &&
            rank < elisions.length &&
            elisions[rank] !== null
          ) {
            pendingRank = rank;
            pendingCapital = w === 0;
            continue;
          }
        }
        if (!paragraphStart) {
          if (w > 0 && random() < 0.07) sink.ascii(', ');
          else sink.ascii(' ');
        }
        paragraphStart = false;
        let capital = w === 0;
        if (pendingRank >= 0) {
          if (rank >= 0 && vowelStart[rank]) {
            const forms = elisions[pendingRank][pendingCapital ? 1 : 0];
            const form = forms[random() < 0.1 ? 1 : 0];
            sink.copy(form, 0, form.length);
          } else if (pendingCapital) {
            sink.copy(pool, capitalStart[pendingRank], capitalLength[pendingRank]);
            sink.ascii(' ');
          } else {
            sink.copy(pool, start[pendingRank], length[pendingRank]);
            sink.ascii(' ');
          }
          pendingRank = -1;
          capital = false;
        }
        if (rank < 0) {
          sink.ascii(String(Math.floor(random() * (random() < 0.5 ? 100 : 3000))));
        } else if (capital) {
          sink.copy(pool, capitalStart[rank], capitalLength[rank]);
        } else {
          sink.copy(pool, start[rank], length[rank]);
        }
      }
      sink.ascii(random() < 0.04 ? '?' : '.');
      // Paragraph breaks, written as the JSON escape: the decoded text holds real newlines.
      if (random() < 0.12 && sink.pos - begin < target) {
        sink.ascii('\\n\\n');
        paragraphStart = true;
      }
    }
  }

  line(sink, index, { textSeed, languageSeed, updatedAtMs, deleted = false }) {
    const languageIndex = this.languageOf(index, languageSeed);
    const random = mulberry32(seedFor(textSeed, SALT_TEXT, index));
    // The stream's first draw picked the language when textSeed is the language seed.
    random();
    const id = `doc-${String(index).padStart(10, '0')}`;
    sink.reserve(256);
    sink.ascii(`{"_id":"${id}","lang":"${this.codes[languageIndex]}","text":"`);
    this.text(sink, index, languageIndex, random);
    const updatedAt = new Date(updatedAtMs).toISOString();
    sink.reserve(256);
    sink.ascii(
      deleted
        ? `","updatedAt":"${updatedAt}","deletedAt":"${updatedAt}"}\n`
        : `","updatedAt":"${updatedAt}"}\n`,
    );
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const generator = new Generator(options);
  const toFile = options.out !== undefined && options.out !== '-';
  const temporary = toFile ? `${options.out}.${process.pid}.tmp` : null;
  let stream;
  if (toFile) {
    mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
    stream = createWriteStream(temporary, { highWaterMark: CHUNK_BYTES * 2 });
  } else {
    stream = process.stdout;
    // A reader that stops early (`| head`) is not an error of the generator.
    stream.on('error', (error) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
  const sink = new ByteSink(CHUNK_BYTES + SENTENCE_SLACK);
  let bytes = 0;
  const flush = async () => {
    if (sink.pos === 0) return;
    const chunk = sink.take();
    bytes += chunk.length;
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  const started = process.hrtime.bigint();
  const { startId, docs, seed } = options;
  const end = startId + docs;
  let changed = 0;
  let deleted = 0;
  try {
    if (!options.delta) {
      for (let i = startId; i < end; i++) {
        generator.line(sink, i, {
          textSeed: seed,
          languageSeed: seed,
          updatedAtMs: generator.baseTime(i),
        });
        if (sink.pos >= CHUNK_BYTES) await flush();
      }
    } else {
      const base = options.baseSeed;
      for (let i = startId; i < end; i++) {
        if (generator.changeOf(i).changed) continue;
        generator.line(sink, i, {
          textSeed: base,
          languageSeed: base,
          updatedAtMs: generator.baseTime(i),
        });
        if (sink.pos >= CHUNK_BYTES) await flush();
      }
      for (let i = startId; i < end; i++) {
        const change = generator.changeOf(i);
        if (!change.changed) continue;
        changed++;
        if (change.deleted) deleted++;
        // A soft delete keeps the body; only an edit gets new text.
        generator.line(sink, i, {
          textSeed: change.deleted ? base : seed,
          languageSeed: base,
          updatedAtMs: generator.changedTime(i),
          deleted: change.deleted,
        });
        if (sink.pos >= CHUNK_BYTES) await flush();
      }
    }
    await flush();
    if (toFile) {
      stream.end();
      await once(stream, 'close');
      renameSync(temporary, options.out);
    }
  } catch (error) {
    if (toFile) rmSync(temporary, { force: true });
    throw error;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary = {
    out: toFile ? options.out : 'stdout',
    docs,
    ...(options.delta ? { changed, deleted } : {}),
    bytes,
    seconds: Number(seconds.toFixed(3)),
    mbPerSecond: Number((bytes / 1e6 / seconds).toFixed(1)),
    docsPerSecond: Math.round(docs / seconds),
  };
  process.stderr.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error) => {
  process.stderr.write(`generate-corpus: ${error.stack ?? error}\n`);
  process.exit(1);
});
