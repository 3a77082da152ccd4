// Resident memory of a process, from Linux's /proc/<pid>/status.
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** VmRSS: resident set now. */
  readonly rssMiB: number;
  /** VmHWM: the peak resident set so far. */
  readonly peakRssMiB: number;
}

/** Reads VmRSS and VmHWM (kB) out of the text of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcessMemory {
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
    if (match === null) throw new Error(`no ${field} in /proc status`);
    return Number(match[1]);
  };
  return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

export function processMemory(pid: number): ProcessMemory {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/** User + system CPU seconds out of the text of /proc/<pid>/stat (fields 14 and 15). */
export function parseProcStatCpuSeconds(text: string): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('no CPU times in /proc stat');
  return (utime + stime) / CLOCK_TICKS;
}

export function processCpuSeconds(pid: number): number {
  return parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export interface CpuShare {
  readonly name: string;
  /** CPU time over wall time: 1 is one core kept busy. */
  readonly cores: number;
}

/**
 * Measures how busy some processes (and this one, the load generator) were
 * between `start` and `stop`: which one saturates first bounds the run.
 */
export function startCpuMeter(processes: readonly { readonly name: string; readonly pid: number }[]): { stop(): CpuShare[] } {
  const wallStart = performance.now();
  const before = processes.map((p) => processCpuSeconds(p.pid));
  const selfBefore = process.cpuUsage();
  return {
    stop() {
      const wall = (performance.now() - wallStart) / 1000;
      const self = process.cpuUsage(selfBefore);
      return [
        ...processes.map((p, i) => ({ name: p.name, cores: (processCpuSeconds(p.pid) - (before[i] as number)) / wall })),
        { name: 'load generator', cores: (self.user + self.system) / 1e6 / wall },
      ];
    },
  };
}

export function describeCpu(shares: readonly CpuShare[]): string {
  return `CPU ${shares.map((s) => `${s.name} ${Math.round(s.cores * 100)}%`).join(', ')} (100% = one core)`;
}
