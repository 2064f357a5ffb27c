/**
 * Per-process CPU time and memory from /proc (Linux only): what each server under test costs,
 * measured from the outside so every server (Node or nginx) is measured the same way.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | null = null;
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function statFields(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU time of a process (all its threads) in ms; 0 if it is gone. */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks();
}

export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
}

export interface MemStatus {
  /** Resident set now, kB. */
  rssKb: number;
  /** Peak resident set ("high water mark") since start or the last resetPeak(), kB. */
  hwmKb: number;
}

export function memStatus(pid: number): MemStatus | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)/m.exec(text);
    const hwm = /^VmHWM:\s+(\d+)/m.exec(text);
    if (!rss || !hwm) return null;
    return { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) };
  } catch {
    return null;
  }
}

export function sumMem(pids: readonly number[]): MemStatus {
  const out = { rssKb: 0, hwmKb: 0 };
  for (const pid of pids) {
    const m = memStatus(pid);
    if (m) {
      out.rssKb += m.rssKb;
      out.hwmKb += m.hwmKb;
    }
  }
  return out;
}

/** Resets VmHWM to the current RSS (writing "5" to clear_refs, Linux ≥ 4.0). False when not permitted. */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Direct children of a process (e.g. nginx workers of a master). */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && Number(f[1]) === parent) out.push(Number(name));
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whole-machine CPU time from /proc/stat in ms: `processes` (user + nice + system: what processes' utime and
 * stime add up to), `irq` (hard and soft interrupts, much of it loopback networking, not charged to any
 * process), `steal` (time the hypervisor gave our vCPUs to someone else) and `total`.
 */
export function systemCpu(): { processesMs: number; irqMs: number; stealMs: number; totalMs: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
  const at = (i: number) => v[i] ?? 0;
  const scale = 1000 / clockTicks();
  return {
    processesMs: (at(0) + at(1) + at(2)) * scale,
    irqMs: (at(5) + at(6)) * scale,
    stealMs: at(7) * scale,
    totalMs: v.slice(0, 8).reduce((a, b) => a + b, 0) * scale,
  };
}

/** Samples the summed VmRSS of some processes every `everyMs` and keeps the maximum (backs up VmHWM). */
export class RssSampler {
  private timer: NodeJS.Timeout;
  maxKb = 0;
  constructor(private readonly pids: () => readonly number[], everyMs = 50) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    const kb = sumMem(this.pids()).rssKb;
    if (kb > this.maxKb) this.maxKb = kb;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxKb;
  }
}

export function machineInfo(): Record<string, unknown> {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const meminfo = safeRead('/proc/meminfo');
  return {
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    nproc: countCpus(cpuinfo),
    memTotalMb: Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024),
    kernel: safeRead('/proc/sys/kernel/osrelease').trim(),
    node: process.version,
  };
}

function countCpus(cpuinfo: string): number {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    return (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  }
}

function safeRead(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function loadAverage(): number[] {
  return safeRead('/proc/loadavg').trim().split(/\s+/).slice(0, 3).map(Number);
}
