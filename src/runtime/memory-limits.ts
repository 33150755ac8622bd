// The memory flags of `run`/`create` as Docker's daemon checks and completes them
// (verifyPlatformContainerResources, adaptContainerSettings): -m/--memory, --memory-swap,
// --memory-reservation, --memory-swappiness and --oom-kill-disable, into the HostConfig fields
// the record keeps. Messages and warnings are Docker's own.
import fs from 'node:fs';
import { StrataError } from '../errors.js';

/** The HostConfig fields of the memory flags. */
export interface MemoryHostConfig {
  Memory: number;
  /** Memory plus swap; -1 unlimited swap, 0 none set (Docker: twice Memory when only -m is given). */
  MemorySwap: number;
  MemoryReservation: number;
  /** 0-100, null when not set (the kernel's value is kept). */
  MemorySwappiness: number | null;
  OomKillDisable: boolean;
}

export interface MemoryFlags {
  /** -m in bytes (checked against Docker's 6MB minimum by the caller's parser). */
  memory?: number;
  /** --memory-swap as typed: "-1" or a size. */
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
}

const MIN_MEMORY = 6 * 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's RAMInBytes for FLAG's value: "512", "64m", "1.5g", "2GiB" … */
export function parseMemoryBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new StrataError(`invalid argument "${text}" for "${flag}" flag: invalid size: '${text}'`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** Whether the host accounts swap in its memory cgroups (v1: memory.memsw.*; v2: memory.swap.max). */
export function swapLimitSupported(cgroupRoot = '/sys/fs/cgroup'): boolean {
  // v2: runc writes memory.swap.max from the spec's swap, which every v2 memory controller has.
  if (fs.existsSync(`${cgroupRoot}/cgroup.controllers`)) return true;
  return fs.existsSync(`${cgroupRoot}/memory/memory.memsw.limit_in_bytes`);
}

/**
 * The memory fields of a HostConfig from the flags, checked as Docker's daemon does; `warn`
 * gets Docker's warnings (printed as "WARNING: …" by the command).
 */
export function memoryHostConfig(f: MemoryFlags, warn: (message: string) => void = () => undefined, swapSupported = swapLimitSupported()): MemoryHostConfig {
  const memory = f.memory ?? 0;
  let swap = 0;
  if (f.memorySwap !== undefined) swap = f.memorySwap.trim() === '-1' ? -1 : parseMemoryBytes('--memory-swap', f.memorySwap);
  const reservation = f.memoryReservation !== undefined ? parseMemoryBytes('--memory-reservation', f.memoryReservation) : 0;
  let swappiness: number | null = null;
  if (f.memorySwappiness !== undefined) {
    const s = f.memorySwappiness.trim();
    if (!/^-?\d+$/.test(s)) throw new StrataError(`invalid argument "${f.memorySwappiness}" for "--memory-swappiness" flag: strconv.ParseInt: parsing "${f.memorySwappiness}": invalid syntax`);
    // -1 is the flag's default in Docker: not set.
    if (Number(s) !== -1) {
      if (Number(s) < 0 || Number(s) > 100) throw new StrataError(`Invalid value: ${s}, valid memory swappiness range is 0-100`);
      swappiness = Number(s);
    }
  }
  if (memory > 0 && memory < MIN_MEMORY) throw new StrataError('Minimum memory limit allowed is 6MB');
  if (swap > 0 && memory === 0) throw new StrataError('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap > 0 && swap < memory) throw new StrataError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation > 0 && reservation < MIN_MEMORY) throw new StrataError('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw new StrataError('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (f.oomKillDisable && memory === 0) warn("Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.");
  // Docker gives a container with -m alone as much swap as memory.
  if (memory > 0 && swap === 0) swap = memory * 2;
  // Docker's daemon warns for any memory limit the kernel cannot pair with a swap limit.
  if (memory > 0 && !swapSupported) {
    warn('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    swap = -1;
  }
  return { Memory: memory, MemorySwap: swap, MemoryReservation: reservation, MemorySwappiness: swappiness, OomKillDisable: f.oomKillDisable ?? false };
}

export interface MemoryResources {
  limit?: number;
  swap?: number;
  reservation?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

/** The runtime spec's linux.resources.memory from a record's HostConfig (undefined: no setting). */
export function memoryResources(h: Partial<MemoryHostConfig>, o: { limit: boolean } = { limit: true }): MemoryResources | undefined {
  const out: MemoryResources = {};
  if (o.limit && h.Memory && h.Memory > 0) out.limit = h.Memory;
  // A record written before these flags has no MemorySwap: swap left as the kernel has it.
  if (h.MemorySwap !== undefined && h.MemorySwap !== 0) out.swap = h.MemorySwap;
  if (h.MemoryReservation && h.MemoryReservation > 0) out.reservation = h.MemoryReservation;
  if (h.MemorySwappiness !== undefined && h.MemorySwappiness !== null) out.swappiness = h.MemorySwappiness;
  if (h.OomKillDisable) out.disableOOMKiller = true;
  return Object.keys(out).length ? out : undefined;
}
