/**
 * Runs the built CLI (`bin/stopword-refresh`, over `dist/`) as a subprocess, as cron would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${ROOT}bin/stopword-refresh`;

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON, or undefined when it is not exactly one JSON document. */
  readonly json: Record<string, unknown> | undefined;
}

export interface CliOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Called once the process has started, e.g. to signal it. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** An environment without any STOPWORD_REFRESH_* or secret variables of the caller. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('STOPWORD_REFRESH_') || key === 'REDIS_URL' || key === 'MONGODB_URI')
      continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: options.env === undefined ? cleanEnv() : cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(stdout);
        if (
          parsed !== null &&
          typeof parsed === 'object' &&
          stdout.trim().split('\n').length === 1
        ) {
          json = parsed as Record<string, unknown>;
        }
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
    options.onSpawn?.(child);
  });
}
