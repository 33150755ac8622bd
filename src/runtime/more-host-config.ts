// The rarer resource and process flags of `run`/`create`, as Docker checks them into its
// HostConfig: --cpu-period/--cpu-quota (the CFS pair --cpus is made of), --cpuset-mems,
// --oom-score-adj, --runtime (runc only), --annotation.
import { StrataError } from '../errors.js';

export interface MoreFlags {
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetMems?: string;
  oomScoreAdj?: string;
  runtime?: string;
  annotations?: string[];
  /** NanoCpus from --cpus: it and the CFS pair exclude each other. */
  nanoCpus?: number;
}

/** The HostConfig fields of those flags (only what was given). */
export interface MoreHostConfig {
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetMems?: string;
  OomScoreAdj?: number;
  Runtime?: string;
  Annotations?: Record<string, string>;
}

function integer(flag: string, text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new StrataError(`invalid argument "${text}" for "${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

export function moreHostConfig(f: MoreFlags): MoreHostConfig {
  const out: MoreHostConfig = {};
  if (f.cpuPeriod !== undefined) {
    const period = integer('--cpu-period', f.cpuPeriod);
    if (period !== 0 && (period < 1000 || period > 1_000_000)) throw new StrataError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    if (period && f.nanoCpus) throw new StrataError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if (period) out.CpuPeriod = period;
  }
  if (f.cpuQuota !== undefined) {
    const quota = integer('--cpu-quota', f.cpuQuota);
    if (quota > 0 && quota < 1000) throw new StrataError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
    if (quota && f.nanoCpus) throw new StrataError('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    if (quota) out.CpuQuota = quota;
  }
  if (f.cpusetMems !== undefined && f.cpusetMems !== '') {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(f.cpusetMems)) throw new StrataError(`invalid value "${f.cpusetMems}" for cpuset mems`);
    out.CpusetMems = f.cpusetMems;
  }
  if (f.oomScoreAdj !== undefined) {
    const adj = integer('--oom-score-adj', f.oomScoreAdj);
    if (adj < -1000 || adj > 1000) throw new StrataError(`Invalid value ${adj}, range for oom score adj is [-1000, 1000]`);
    out.OomScoreAdj = adj;
  }
  if (f.runtime !== undefined) {
    if (f.runtime !== 'runc') throw new StrataError(`unknown or invalid runtime name: ${f.runtime} (strata runs containers with runc)`);
    out.Runtime = 'runc';
  }
  if (f.annotations?.length) {
    out.Annotations = {};
    for (const a of f.annotations) {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new StrataError(`invalid argument "${a}" for "--annotation" flag: bad format, expected KEY=VALUE`);
      out.Annotations[a.slice(0, eq)] = a.slice(eq + 1);
    }
  }
  return out;
}
