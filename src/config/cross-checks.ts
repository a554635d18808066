/**
 * Rules that span several keys. They are judged on the merged configuration (a flag may change
 * one side), and only once each key involved is valid on its own.
 */

export interface CrossProblem {
  readonly path: string;
  readonly problem: string;
}

/** A rule over several keys, judged on the merged configuration once each key is valid alone. */
export interface CrossCheck {
  readonly paths: readonly string[];
  check(get: (path: string) => unknown): CrossProblem | null;
}

export const crossChecks: readonly CrossCheck[] = [
  {
    paths: ['source.maxStalenessSeconds'],
    check: (get) => {
      const seconds = get('source.maxStalenessSeconds') as number;
      // The driver and the server refuse smaller values (heartbeat interval + idle write period).
      return seconds === 0 || seconds >= 90
        ? null
        : {
            path: 'source.maxStalenessSeconds',
            problem: `must be 0 (no limit) or at least 90 seconds, got ${seconds}`,
          };
    },
  },
  {
    paths: ['analysis.leaveDocumentRatio', 'analysis.minDocumentRatio'],
    check: (get) => {
      const leave = get('analysis.leaveDocumentRatio') as number;
      const min = get('analysis.minDocumentRatio') as number;
      return leave <= min
        ? null
        : {
            path: 'analysis.leaveDocumentRatio',
            problem: `must be at most analysis.minDocumentRatio (${min}), got ${leave}`,
          };
    },
  },
  {
    paths: ['alerts.email.smtpUrl', 'alerts.email.from'],
    check: (get) =>
      get('alerts.email.smtpUrl') !== null && get('alerts.email.from') === null
        ? { path: 'alerts.email.from', problem: 'is required when alerts.email.smtpUrl is set' }
        : null,
  },
  {
    paths: ['alerts.email.smtpUrl', 'alerts.email.to'],
    check: (get) =>
      get('alerts.email.smtpUrl') !== null &&
      (get('alerts.email.to') as readonly string[]).length === 0
        ? {
            path: 'alerts.email.to',
            problem: 'must list at least one address when alerts.email.smtpUrl is set',
          }
        : null,
  },
  {
    paths: [
      'source.fields.id',
      'source.fields.lang',
      'source.fields.text',
      'source.fields.updatedAt',
      'source.fields.deleted',
    ],
    check: (get) => {
      const names: Array<readonly [key: string, field: string]> = [
        'id',
        'lang',
        'updatedAt',
        'deleted',
      ].map((key) => [key, get(`source.fields.${key}`) as string] as const);
      for (const name of get('source.fields.text') as readonly string[]) names.push(['text', name]);
      for (const [i, [key, name]] of names.entries()) {
        const other = names.findIndex(([, n]) => n === name);
        if (other < i) {
          return {
            path: `source.fields.${key}`,
            problem: `names the field ${JSON.stringify(name)} already used by source.fields.${names[other]?.[0]}`,
          };
        }
      }
      return null;
    },
  },
];
