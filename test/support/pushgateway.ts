/**
 * A throwaway `prometheus-pushgateway` (the Debian package) on a free port, persistence off, and
 * a reader for what it holds.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopProcess } from './process.js';
import { freePort } from './redis-server.js';

const BINARY = process.env['PUSHGATEWAY_BIN'] ?? '/usr/bin/prometheus-pushgateway';
const START_TIMEOUT_MS = 10_000;

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PushgatewayServer {
  readonly url: string;
  /** Every sample the gateway exposes to Prometheus right now. */
  samples(): Promise<Sample[]>;
  stop(): Promise<void>;
}

export async function startPushgateway(): Promise<PushgatewayServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port);
    } catch (error) {
      if (error instanceof Error && error.message.includes('not installed')) throw error;
      lastError = error;
    }
  }
  throw new Error('prometheus-pushgateway did not start after 3 attempts', { cause: lastError });
}

async function launch(port: number): Promise<PushgatewayServer> {
  const child = spawn(
    BINARY,
    [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error(`${BINARY} is not installed; apt-get install prometheus-pushgateway`)
          : err,
      ),
    );
    child.once('exit', (code, signal) =>
      reject(new Error(`pushgateway exited early (${code ?? signal}): ${stderr.trim()}`)),
    );
  });
  exited.catch(() => {});
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitReady(url), exited]);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return {
    url,
    async samples() {
      const response = await fetch(`${url}/metrics`);
      return parseSamples(await response.text());
    },
    stop: () => stopProcess(child),
  };
}

async function waitReady(url: string): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {}
    await sleep(50);
  }
  throw new Error(`pushgateway at ${url} was not ready within ${START_TIMEOUT_MS} ms`);
}

/** Samples of exposition text; enough of the format for our gauges. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, '$1');
    }
    out.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return out;
}

/** The one sample of `name` whose labels include `labels`, or undefined. */
export function sampleOf(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Sample | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1)
    throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0];
}
