/**
 * JSON-lines logs on stderr (stdout carries only the JobResult). Fields that could hold secrets
 * are censored even if a caller passes them by mistake.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      level,
      base: { service: 'stopword-refresh' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'password',
          'url',
          'uri',
          '*.password',
          '*.url',
          '*.uri',
          'config.redis',
          'config.source',
        ],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: destination, sync: true }),
  );
}

/** A logger that writes nothing, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
