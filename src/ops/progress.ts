/**
 * The progress spinner: only on a terminal, never in cron or CI, always on stderr. Its library
 * is loaded only then (about 40 ms of every run's start-up otherwise).
 */
import type { Ora } from 'ora';

export interface Progress {
  phase(text: string): void;
  documents(count: number): void;
  /** The number of documents the phase will see, when known: the spinner shows an ETA. */
  total(count: number): void;
  stop(ok: boolean, text: string): void;
}

const noop: Progress = { phase() {}, documents() {}, total() {}, stop() {} };

export async function createProgress(enabled: boolean): Promise<Progress> {
  if (!enabled) return noop;
  const { default: ora } = await import('ora');
  const spinner: Ora = ora({ stream: process.stderr, discardStdin: false }).start('starting');
  let phase = 'starting';
  let startedAt = Date.now();
  let lastUpdate = 0;
  let total: number | null = null;
  return {
    phase(text) {
      phase = text;
      startedAt = Date.now();
      spinner.text = text;
    },
    documents(count) {
      const now = Date.now();
      if (now - lastUpdate < 200) return;
      lastUpdate = now;
      const rate = count / Math.max((now - startedAt) / 1000, 0.001);
      const eta =
        total !== null && total > count && rate > 0
          ? `, about ${formatDuration((total - count) / rate)} left`
          : '';
      const of = total === null ? '' : ` of ${total.toLocaleString('en-US')}`;
      spinner.text = `${phase}: ${count.toLocaleString('en-US')}${of} documents (${Math.round(rate).toLocaleString('en-US')} docs/s${eta})`;
    },
    total(count) {
      total = count;
    },
    stop(ok, text) {
      if (ok) spinner.succeed(text);
      else spinner.fail(text);
    },
  };
}

export function progressWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  // A terminal that reports no width (some pseudo-terminals) would make the spinner's line
  // arithmetic divide by zero: no spinner there either.
  return (
    stream.isTTY === true &&
    (stream.columns ?? 0) > 0 &&
    env['CI'] !== 'true' &&
    env['TERM'] !== 'dumb'
  );
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
