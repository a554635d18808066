/**
 * Validation of one corpus document, shared by every source. Pure: takes a parsed value and
 * returns either a normalised document or the reason it was rejected. Messages built from these
 * reasons never contain document text.
 */
import type { FieldNames } from '../config/types.js';

/** Every way a document can be bad. The two language reasons keep the document, under `und`. */
export const BAD_REASONS = [
  'invalidUtf8',
  'invalidJson',
  'invalidBson',
  'notAnObject',
  'lineTooLong',
  'missingId',
  'invalidId',
  'missingUpdatedAt',
  'invalidUpdatedAt',
  'missingText',
  'textNotString',
  'textTooLarge',
  'invalidDeleted',
  'missingLanguage',
  'invalidLanguage',
] as const;
export type BadReason = (typeof BAD_REASONS)[number];

export const BAD_REASON_TEXT: Record<BadReason, string> = {
  invalidUtf8: 'line is not valid UTF-8',
  invalidJson: 'line is not valid JSON',
  invalidBson: 'document is not valid BSON',
  notAnObject: 'line is JSON but not an object',
  lineTooLong: 'line is longer than the largest accepted document',
  missingId: 'id field is missing',
  invalidId: 'id is not a non-empty string, an integer or an ObjectId',
  missingUpdatedAt: 'updatedAt field is missing',
  invalidUpdatedAt: 'updatedAt is not a valid date with a time zone',
  missingText: 'no text field is present',
  textNotString: 'a text field is not a string',
  textTooLarge: 'text is larger than source.maxDocumentBytes',
  invalidDeleted: 'tombstone field is neither a date nor a boolean',
  missingLanguage: 'language is missing (counted under und)',
  invalidLanguage: 'language is not a BCP-47 tag (counted under und)',
};

export interface ValidDocument {
  readonly id: string;
  /** Raw language value, to be normalised by the tokeniser's `normalizeLanguage`. */
  readonly rawLang: unknown;
  readonly text: string;
  readonly updatedAtMs: number;
  readonly deleted: boolean;
}

export type DocumentCheck =
  | { readonly ok: true; readonly doc: ValidDocument }
  | { readonly ok: false; readonly reason: BadReason; readonly id: string | null };

export interface DocumentRules {
  readonly fields: FieldNames;
  readonly maxDocumentBytes: number;
}

const MAX_ID_LENGTH = 512;
/** Latest instant a JavaScript Date can hold that is still a four-digit year. */
const MAX_TIME_MS = 253_402_300_799_999;
const ISO_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2}))?$/;
const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

/** A field accessor for plain or dotted paths (`body.text`), compiled once. */
export type FieldGetter = (value: Record<string, unknown>) => unknown;

export function fieldGetter(path: string): FieldGetter {
  if (!path.includes('.')) return (value) => value[path];
  const parts = path.split('.');
  return (value) => {
    let current: unknown = value;
    for (const part of parts) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[part];
    }
    return current;
  };
}

export function parseTime(value: unknown): number | null {
  if (typeof value === 'string') {
    if (!ISO_WITH_ZONE.test(value)) return null;
    const ms = Date.parse(value);
    return Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIME_MS ? ms : null;
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= MAX_TIME_MS ? value : null;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIME_MS ? ms : null;
  }
  if (value !== null && typeof value === 'object' && '$date' in value) {
    // MongoDB Extended JSON, as mongoexport writes it.
    const inner = (value as { $date: unknown }).$date;
    if (inner !== null && typeof inner === 'object' && '$numberLong' in inner) {
      const long = (inner as { $numberLong: unknown }).$numberLong;
      return typeof long === 'string' && /^\d+$/.test(long) ? parseTime(Number(long)) : null;
    }
    return parseTime(inner);
  }
  return null;
}

function normaliseId(value: unknown): string | null {
  if (typeof value === 'string') {
    return value.length > 0 && value.length <= MAX_ID_LENGTH ? value : null;
  }
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : null;
  if (value !== null && typeof value === 'object' && '$oid' in value) {
    const oid = (value as { $oid: unknown }).$oid;
    return typeof oid === 'string' && OBJECT_ID.test(oid) ? oid.toLowerCase() : null;
  }
  if (value !== null && typeof value === 'object' && 'toHexString' in value) {
    const hex = (value as { toHexString: () => unknown }).toHexString();
    return typeof hex === 'string' ? hex : null;
  }
  return null;
}

/** Interprets a tombstone: absent, null or false is live; true or a date is deleted. */
function parseDeleted(value: unknown): boolean | null {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  return parseTime(value) === null ? null : true;
}

export class DocumentValidator {
  private readonly getId: FieldGetter;
  private readonly getLang: FieldGetter;
  private readonly getTexts: readonly FieldGetter[];
  private readonly getUpdatedAt: FieldGetter;
  private readonly getDeleted: FieldGetter;
  private readonly maxDocumentBytes: number;

  constructor(rules: DocumentRules) {
    this.getId = fieldGetter(rules.fields.id);
    this.getLang = fieldGetter(rules.fields.lang);
    this.getTexts = rules.fields.text.map(fieldGetter);
    this.getUpdatedAt = fieldGetter(rules.fields.updatedAt);
    this.getDeleted = fieldGetter(rules.fields.deleted);
    this.maxDocumentBytes = rules.maxDocumentBytes;
  }

  /**
   * Whether a text of `bytes` bytes of UTF-8 is larger than `maxDocumentBytes`: the last check
   * of `check`, for a caller that decoded the text itself (`PreparedText`).
   */
  textTooLarge(bytes: number): boolean {
    return bytes > this.maxDocumentBytes;
  }

  check(value: unknown): DocumentCheck {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, reason: 'notAnObject', id: null };
    }
    const record = value as Record<string, unknown>;
    const rawId = this.getId(record);
    if (rawId === undefined || rawId === null) return { ok: false, reason: 'missingId', id: null };
    const id = normaliseId(rawId);
    if (id === null) return { ok: false, reason: 'invalidId', id: null };

    const rawUpdatedAt = this.getUpdatedAt(record);
    if (rawUpdatedAt === undefined || rawUpdatedAt === null) {
      return { ok: false, reason: 'missingUpdatedAt', id };
    }
    const updatedAtMs = parseTime(rawUpdatedAt);
    if (updatedAtMs === null) return { ok: false, reason: 'invalidUpdatedAt', id };

    const deleted = parseDeleted(this.getDeleted(record));
    if (deleted === null) return { ok: false, reason: 'invalidDeleted', id };

    let text = '';
    let present = 0;
    for (const get of this.getTexts) {
      const part = get(record);
      if (part === undefined || part === null) continue;
      if (typeof part !== 'string') return { ok: false, reason: 'textNotString', id };
      // A newline keeps the last word of one field from joining the first of the next.
      text = present === 0 ? part : `${text}\n${part}`;
      present++;
    }
    if (present === 0 && !deleted) return { ok: false, reason: 'missingText', id };
    // UTF-8 needs at most three bytes per UTF-16 unit, so short texts skip the exact count.
    if (text.length * 3 > this.maxDocumentBytes && this.textTooLarge(Buffer.byteLength(text))) {
      return { ok: false, reason: 'textTooLarge', id };
    }
    return { ok: true, doc: { id, rawLang: this.getLang(record), text, updatedAtMs, deleted } };
  }
}
