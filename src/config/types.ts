/**
 * The validated, frozen configuration every other module receives.
 *
 * Strings that may hold `${VAR}` references (secrets, URLs) are kept as written and resolved only
 * where they are used, with `resolveRef` from `./env-refs.js`: a run that never needs a value never
 * fails for a missing variable.
 */
export interface FieldNames {
  /** Document id field. */
  readonly id: string;
  /** Language code field (BCP-47). */
  readonly lang: string;
  /** One or more text fields; their contents are concatenated for analysis. */
  readonly text: readonly string[];
  /** Last-modified timestamp field. */
  readonly updatedAt: string;
  /** Tombstone field: a date (deleted since) or `true` marks a deleted document. */
  readonly deleted: string;
}

export interface SourceConfig {
  /** `file:PATH`, `mongodb://…/DB` or `mongodb+srv://…/DB`; may hold `${VAR}` references. */
  readonly uri: string;
  readonly collection: string;
  readonly safetyLagSeconds: number;
  /** MongoDB: documents per page query. */
  readonly batchSize: number;
  readonly readPreference:
    | 'primary'
    | 'primaryPreferred'
    | 'secondary'
    | 'secondaryPreferred'
    | 'nearest';
  /** MongoDB: 0 = no limit, else at least 90. */
  readonly maxStalenessSeconds: number;
  readonly connectTimeoutSeconds: number;
  readonly retries: number;
  readonly fields: FieldNames;
  /** Largest accepted document text, in UTF-8 bytes; larger documents are rejected as bad. */
  readonly maxDocumentBytes: number;
  /** Share of bad documents (0..1) above which the run fails. */
  readonly maxBadDocumentRatio: number;
}

export interface AnalysisConfig {
  /** Worker threads in the analysis pool. */
  readonly workers: number;
  readonly minDocuments: number;
  readonly minDocumentRatio: number;
  readonly leaveDocumentRatio: number;
  readonly maxStopwords: number;
  /** `on`: documents without a usable language field get one detected from their text. */
  readonly detectLanguage: 'off' | 'on';
  /** BCP-47 tags (`pt-BR`, `zh-Hant`) published as lists of their own. */
  readonly languageVariants: readonly string[];
}

/** Checks of the new lists against the live ones before a publish; `run --force` overrides them. */
export interface GuardrailsConfig {
  /** Largest (added + removed) / live words allowed per language. */
  readonly maxChurnRatio: number;
  /** Largest share by which the total number of live stopwords may fall. */
  readonly maxTotalDropRatio: number;
  /** Live lists (and live totals) smaller than this are not judged on churn or drop. */
  readonly minBaseWords: number;
  /** Whether a live language may vanish or become empty. */
  readonly languageRemoval: 'refuse' | 'allow';
}

export interface StateConfig {
  readonly dir: string;
  /** `fail`: a corrupt checkpoint is an error; `recount`: it means a full recount. */
  readonly onCorruptCheckpoint: 'fail' | 'recount';
  /** Hours after a known-sound state in which a delta run skips its integrity check; 0: never. */
  readonly integrityCheckHours: number;
}

export interface RedisConfig {
  /** May hold `${VAR}` references. */
  readonly url: string;
  readonly keyPrefix: string;
  readonly keepVersions: number;
  readonly connectTimeoutSeconds: number;
  /** Seconds a staging hash lives if a run dies before its swap. */
  readonly stagingTtlSeconds: number;
  /** Lifetime of the run lock without renewal. */
  readonly lockTtlSeconds: number;
}

export interface MonitoringConfig {
  readonly pushgateway: { readonly url: string | null };
  readonly textfile: { readonly path: string | null };
}

export interface AlertsConfig {
  readonly slack: { readonly webhookUrl: string | null };
  readonly webhook: { readonly url: string | null };
  readonly email: {
    readonly smtpUrl: string | null;
    readonly from: string | null;
    readonly to: readonly string[];
  };
  /** `alert`: a run refused by the lock (exit 3) is alerted like a failure. */
  readonly onLockHeld: 'ignore' | 'alert';
}

export interface LoggingConfig {
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface Config {
  readonly schedule: { readonly cron: string; readonly timezone: string };
  readonly maxDurationSeconds: number;
  readonly source: SourceConfig;
  readonly analysis: AnalysisConfig;
  readonly guardrails: GuardrailsConfig;
  readonly state: StateConfig;
  readonly redis: RedisConfig;
  readonly monitoring: MonitoringConfig;
  readonly alerts: AlertsConfig;
  readonly logging: LoggingConfig;
}
