// Runs the built CLI as a subprocess and measures it from outside: wall time, and the peak
// resident memory of the process (main thread and worker threads share one process, so the
// process's high-water mark covers them all).
//
// Peak RSS comes from GNU time (`/usr/bin/time -v`, Debian package `time`), which reads the
// kernel's ru_maxrss when the process exits. Without it, /proc/<pid>/status VmHWM (the kernel's
// own high-water mark) is polled every 100 ms; a peak in the last 100 ms before exit may be missed.
//
// The bytes the process read from the disk (rather than from the page cache) come from the same
// place: GNU time's "File system inputs" (512-byte blocks), or /proc/<pid>/io read_bytes polled.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const POLL_MS = 100;
// Clock ticks of /proc/<pid>/stat utime and stime: USER_HZ, 100 on every Linux build in use.
const USER_HZ = 100;

/** Subprocesses still running, so that an interrupted benchmark can stop them. */
export const activeChildren = new Set();

export function rssMethod(requested) {
  if (requested === 'poll') return 'poll';
  const available = existsSync(GNU_TIME);
  if (requested === 'time' && !available) {
    throw new Error(`${GNU_TIME} is missing; apt-get install time, or use --rss poll`);
  }
  return available ? 'time' : 'poll';
}

/**
 * Runs `node [nodeArgs] bin/stopword-refresh run [args]`. Resolves to
 * { exitCode, wallSeconds, cpuSeconds (user + system, all threads), peakRssBytes, diskReadBytes,
 * result (the parsed JobResult or null), stderrTail }. CPU time is what a shared machine disturbs least.
 */
export function runCli({ root, args, env, method, nodeArgs = [] }) {
  const command = [...nodeArgs, join(root, 'bin/stopword-refresh'), 'run', ...args];
  let timeFile = null;
  let file = process.execPath;
  let argv = command;
  if (method === 'time') {
    const dir = mkdtempSync(join(tmpdir(), 'stopword-bench-time-'));
    timeFile = join(dir, 'time.txt');
    file = GNU_TIME;
    argv = ['-v', '-o', timeFile, process.execPath, ...command];
  }
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    activeChildren.add(child);
    const stdout = [];
    let stderr = '';
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8000);
    });
    let polledPeak = 0;
    let polledCpu = null;
    let polledDisk = null;
    const poll =
      method === 'poll'
        ? setInterval(() => {
            polledPeak = Math.max(polledPeak, statusKb(child.pid, 'VmHWM') * 1024);
            polledCpu = cpuTicks(child.pid) ?? polledCpu;
            polledDisk = diskReadBytes(child.pid) ?? polledDisk;
          }, POLL_MS)
        : null;
    child.once('error', reject);
    child.once('close', (code) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      activeChildren.delete(child);
      if (poll !== null) clearInterval(poll);
      let peakRssBytes = polledPeak || null;
      let cpuSeconds = polledCpu === null ? null : polledCpu / USER_HZ;
      let diskBytes = polledDisk;
      if (timeFile !== null) {
        const report = existsSync(timeFile) ? readFileSync(timeFile, 'utf8') : '';
        const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
        peakRssBytes = kb === null ? null : Number(kb[1]) * 1024;
        const user = /User time \(seconds\): ([\d.]+)/.exec(report);
        const system = /System time \(seconds\): ([\d.]+)/.exec(report);
        cpuSeconds = user === null || system === null ? null : Number(user[1]) + Number(system[1]);
        const inputs = /File system inputs: (\d+)/.exec(report);
        diskBytes = inputs === null ? null : Number(inputs[1]) * 512;
        rmSync(join(timeFile, '..'), { recursive: true, force: true });
      }
      const text = Buffer.concat(stdout).toString('utf8');
      let result = null;
      try {
        result = JSON.parse(text);
      } catch {
        stderr = `${stderr}\n[stdout] ${text.slice(0, 2000)}`;
      }
      // GNU time reports the command's status as its own.
      resolve({
        exitCode: code,
        wallSeconds,
        cpuSeconds,
        peakRssBytes,
        diskReadBytes: diskBytes,
        result,
        stderrTail: stderr.slice(-2000),
      });
    });
  });
}

// utime + stime of the whole process (every thread), in clock ticks; null once it is gone. The
// last poll misses at most the final 100 ms.
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

// Bytes the process has had read from storage so far; null once it is gone.
function diskReadBytes(pid) {
  try {
    const match = /^read_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

function statusKb(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}
