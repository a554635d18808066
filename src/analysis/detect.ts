/**
 * Optional language detection for documents whose language field is missing or malformed, with
 * ELD (an n-gram detector, pure JavaScript, its n-gram tables shipped in the package). Loaded only
 * when detection is on: the tables take about a second and tens of megabytes per worker.
 * A detection that ELD itself does not call reliable leaves the document under `und`.
 */

/** The part of the text looked at: the opening carries the language as well as the whole. */
const SAMPLE_CHARS = 2000;

export interface LanguageDetector {
  /** An ISO 639-1 code, or null when the text does not tell reliably. */
  detect(text: string): string | null;
}

export async function loadDetector(): Promise<LanguageDetector> {
  const { eld } = await import('eld/small');
  return {
    detect(text) {
      const result = eld.detect(text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text);
      return result.language !== '' && result.isReliable() ? result.language : null;
    },
  };
}
