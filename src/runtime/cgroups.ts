// A container's cgroup usage, on either cgroup version: v2 (one unified tree, where runc puts
// the container at <root>/<cgroupsPath>: cpu.stat, memory.current, memory.max, io.stat,
// pids.current) or v1 (a hierarchy per controller: cpuacct.usage, memory.usage_in_bytes,
// blkio.throttle.io_service_bytes, pids.current). The hybrid layout (v1 controllers plus an
// empty unified tree at <root>/unified) is read as v1. The roots are parameters so that tests
// can read trees of either version from testdata on any host.
import fs from 'node:fs';
import path from 'node:path';

export interface CgroupRoots {
  /** Where /proc is (for /proc/PID/cgroup). */
  proc: string;
  /** Where the cgroup file systems are mounted. */
  cgroup: string;
}

export const HOST_ROOTS: CgroupRoots = { proc: '/proc', cgroup: '/sys/fs/cgroup' };

/** Where a process's cgroup files are: one dir (v2) or one per controller (v1). */
export type CgroupLocation = { version: 2; dir: string } | { version: 1; dirs: Map<string, string> };

/** One reading of a container's cgroup. Bytes and nanoseconds; limit undefined when there is none. */
export interface CgroupUsage {
  cpuNs: number;
  memUsage: number;
  memLimit?: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether the host mounts cgroup v2 alone (the unified tree at the cgroup root, with its controllers). */
export function isUnified(roots: CgroupRoots = HOST_ROOTS): boolean {
  return fs.existsSync(path.join(roots.cgroup, 'cgroup.controllers'));
}

/** The cgroup of process PID, from /proc/PID/cgroup. Undefined when the process is gone. */
export function locateCgroup(pid: number, roots: CgroupRoots = HOST_ROOTS): CgroupLocation | undefined {
  const text = read(path.join(roots.proc, String(pid), 'cgroup'));
  if (text === undefined) return undefined;
  const lines = text.split('\n').filter(Boolean).map((l) => {
    const first = l.indexOf(':');
    const second = l.indexOf(':', first + 1);
    return { controllers: l.slice(first + 1, second), path: l.slice(second + 1) };
  });
  if (isUnified(roots)) {
    const own = lines.find((l) => l.controllers === '');
    return own ? { version: 2, dir: path.join(roots.cgroup, own.path) } : undefined;
  }
  const dirs = new Map<string, string>();
  for (const line of lines) {
    if (line.controllers === '') continue;
    for (const controller of line.controllers.split(',')) {
      // Mounted by its own name or by the joined names (cpu,cpuacct), whichever exists.
      for (const mount of [controller, line.controllers]) {
        const dir = path.join(roots.cgroup, mount, line.path);
        if (fs.existsSync(dir)) {
          dirs.set(controller, dir);
          break;
        }
      }
    }
  }
  return { version: 1, dirs };
}

function num(text: string | undefined): number {
  return Number((text ?? '').trim()) || 0;
}

/** A "key value" line of a flat-keyed file (cpu.stat, memory.stat). */
function keyed(text: string | undefined, key: string): number {
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '')?.[1] ?? 0);
}

/** A memory limit file: "max" (v2) or a huge page-rounded number (v1's unlimited) mean none. */
function limit(text: string | undefined): number | undefined {
  const t = (text ?? '').trim();
  if (t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n < 2 ** 60 ? n : undefined;
}

/** Reads the usage of a cgroup; missing files read as zero (a controller not enabled). */
export function readCgroupUsage(where: CgroupLocation): CgroupUsage {
  if (where.version === 2) {
    const file = (name: string) => read(path.join(where.dir, name));
    const memStat = file('memory.stat');
    let blockRead = 0;
    let blockWrite = 0;
    for (const line of (file('io.stat') ?? '').split('\n')) {
      blockRead += Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0);
      blockWrite += Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0);
    }
    return {
      cpuNs: keyed(file('cpu.stat'), 'usage_usec') * 1000,
      // As Docker's CLI on v2: usage less the inactive file cache.
      memUsage: Math.max(num(file('memory.current')) - keyed(memStat, 'inactive_file'), 0),
      memLimit: limit(file('memory.max')),
      blockRead,
      blockWrite,
      pids: num(file('pids.current')),
    };
  }
  const file = (controller: string, name: string) => {
    const dir = where.dirs.get(controller);
    return dir === undefined ? undefined : read(path.join(dir, name));
  };
  let blockRead = 0;
  let blockWrite = 0;
  for (const line of (file('blkio', 'blkio.throttle.io_service_bytes') ?? '').split('\n')) {
    const [, op, value] = line.split(' ');
    if (op === 'Read') blockRead += Number(value);
    if (op === 'Write') blockWrite += Number(value);
  }
  return {
    cpuNs: num(file('cpuacct', 'cpuacct.usage')),
    // As Docker's CLI on v1: usage less total_inactive_file.
    memUsage: Math.max(num(file('memory', 'memory.usage_in_bytes')) - keyed(file('memory', 'memory.stat'), 'total_inactive_file'), 0),
    memLimit: limit(file('memory', 'memory.limit_in_bytes')),
    blockRead,
    blockWrite,
    pids: num(file('pids', 'pids.current')),
  };
}

/** The limits a cgroup enforces (what runc wrote for -m, --cpus, --cpu-shares/weight, --pids-limit); undefined: none. */
export interface CgroupLimits {
  memory?: number;
  /** CFS quota and period in µs (v2's cpu.max, v1's cpu.cfs_quota_us and cpu.cfs_period_us). */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** v1's cpu.shares, or v2's cpu.weight (runc maps shares to weight). */
  cpuShares?: number;
  cpuWeight?: number;
  pids?: number;
}

function count(text: string | undefined): number | undefined {
  const t = (text ?? '').trim();
  return t === '' || t === 'max' || !/^\d+$/.test(t) ? undefined : Number(t);
}

export function readCgroupLimits(where: CgroupLocation): CgroupLimits {
  if (where.version === 2) {
    const file = (name: string) => read(path.join(where.dir, name));
    const [quota, period] = (file('cpu.max') ?? '').trim().split(/\s+/);
    return {
      memory: limit(file('memory.max')),
      cpuQuota: count(quota),
      cpuPeriod: count(period),
      cpuWeight: count(file('cpu.weight')),
      pids: count(file('pids.max')),
    };
  }
  const file = (controller: string, name: string) => {
    const dir = where.dirs.get(controller);
    return dir === undefined ? undefined : read(path.join(dir, name));
  };
  const quota = Number((file('cpu', 'cpu.cfs_quota_us') ?? '').trim());
  return {
    memory: limit(file('memory', 'memory.limit_in_bytes')),
    cpuQuota: quota > 0 ? quota : undefined,
    cpuPeriod: count(file('cpu', 'cpu.cfs_period_us')),
    cpuShares: count(file('cpu', 'cpu.shares')),
    pids: count(file('pids', 'pids.max')),
  };
}
