// A private redis-server for the benchmark: a free port (never 6379, where a developer's own
// Redis may live), no persistence, every command logged in SLOWLOG so the harness can report the
// longest one a run issued.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';

const START_TIMEOUT_MS = 10_000;

export function redisServerVersion() {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return null;
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? probe.stdout.trim();
}

export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address();
        server.close(() => resolve(p));
      });
    });
    if (port !== 6379) return port;
  }
}

/** Starts redis-server under `parentDir`; resolves to { url, port, client, slowlog…, stop }. */
export async function startRedis(parentDir) {
  if (redisServerVersion() === null) {
    throw new Error(
      'redis-server is not installed; on Debian/Ubuntu: apt-get install redis-server (the benchmark starts its own on a free port)',
    );
  }
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(parentDir, 'redis-'));
    try {
      return await launch(port, dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      lastError = error;
    }
  }
  throw new Error('redis-server did not start after 3 attempts', { cause: lastError });
}

async function launch(port, dir) {
  const child = spawn(
    'redis-server',
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
      '--slowlog-log-slower-than',
      '0',
      '--slowlog-max-len',
      '1000000',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => {});
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`redis-server exited on start (port ${port})`);
    try {
      await client.connect();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw error;
      }
      await sleep(50);
    }
  }
  const stop = async () => {
    await client.close().catch(() => {});
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((resolve) => (exited ? resolve() : child.once('exit', resolve)));
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url,
    port,
    pid: child.pid,
    client,
    stop,
    resetSlowlog: () => client.sendCommand(['SLOWLOG', 'RESET']),
    longestCommand: () => longestCommand(client),
  };
}

/**
 * The longest command since the last reset, as { ms, command, entries, over10ms, p50Ms, p99Ms };
 * the harness's own SLOWLOG and CONFIG calls are left out. SLOWLOG times a command from start to
 * end on Redis's main thread, so on an overloaded machine a command that lost the CPU half-way
 * counts the wait too: the median and p99 show whether a long one is typical or an outlier.
 */
async function longestCommand(client) {
  const length = Number(await client.sendCommand(['SLOWLOG', 'LEN']));
  const reply = length === 0 ? [] : await client.sendCommand(['SLOWLOG', 'GET', String(length)]);
  let longest = null;
  let over10ms = 0;
  let entries = 0;
  const all = [];
  for (const entry of reply) {
    const micros = Number(entry[2]);
    const args = entry[3].map(String);
    const name = (args[0] ?? '').toUpperCase();
    if (name === 'SLOWLOG' || name === 'CONFIG' || name === 'PING') continue;
    entries++;
    all.push(micros);
    if (micros > 10_000) over10ms++;
    if (longest === null || micros > longest.micros) longest = { micros, args };
  }
  if (longest === null)
    return { ms: null, command: null, entries, over10ms, p50Ms: null, p99Ms: null };
  all.sort((a, b) => a - b);
  const at = (q) => all[Math.min(all.length - 1, Math.floor(q * all.length))] / 1000;
  return {
    ms: longest.micros / 1000,
    command: describe(longest.args),
    entries,
    over10ms,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

// SLOWLOG keeps at most 32 arguments and says how many more there were.
function describe(args) {
  const name = (args[0] ?? '').toUpperCase();
  const key = args[1] ?? '';
  const more = /^\.\.\. \((\d+) more arguments\)$/.exec(args[args.length - 1] ?? '');
  const count = more === null ? args.length - 1 : args.length - 2 + Number(more[1]);
  if (name === 'EVALSHA' || name === 'EVAL') return `${name} (${count} args)`;
  return `${name} ${key} (${count} args)`;
}
