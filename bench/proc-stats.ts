import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the kernel says about a process (Linux /proc): resident memory and CPU time, read from outside it. */

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** user + system CPU time of `pid` so far, in ms (resolution: one clock tick, usually 10 ms). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) / clockTicks()) * 1000;
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export function machineDescription(): { cpus: number; cpuModel: string; memoryGiB: number } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const totalKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1] ?? 0);
  const cpus = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  return { cpus, cpuModel: model, memoryGiB: Math.round((totalKb / 1024 / 1024) * 10) / 10 };
}

/** CPU time (ms) all cores spent on anything but idling and waiting for I/O, since boot. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (
    (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
      clockTicks()) *
    1000
  );
}

/**
 * How busy the machine was with work other than the benchmark's own processes, in % of one core,
 * over a measured stretch. The benchmark may share the machine; runs with much foreign load are
 * slowed by it, and the tables say so instead of hiding it.
 */
export class ForeignLoad {
  private readonly startedAt = Date.now();
  private readonly machineBefore = machineBusyMs();
  private readonly oursBefore: number;

  constructor(private readonly pids: readonly number[]) {
    this.oursBefore = this.oursNow();
  }

  /** % of one core used by other processes since construction. */
  percent(): number {
    const elapsed = Date.now() - this.startedAt;
    if (elapsed <= 0) return 0;
    const foreign = machineBusyMs() - this.machineBefore - (this.oursNow() - this.oursBefore);
    return Math.max(0, (foreign / elapsed) * 100);
  }

  private oursNow(): number {
    const own = process.cpuUsage();
    return this.pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0) + (own.user + own.system) / 1000;
  }
}
