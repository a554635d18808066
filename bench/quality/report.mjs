// The outputs of the quality evaluation: the table on stdout, the raw lists in bench/out/quality/
// and docs/quality.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discussion, experimentFindings } from './discussion.mjs';
import { isHit, KS, MEASURES, mean } from './score.mjs';

const f2 = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const signed = (x) =>
  x === null || x === undefined ? '–' : (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2);
const int = (x) => x.toLocaleString('en-US');

/** The languages in the macro-average: a reference list exists and the product published. */
export const scored = (report) => report.languages.filter((l) => l.scored);

export function macro(report) {
  const ls = scored(report);
  const avg = (pick) => Object.fromEntries(KS.map((k) => [k, mean(ls.map((l) => pick(l)[k]))]));
  return {
    ours: avg((l) => l.p.ours),
    baseline: avg((l) => l.p.baseline),
    experiments: Object.fromEntries(
      MEASURES.map((m) => [m.key, avg((l) => l.p.experiments[m.key])]),
    ),
  };
}

/** One row per language: ours, baseline and the difference at each k. */
function resultRows(report) {
  const rows = [];
  for (const l of report.languages) {
    const cells = [l.lang, int(l.docs.length), l.ours === null ? '–' : String(l.ours.length)];
    for (const k of KS) {
      const ours = l.p?.ours?.[k] ?? null;
      const base = l.p?.baseline[k] ?? null;
      cells.push(f2(ours), f2(base), ours === null || base === null ? '–' : signed(ours - base));
    }
    rows.push({ l, cells });
  }
  return rows;
}

export function consoleTable(report) {
  const m = macro(report);
  const head = ['lang', 'docs', 'len'];
  for (const k of KS) head.push(`P@${k}`, 'base', 'Δ');
  const rows = resultRows(report).map(({ l, cells }) =>
    l.scored ? cells : [...cells, '(excluded)'],
  );
  const macroRow = ['macro', '', String(scored(report).length)];
  for (const k of KS)
    macroRow.push(f2(m.ours[k]), f2(m.baseline[k]), signed(m.ours[k] - m.baseline[k]));
  const all = [head, ...rows, macroRow];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i] ?? 0))).join('  ');
  const exp = ['', 'P@50 by ranking (macro over the same languages):'];
  for (const x of MEASURES) exp.push(`  ${x.label.padEnd(18)} ${f2(m.experiments[x.key][50])}`);
  return `${all.map(line).join('\n')}\n${exp.join('\n')}\n`;
}

/** The raw lists, one word a line with its rank, for inspection. */
export function writeLists(dir, l) {
  const columns = [
    ['ours', l.ours ?? []],
    ['baseline', l.baseline],
    ...MEASURES.map((x) => [x.key, l.experiments[x.key]]),
  ];
  const depth = Math.max(...columns.map(([, ws]) => ws.length));
  const lines = [columns.map(([name]) => name).join('\t')];
  for (let i = 0; i < depth; i++) {
    lines.push(
      columns
        .map(([, ws]) => {
          const w = ws[i];
          if (w === undefined) return '';
          return l.ref !== null && isHit(w, l.ref) ? w : `${w}*`;
        })
        .join('\t'),
    );
  }
  writeFileSync(join(dir, `${l.lang}.tsv`), `${lines.join('\n')}\n`);
}

/** A Markdown table; `left` is how many leading columns are text (left-aligned). */
const table = (head, rows, left = 1) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < left ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The first n words of a list that are not in the reference. */
export function misses(words, ref, n, depth = 50) {
  return (words ?? [])
    .slice(0, depth)
    .filter((w) => !isHit(w, ref))
    .slice(0, n);
}

const code = (words) => words.map((w) => `\`${w}\``).join(' ');

function corpusSection(report) {
  const rows = report.languages.map((l) => [
    `${l.tag}${l.tag === l.lang ? '' : ` → ${l.lang}`}`,
    l.versions.join(', '),
    `${int(l.stats.pagesUsed)} / ${int(l.stats.pagesListed)}`,
    int(l.docs.length),
    l.iso === null ? 'none' : `${l.iso} (${l.ref?.size ?? 0})`,
  ]);
  return table(
    ['language', 'Debian packages', 'pages used / listed', 'documents', 'stopwords-iso'],
    rows,
  );
}

function resultsSection(report) {
  const m = macro(report);
  const head = ['lang', 'docs', 'ours len'];
  for (const k of KS) head.push(`ours P@${k}`, `base P@${k}`, 'Δ');
  const rows = resultRows(report)
    .filter(({ l }) => l.scored)
    .map(({ cells }) => cells);
  const macroRow = ['**macro**', '', `${scored(report).length} langs`];
  for (const k of KS) {
    macroRow.push(
      `**${f2(m.ours[k])}**`,
      `**${f2(m.baseline[k])}**`,
      `**${signed(m.ours[k] - m.baseline[k])}**`,
    );
  }
  rows.push(macroRow);
  return table(head, rows);
}

function cjkSection(report) {
  const out = [];
  for (const tag of ['zh', 'ja']) {
    const l = report.languages.find((x) => x.lang === tag);
    if (l === undefined) continue;
    const mark = (ws) =>
      ws.slice(0, 20).map((w) => (l.ref !== null && isHit(w, l.ref) ? `**${w}**` : w));
    out.push(
      `**${tag}** (in bold: in stopwords-iso)`,
      '',
      `- ours: ${l.ours === null ? '(not published)' : mark(l.ours).join(' · ')}`,
      `- baseline: ${mark(l.baseline).join(' · ')}`,
      '',
    );
  }
  return out.join('\n');
}

function falsePositives(report) {
  const rows = scored(report).map((l) => [
    l.lang,
    code(misses(l.ours, l.ref, 10)),
    code(misses(l.baseline, l.ref, 10)),
  ]);
  return table(
    ['lang', 'ours: first misses in the top 50', 'baseline: first misses in the top 50'],
    rows,
  );
}

export function experimentsSection(report) {
  const m = macro(report);
  const head = ['lang', ...MEASURES.map((x) => x.label)];
  const rows = scored(report).map((l) => {
    const base = l.p.experiments.ratio[50];
    return [
      l.lang,
      ...MEASURES.map((x, i) => {
        const v = l.p.experiments[x.key][50];
        return i === 0 ? f2(v) : `${f2(v)} (${signed(v - base)})`;
      }),
    ];
  });
  rows.push([
    '**macro**',
    ...MEASURES.map((x, i) => {
      const v = m.experiments[x.key][50];
      return `**${f2(v)}**${i === 0 ? '' : ` (${signed(v - m.experiments.ratio[50])})`}`;
    }),
  ]);
  return table(head, rows);
}

export function writeMarkdown(file, report) {
  const m = macro(report);
  const excluded = report.languages.filter((l) => !l.scored);
  const env = Object.entries(report.env)
    .filter(([k]) => k.startsWith('STOPWORD_REFRESH_ANALYSIS'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const text = [
    '# Stopword list quality',
    '',
    'How close the lists that `stopword-refresh` publishes come to curated stopword lists, on real',
    'text in many languages, next to a naive document-frequency baseline. Generated by',
    '`npm run eval:quality` (`bench/quality/`); every figure below comes from the run described',
    'here and changes with the corpus, the product and the reference lists.',
    '',
    `- **Run:** ${report.date.slice(0, 16).replace('T', ' ')} UTC, \`${report.command}\`, ${report.totalSeconds.toFixed(0)} s in all (the product's run: ${report.runSeconds.toFixed(1)} s).`,
    `- **Machine:** ${report.machine}.`,
    `- **Product:** analyser \`${report.analyzerVersion}\`, run as \`${report.cliCommand}\` with \`${env}\` (so that lists reach 100 words; the defaults are 0.2 and 500), everything else at its default (\`analysis.minDocuments\` 100).`,
    '',
    '## Corpus',
    '',
    `${int(report.documents)} documents (${(report.corpusBytes / 1e6).toFixed(1)} MB of NDJSON) from the`,
    "roff sources of Debian 12's man pages, read without groff: `bench/lib/roff.mjs` strips requests,",
    'macros, escapes, comments, tables and example blocks. A document is one paragraph of one page,',
    'or consecutive short paragraphs of one section merged until it has 200 characters (80 for',
    'Chinese and Japanese), at most 2,000; its page and section are in the NDJSON (`page`,',
    '`section`). Dropped: the NAME, SYNOPSIS, SEE ALSO, AUTHOR, COPYRIGHT, bug-report and',
    'translator sections; paragraphs that are mostly symbols or cross references; paragraphs',
    'already seen on an earlier page; and, in translated pages, paragraphs left in English (more',
    'than 8% of their words are common English words), in the wrong script, or (ja/zh) without',
    `kana / with kana. At most ${int(report.opts.maxPages)} pages a language, taken in a fixed hash order of`,
    `their names, and ${report.opts.maxDocsPerPage} documents a page. pt_BR is tagged \`pt-BR\` (the product publishes`,
    'it as `pt`); zh_CN is `zh`; zh_TW is left out, since manpages-zh ships it as a script',
    'conversion of the same pages and the product would file `zh-Hant` under `zh` too.',
    '',
    corpusSection(report),
    '',
    '## Method',
    '',
    '- **Ours:** the published hash `stopwords:<lang>` (HGETALL), ranked by confidence (df/N × 2^−RIDF:',
    '  df/N discounted for burstiness, README "How lists are chosen"), ties by word.',
    '- **Baseline:** in the harness, `text.toLowerCase().split(/[^\\p{L}]+/u)`, unique terms per',
    '  document, ranked by document frequency, ties by word.',
    '- **Score:** precision at k against `stopwords-iso` 1.1.0 (the share of the first k words that',
    '  are in the reference list; a list shorter than k counts the gap as misses). An elided form',
    "  that the product keeps with its apostrophe (`l'`, `qu'`) counts as the reference's `l`, `qu`;",
    "  Romanian ș and ț match the reference's ş and ţ (cedilla).",
    '  stopwords-iso is a broad list (hundreds of words per language, some with odd entries), so',
    '  precision is the meaningful figure here, not recall.',
    `- **Macro:** the mean over the ${scored(report).length} languages that have a reference list and a`,
    `  published list. Not in it: ${excluded.map((l) => `${l.lang} (${l.iso === null ? 'no stopwords-iso list' : l.ours === null ? `not published: ${int(l.docs.length)} documents, below analysis.minDocuments` : 'empty list'})`).join(', ') || 'none'}.`,
    '',
    '## Results',
    '',
    resultsSection(report),
    '',
    `Macro P@50: ours ${f2(m.ours[50])}, baseline ${f2(m.baseline[50])}: ${m.ours[50] >= m.baseline[50] + 0.05 ? 'at least' : '**not**'} baseline + 0.05.`,
    `Languages where ours is below the baseline at P@50: ${
      scored(report)
        .filter((l) => l.p.ours[50] < l.p.baseline[50])
        .map((l) => `${l.lang} (${f2(l.p.ours[50])} vs ${f2(l.p.baseline[50])})`)
        .join(', ') || 'none'
    }.`,
    '',
    '### Chinese and Japanese: words or runs of characters?',
    '',
    'The top 20 of each list. The product segments Han and kana with `Intl.Segmenter`; the naive',
    'split only breaks at non-letters, so for scripts without spaces it yields whole clauses.',
    '',
    cjkSection(report),
    '### False positives',
    '',
    'The first ten words of each top 50 that stopwords-iso does not have. Many are the topical',
    'vocabulary of man pages (file, option, command, system), which any corpus-derived list',
    'picks up from a corpus this uniform; some are real function words the reference lacks.',
    '',
    falsePositives(report),
    '',
    discussion(report, macro(report)),
    '',
    '## Experiments: other rankings of the same corpus',
    '',
    "P@50 of our tokens ranked by other measures, computed in the harness with the product's",
    'tokeniser (`dist/analysis/tokenizer.js`) on the same documents; the product itself ranks by',
    'df/N × 2^−RIDF. In brackets: the difference from df/N.',
    '',
    ...MEASURES.map((x) => `- **${x.label}**: ${measureText[x.key]} Needs: ${x.state}.`),
    '',
    experimentsSection(report),
    '',
    experimentFindings(report, m),
    '',
    ...productCost,
    '',
    'Raw lists (every ranking, misses marked `*`): `bench/out/quality/<lang>.tsv`; all figures:',
    '`bench/out/quality/results.json`.',
    '',
  ].join('\n');
  writeFileSync(file, text);
}

const productCost = [
  '**What the product keeps.** The state keeps, per document, its terms with their number of',
  'occurrences, so that a delta subtracts a changed or deleted document exactly, and per term the',
  'document frequency and the number of occurrences, from which the selection computes RIDF.',
  'Dispersion over sources (pages/P, DP) would need a notion of source that documents do',
  'not carry today (a field naming where a document comes from: a page, a site, a product), and',
  'DP needs occurrence counts per term and source kept exact under deltas, which grows with the',
  'vocabulary times the number of sources instead of with the vocabulary.',
];

const measureText = {
  ratio:
    "the share of documents containing the word: the product's thresholds (minDocumentRatio, leaveDocumentRatio) and, before state schema 2, its ranking.",
  pages:
    "the share of distinct man pages containing the word. A word that fills many paragraphs of one long page (a tool's own vocabulary) counts once.",
  ratioPages: 'the product of the two: frequent in documents and spread over pages.',
  poisson:
    "df/N times observed df over the df a Poisson spread of the word's occurrences would give (Church & Gale's residual IDF, as 2^−RIDF ∈ (0, 1]): bursty words, which come several at a time in the documents that have them, are pushed down. What the product ranks and caps by and publishes (computed here again, so it also checks that the harness counts like the product).",
  dp: "df/N times 1 − Gries' DP over pages (DP: how far the word's occurrences are from being spread over pages in proportion to their size; 0 is perfectly even).",
};
