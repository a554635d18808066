// What the figures were measured on. The load average is recorded at start and end because the
// machine may be shared: a load above the core count means the figures are pessimistic. So is a
// speed probe (`speedProbe`): on a virtual machine the same work can take 15% more CPU time in
// one hour than in another, with nothing else running, and the probe shows such a spell.
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
  const probes = [
    m.probeAtStart === undefined ? '' : `; speed probe ${describeProbe(m.probeAtStart)} at start`,
    m.probeAtEnd === undefined ? '' : `, ${describeProbe(m.probeAtEnd)} at end`,
  ].join('');
  return `${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, redis-server ${m.redis}, ${m.platform}; ${load}${probes}`;
}

/**
 * Two fixed single-threaded workloads, timed: FNV-1a hashing of a 1 MB buffer (arithmetic, in
 * cache: MB/s) and a chase of 2^21 dependent random reads through a 64 MB array (memory latency,
 * the counting tables' cost: ns per read). Deterministic inputs, about 1.5 s in all. Compare
 * probes of one machine only.
 */
export function speedProbe() {
  const bytes = new Uint8Array(1 << 20);
  let seed = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    bytes[i] = seed >>> 24;
  }
  let h = 0x811c9dc5;
  let hashed = 0;
  const hashStart = process.hrtime.bigint();
  for (let round = 0; round < 256; round++) {
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    hashed += bytes.length;
  }
  const hashSeconds = Number(process.hrtime.bigint() - hashStart) / 1e9;
  // One cycle through every slot (Sattolo's shuffle), so each read depends on the one before.
  const size = 1 << 24;
  const next = new Int32Array(size);
  for (let i = 0; i < size; i++) next[i] = i;
  for (let i = size - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const j = seed % i;
    const t = next[i];
    next[i] = next[j];
    next[j] = t;
  }
  let at = 0;
  const reads = 1 << 21;
  const chaseStart = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) at = next[at];
  const chaseSeconds = Number(process.hrtime.bigint() - chaseStart) / 1e9;
  return {
    hashMBps: Math.round(hashed / 1e6 / hashSeconds),
    randomReadNs: Number(((chaseSeconds * 1e9) / reads).toFixed(1)),
    // Keeps both loops from being optimised away.
    check: (h ^ at) >>> 0,
  };
}

export function describeProbe(probe) {
  return `hashing ${probe.hashMBps} MB/s, a dependent random read ${probe.randomReadNs} ns`;
}
