import { describe, expect, it } from 'vitest';
import type { DfTables } from '../../src/analysis/df-table.js';
import {
  type LanguageSelection,
  type SelectionRules,
  selectStopwords,
} from '../../src/analysis/select.js';
import type { GuardrailsConfig } from '../../src/config/types.js';
import { checkGuardrails, describeViolations } from '../../src/job/guardrails.js';

const rules: GuardrailsConfig = {
  maxChurnRatio: 0.5,
  maxTotalDropRatio: 0.3,
  minBaseWords: 20,
  languageRemoval: 'refuse',
};

function words(lang: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${lang}${from + i}`);
}

/** A selection as `selectLanguage` returns it, with added/removed against `live`. */
function selection(
  lang: string,
  list: readonly string[],
  live: ReadonlySet<string> = new Set(),
  extra: Partial<LanguageSelection> = {},
): LanguageSelection {
  const kept = list.filter((w) => live.has(w)).length;
  return {
    lang,
    documents: 500,
    words: list.map((word) => ({ word, df: 400, cf: 400, confidence: 0.8 })),
    published: list.length > 0,
    skipped: list.length > 0 ? null : 'noStopwords',
    added: list.length - kept,
    removed: live.size - kept,
    ...extra,
  };
}

function liveOf(spec: Record<string, readonly string[]>): Map<string, Set<string>> {
  return new Map(Object.entries(spec).map(([lang, list]) => [lang, new Set(list)]));
}

describe('checkGuardrails', () => {
  it('passes the very first publish, whatever it holds', () => {
    const selections = [selection('en', words('en', 0, 300)), selection('de', words('de', 0, 2))];
    expect(checkGuardrails(selections, new Map(), rules)).toEqual([]);
  });

  it('passes a night of ordinary change', () => {
    const live = liveOf({ en: words('en', 0, 100), de: words('de', 0, 50) });
    const selections = [
      selection('en', words('en', 10, 110), live.get('en')),
      selection('de', words('de', 0, 50), live.get('de')),
      selection('fr', words('fr', 0, 40)),
    ];
    expect(checkGuardrails(selections, live, rules)).toEqual([]);
  });

  it('refuses a churn above maxChurnRatio, and names the numbers', () => {
    const live = liveOf({ en: words('en', 0, 100) });
    // 40 removed, 40 added against 100 live: 0.8
    const selections = [selection('en', words('en', 40, 140), live.get('en'))];
    const violations = checkGuardrails(selections, live, rules);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ rule: 'churn', lang: 'en', measured: 0.8, limit: 0.5 });
    expect(violations[0]?.message).toBe(
      'en: 40 stopwords added and 40 removed against 100 live, a churn of 0.8, above guardrails.maxChurnRatio 0.5',
    );
  });

  it('lets churn reach the limit exactly', () => {
    const live = liveOf({ en: words('en', 0, 100) });
    const selections = [selection('en', words('en', 25, 125), live.get('en'))];
    expect(checkGuardrails(selections, live, rules)).toEqual([]);
  });

  it('does not judge churn on a live list below minBaseWords', () => {
    const live = liveOf({ en: words('en', 0, 19) });
    const selections = [selection('en', words('x', 0, 19), live.get('en'))];
    expect(checkGuardrails(selections, live, rules)).toEqual([]);
    const strict = { ...rules, minBaseWords: 19 };
    expect(checkGuardrails(selections, live, strict).map((v) => v.rule)).toEqual(['churn']);
  });

  it('refuses a live language that vanishes for want of documents', () => {
    const live = liveOf({ en: words('en', 0, 30), fr: words('fr', 0, 30) });
    const selections = [
      selection('en', words('en', 0, 30), live.get('en')),
      selection('fr', [], live.get('fr'), { documents: 3, skipped: 'tooFewDocuments' }),
    ];
    const violations = checkGuardrails(selections, live, { ...rules, maxTotalDropRatio: 1 });
    expect(violations).toEqual([
      {
        rule: 'languageRemoved',
        lang: 'fr',
        measured: null,
        limit: null,
        message:
          'fr: live with 30 stopwords, would be removed: its 3 documents are too few to publish (analysis.minDocuments); guardrails.languageRemoval is refuse',
      },
    ]);
  });

  it('refuses a live language absent from the selections, and one that empties', () => {
    const live = liveOf({ de: words('de', 0, 5), fr: words('fr', 0, 5) });
    const selections = [selection('fr', [], live.get('fr'))];
    const violations = checkGuardrails(selections, live, rules);
    expect(violations.map((v) => [v.rule, v.lang])).toEqual([
      ['languageRemoved', 'de'],
      ['languageEmptied', 'fr'],
    ]);
    expect(violations[0]?.message).toContain('it has no documents in this run');
    expect(violations[1]?.message).toContain('would be emptied');
  });

  it('lets a language go when languageRemoval is allow, still judging the total', () => {
    const live = liveOf({ en: words('en', 0, 30), fr: words('fr', 0, 30) });
    const selections = [
      selection('en', words('en', 0, 30), live.get('en')),
      selection('fr', [], live.get('fr'), { documents: 0, skipped: 'tooFewDocuments' }),
    ];
    const allow = { ...rules, languageRemoval: 'allow' as const };
    const violations = checkGuardrails(selections, live, allow);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ rule: 'totalDrop', lang: null, measured: 0.5 });
    expect(violations[0]?.message).toBe(
      'the stopwords across all languages would fall from 60 to 30 (50%), more than guardrails.maxTotalDropRatio 0.3 (30%)',
    );
    expect(checkGuardrails(selections, live, { ...allow, maxTotalDropRatio: 0.5 })).toEqual([]);
  });

  it('refuses a total drop spread thinly over many languages', () => {
    const spec: Record<string, string[]> = {};
    for (const lang of ['aa', 'bb', 'cc', 'dd', 'ee']) spec[lang] = words(lang, 0, 10);
    const live = liveOf(spec);
    // Every list is below minBaseWords (no churn judged) but the total of 50 falls to 30.
    const selections = [...live].map(([lang, set]) => selection(lang, words(lang, 0, 6), set));
    expect(checkGuardrails(selections, live, rules).map((v) => v.rule)).toEqual(['totalDrop']);
  });

  it('does not judge the total below minBaseWords, nor a total that grows', () => {
    const live = liveOf({ en: words('en', 0, 8), de: words('de', 0, 8) });
    const selections = [
      selection('en', words('en', 0, 3), live.get('en')),
      selection('de', words('de', 0, 3), live.get('de')),
    ];
    expect(checkGuardrails(selections, live, rules)).toEqual([]);
    const grown = liveOf({ en: words('en', 0, 100) });
    expect(
      checkGuardrails([selection('en', words('en', 0, 140), grown.get('en'))], grown, rules),
    ).toEqual([]);
  });

  it('works on what selectStopwords returns when a language collapses', () => {
    const selectionRules: SelectionRules = {
      minDocuments: 10,
      minDocumentRatio: 0.5,
      leaveDocumentRatio: 0.5,
      maxStopwords: 100,
    };
    const live = liveOf({ en: words('en', 0, 25), fr: words('fr', 0, 25) });
    const df = (list: readonly string[]) => new Map(list.map((w) => [w, 90]));
    const tables: DfTables = new Map([
      ['en', { n: 100, df: df(words('en', 0, 25)), cf: df(words('en', 0, 25)) }],
      ['fr', { n: 4, df: df(words('fr', 0, 25)), cf: df(words('fr', 0, 25)) }],
    ]);
    const selections = selectStopwords(tables, live, selectionRules);
    const violations = checkGuardrails(selections, live, rules);
    expect(violations.map((v) => [v.rule, v.lang])).toEqual([
      ['languageRemoved', 'fr'],
      ['totalDrop', null],
    ]);
    expect(describeViolations(violations)).toMatch(/^fr: live with 25 stopwords.*; the stopwords/);
  });
});
