import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { stopProcess } from './process.js';

/**
 * A throwaway `redis-server` (the Debian package) on a free port, for one test file. Nothing is
 * persisted: no RDB snapshots, no AOF, and its working directory is removed on stop.
 */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const BINARY = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
const START_TIMEOUT_MS = 10_000;

export async function startRedis(): Promise<RedisServer> {
  // The free-port probe and the bind are not atomic; another process may win the port.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'stopword-redis-'));
    try {
      return await launch(port, dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (err instanceof RedisNotInstalledError) throw err;
      lastError = err;
    }
  }
  throw new Error('redis-server did not start after 3 attempts', { cause: lastError });
}

/**
 * A port that refuses connections, for tests of a server that is down: nothing listens on it,
 * and it lies below the kernel's ephemeral range. A port from `freePort` lies in that range, so
 * another test's server may get it meanwhile, or a client connecting to it may be given it as
 * its own source port and connect to itself (TCP's simultaneous open), and then hang instead of
 * being refused.
 */
export async function refusedPort(): Promise<number> {
  let lowestEphemeral = 32768;
  try {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    lowestEphemeral = Number(range.trim().split(/\s+/)[0]) || lowestEphemeral;
  } catch {
    // Not Linux: the default range.
  }
  const lowest = Math.max(1024, Math.min(10_000, lowestEphemeral - 5_000));
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = lowest + Math.floor(Math.random() * (lowestEphemeral - lowest));
    if (port === 6379) continue;
    const bound = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (bound) return port;
  }
  throw new Error(`no free port between ${lowest} and ${lowestEphemeral}`);
}

/** A port nothing listens on right now (never 6379: a developer's own Redis may live there). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => {
          if (address === null || typeof address === 'string') reject(new Error('no port'));
          else resolve(address.port);
        });
      });
    });
    if (port !== 6379) return port;
  }
}

export interface SlowlogEntry {
  id: number;
  durationMicros: number;
  command: string[];
}

/** SLOWLOG GET of every entry, longest first. */
export async function slowlogEntries(url: string): Promise<SlowlogEntry[]> {
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => {});
  await client.connect();
  try {
    const reply = (await client.sendCommand(['SLOWLOG', 'GET', '-1'])) as unknown[];
    return reply
      .map((raw) => {
        const entry = raw as [number, number, number, string[]];
        return { id: entry[0], durationMicros: entry[2], command: entry[3] };
      })
      .sort((a, b) => b.durationMicros - a.durationMicros);
  } finally {
    await client.close();
  }
}

class RedisNotInstalledError extends Error {}

async function launch(port: number, dir: string): Promise<RedisServer> {
  const child = spawn(
    BINARY,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (child.pid !== undefined) {
    try {
      // Latency assertions (SLOWLOG) are about the work a command does, not about the test
      // machine's other processes preempting Redis; needs root or CAP_SYS_NICE, else no effect.
      setPriority(child.pid, -10);
    } catch {}
  }
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new RedisNotInstalledError(
              `'${BINARY}' is not installed; integration tests need it: apt-get install redis-server`,
            )
          : err,
      );
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`redis-server exited early (${code ?? signal}): ${stderr.trim()}`));
    });
  });
  exited.catch(() => {});

  try {
    await Promise.race([waitForPing(port), exited]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }

  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(port: number): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (await pings(port)) return;
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms`);
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
