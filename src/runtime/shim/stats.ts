// `top` and `stats` for a running container: its processes read from /proc (the pids `runc ps`
// lists), its usage from the cgroup (v1 or v2) of its init process (../cgroups.ts).
import fs from 'node:fs';
import os from 'node:os';
import { HOST_ROOTS, locateCgroup, readCgroupUsage, type CgroupRoots } from '../cgroups.js';

const TICKS = 100; // USER_HZ on Linux
const BOOT_TIME_S = (() => {
  try {
    return Number(/^btime (\d+)/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
})();

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

interface ProcStat {
  ppid: number;
  ttyNr: number;
  cpuTicks: number;
  startTicks: number;
  comm: string;
}

function procStat(pid: number): ProcStat | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(f[1]), ttyNr: Number(f[4]), cpuTicks: Number(f[11]) + Number(f[12]), startTicks: Number(f[19]) };
}

let hostUsers: Map<number, string> | undefined;
function userName(uid: number): string {
  hostUsers ??= new Map(
    (read('/etc/passwd') ?? '').split('\n').filter(Boolean).map((l) => {
      const [name, , id] = l.split(':');
      return [Number(id), name!] as [number, string];
    }),
  );
  return hostUsers.get(uid) ?? String(uid);
}

function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  return '?';
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** ps's month abbreviations (a locale's, through toLocaleString, loads ICU: some 25 ms of `top`). */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `ps -ef` rows (UID PID PPID C STIME TTY TIME CMD) for the given host pids. */
export function topRows(pids: number[], now = Date.now()): string[][] {
  const uptimeS = Number((read('/proc/uptime') ?? '0').split(' ')[0]);
  const rows: string[][] = [];
  for (const pid of pids) {
    const st = procStat(pid);
    if (!st) continue;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`) ?? '')?.[1] ?? 0);
    const startS = BOOT_TIME_S + st.startTicks / TICKS;
    const elapsed = Math.max(uptimeS - st.startTicks / TICKS, 0.01);
    const cpuS = st.cpuTicks / TICKS;
    const start = new Date(startS * 1000);
    const sameDay = new Date(now).toDateString() === start.toDateString();
    const stime = sameDay ? `${pad2(start.getHours())}:${pad2(start.getMinutes())}` : `${MONTHS[start.getMonth()]}${pad2(start.getDate())}`;
    const whole = Math.floor(cpuS);
    const time = `${whole >= 86400 ? `${Math.floor(whole / 86400)}-` : ''}${pad2(Math.floor((whole % 86400) / 3600))}:${pad2(Math.floor((whole % 3600) / 60))}:${pad2(whole % 60)}`;
    const cmdline = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    rows.push([userName(uid), String(pid), String(st.ppid), String(Math.floor((cpuS / elapsed) * 100)), stime, ttyName(st.ttyNr), time, cmdline || `[${st.comm}]`]);
  }
  return rows;
}

function systemTicks(): number {
  const cpu = (read('/proc/stat') ?? '').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return cpu.reduce((a, b) => a + (b || 0), 0);
}

export interface ContainerStats {
  cpuPercent: number;
  memUsage: number;
  memLimit: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** Samples the container of init process PID twice, SAMPLE_MS apart, as `docker stats --no-stream` does (cgroup v1 or v2). */
export async function sampleStats(pid: number, sampleMs = 500, roots: CgroupRoots = HOST_ROOTS): Promise<ContainerStats> {
  const where = locateCgroup(pid, roots);
  const usage = () => (where ? readCgroupUsage(where) : undefined);
  const c0 = usage()?.cpuNs ?? 0;
  const s0 = systemTicks();
  await new Promise((r) => setTimeout(r, sampleMs));
  const now = usage();
  const s1 = systemTicks();
  // CPU usage in ns; /proc/stat in ticks summed over every cpu: Docker's formula.
  const systemDeltaNs = ((s1 - s0) / TICKS) * 1e9;
  const cpuPercent = systemDeltaNs > 0 ? (((now?.cpuNs ?? 0) - c0) / systemDeltaNs) * os.cpus().length * 100 : 0;
  const memLimit = Math.min(now?.memLimit ?? os.totalmem(), os.totalmem());
  // Every interface of the container's network namespace: its eth* and lo, where forwarded
  // port traffic arrives (Docker counts eth0, which carries both).
  let netRx = 0;
  let netTx = 0;
  for (const line of (read(`/proc/${pid}/net/dev`) ?? '').split('\n').slice(2)) {
    const [, data] = line.split(':');
    if (!data) continue;
    const f = data.trim().split(/\s+/).map(Number);
    netRx += f[0] ?? 0;
    netTx += f[8] ?? 0;
  }
  return {
    cpuPercent, memUsage: now?.memUsage ?? 0, memLimit, netRx, netTx, blockRead: now?.blockRead ?? 0, blockWrite: now?.blockWrite ?? 0, pids: now?.pids ?? 0,
  };
}

function customSize(bytes: number, base: number, units: string[]): string {
  let i = 0;
  let v = bytes;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** go-units HumanSize (decimal: "1.23kB"). */
export function humanSize(bytes: number): string {
  return customSize(bytes, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB']);
}

/** go-units BytesSize (binary: "3.359MiB"). */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']);
}
