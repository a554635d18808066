/**
 * Guardrails: the last look at the new lists before they reach consumers. A corpus that went
 * wrong upstream (a broken export, a language re-tagged, a filter that dropped most documents)
 * shows up here as lists that change far more than a night's worth; refusing to publish keeps
 * yesterday's lists live until someone has looked. Pure: selections and live sets in, violations out.
 *
 * Nothing is judged against an absent baseline, so the first publish and new languages always
 * pass, and small lists (below `minBaseWords`) may change freely: three words of ten is noise,
 * not an anomaly.
 */
import type { LanguageSelection } from '../analysis/select.js';
import type { GuardrailsConfig } from '../config/types.js';

export type GuardrailRule = 'languageRemoved' | 'languageEmptied' | 'churn' | 'totalDrop';

export interface GuardrailViolation {
  readonly rule: GuardrailRule;
  /** The language concerned; `null` for `totalDrop`. */
  readonly lang: string | null;
  /** The ratio measured (`churn`, `totalDrop`); `null` for removals, which have no degree. */
  readonly measured: number | null;
  /** The configured limit it exceeded; `null` for removals. */
  readonly limit: number | null;
  /** One sentence, safe to show: names the language, the numbers and the key that decides. */
  readonly message: string;
}

/**
 * Every rule the new lists break, per language in language order, then the total; empty when they
 * may be published. `live` holds the live words per language (empty before the first publish).
 */
export function checkGuardrails(
  selections: readonly LanguageSelection[],
  live: ReadonlyMap<string, ReadonlySet<string>>,
  rules: GuardrailsConfig,
): GuardrailViolation[] {
  const violations: GuardrailViolation[] = [];
  const byLang = new Map(selections.map((s) => [s.lang, s]));
  let liveTotal = 0;
  let newTotal = 0;
  for (const s of selections) if (s.published) newTotal += s.words.length;

  for (const lang of [...live.keys()].sort()) {
    const liveWords = live.get(lang) ?? new Set<string>();
    if (liveWords.size === 0) continue;
    liveTotal += liveWords.size;
    const selection = byLang.get(lang);
    if (selection === undefined || !selection.published || selection.words.length === 0) {
      if (rules.languageRemoval === 'refuse') violations.push(removal(lang, liveWords, selection));
      continue;
    }
    if (liveWords.size < rules.minBaseWords) continue;
    let kept = 0;
    for (const word of selection.words) if (liveWords.has(word.word)) kept++;
    const added = selection.words.length - kept;
    const removed = liveWords.size - kept;
    const churn = (added + removed) / Math.max(liveWords.size, 1);
    if (churn > rules.maxChurnRatio) {
      violations.push({
        rule: 'churn',
        lang,
        measured: churn,
        limit: rules.maxChurnRatio,
        message: `${lang}: ${added} stopwords added and ${removed} removed against ${liveWords.size} live, a churn of ${fixed(churn)}, above guardrails.maxChurnRatio ${rules.maxChurnRatio}`,
      });
    }
  }

  if (liveTotal > 0 && liveTotal >= rules.minBaseWords && newTotal < liveTotal) {
    const drop = (liveTotal - newTotal) / liveTotal;
    if (drop > rules.maxTotalDropRatio) {
      violations.push({
        rule: 'totalDrop',
        lang: null,
        measured: drop,
        limit: rules.maxTotalDropRatio,
        message: `the stopwords across all languages would fall from ${liveTotal} to ${newTotal} (${percent(drop)}), more than guardrails.maxTotalDropRatio ${rules.maxTotalDropRatio} (${percent(rules.maxTotalDropRatio)})`,
      });
    }
  }
  return violations;
}

/** The violations as one line for a log, an alert or `JobResult.errors`. */
export function describeViolations(violations: readonly GuardrailViolation[]): string {
  return violations.map((v) => v.message).join('; ');
}

function removal(
  lang: string,
  liveWords: ReadonlySet<string>,
  selection: LanguageSelection | undefined,
): GuardrailViolation {
  const documents = selection?.documents ?? 0;
  const emptied = selection?.skipped === 'noStopwords';
  const why = emptied
    ? `no word reaches analysis.minDocumentRatio in its ${documents} documents`
    : documents === 0
      ? 'it has no documents in this run'
      : `its ${documents} documents are too few to publish (analysis.minDocuments)`;
  return {
    rule: emptied ? 'languageEmptied' : 'languageRemoved',
    lang,
    measured: null,
    limit: null,
    message: `${lang}: live with ${liveWords.size} stopwords, would be ${emptied ? 'emptied' : 'removed'}: ${why}; guardrails.languageRemoval is refuse`,
  };
}

function fixed(ratio: number): string {
  return String(Math.round(ratio * 1000) / 1000);
}

function percent(ratio: number): string {
  return `${String(Math.round(ratio * 1000) / 10)}%`;
}
