// What the figures were measured on. The load average is recorded at start and end because the
// machine may be shared: a load above the core count means the figures are pessimistic.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineInfo(redisVersion) {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (line !== null) cpuModel = line[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpuModel,
    cores: os.availableParallelism(),
    ramGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    redis: redisVersion,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

export function describeMachine(m) {
  const load = [
    `load average ${m.loadAverageAtStart.join(' ')} at start`,
    m.loadAverageAtEnd === undefined ? '' : `, ${m.loadAverageAtEnd.join(' ')} at end`,
  ].join('');
  return `${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, redis-server ${m.redis}, ${m.platform}; ${load}`;
}
