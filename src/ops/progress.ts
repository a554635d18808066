/**
 * The progress spinner: only on a terminal, never in cron or CI, always on stderr.
 */
import ora, { type Ora } from 'ora';

export interface Progress {
  phase(text: string): void;
  documents(count: number): void;
  stop(ok: boolean, text: string): void;
}

const noop: Progress = { phase() {}, documents() {}, stop() {} };

export function createProgress(enabled: boolean): Progress {
  if (!enabled) return noop;
  const spinner: Ora = ora({ stream: process.stderr, discardStdin: false }).start('starting');
  let phase = 'starting';
  let startedAt = Date.now();
  let lastUpdate = 0;
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
      spinner.text = `${phase}: ${count.toLocaleString('en-US')} documents (${Math.round(rate).toLocaleString('en-US')} docs/s)`;
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
