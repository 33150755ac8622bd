// The resource and security flags of `run`/`create` as Docker parses them into its HostConfig:
// --cpus (NanoCpus), --cpu-shares, --pids-limit, --cap-add/--cap-drop (moby's
// TweakCapabilities), --device (PathOnHost:PathInContainer:CgroupPermissions), --tmpfs
// (DEST[:OPTIONS]) and --security-opt. Plain data in, plain data out: the record keeps the
// result, and the spec (spec-security.ts) is made from it at each start.
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { DEFAULT_CAPABILITIES } from './spec.js';

/** Every capability the kernel defines, in number order (linux/capability.h). */
const CAPABILITY_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((n) => `CAP_${n}`);

/**
 * The capabilities a container can be given: those this kernel has (Docker's GetAllCapabilities)
 * that are also in our own bounding set, as podman's: a strata itself run with fewer (in a
 * container, a sandbox) cannot hand out more, and runc would fail with "unable to apply caps".
 */
export function allCapabilities(statusFile = '/proc/self/status'): string[] {
  let bounding = (1n << BigInt(CAPABILITY_NAMES.length)) - 1n;
  try {
    const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(statusFile, 'utf8'))?.[1];
    if (hex) bounding = BigInt(`0x${hex}`);
  } catch {
    // no procfs: every capability we know
  }
  return CAPABILITY_NAMES.filter((_, bit) => (bounding >> BigInt(bit)) & 1n);
}

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" → "ALL" (Docker's NormalizeLegacyCapabilities). */
export function normalizeCapabilities(names: string[]): string[] {
  return names.map((raw) => {
    const upper = raw.trim().toUpperCase();
    if (upper === 'ALL') return 'ALL';
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!CAPABILITY_NAMES.includes(name)) throw new StrataError(`unknown capability: "${name}"`);
    return name;
  });
}

/** The capability set of a container: moby's TweakCapabilities over Docker's defaults. */
export function containerCapabilities(options: { capAdd?: string[]; capDrop?: string[]; privileged?: boolean }, all = allCapabilities()): string[] {
  if (options.privileged) return all;
  const adds = normalizeCapabilities(options.capAdd ?? []);
  const drops = normalizeCapabilities(options.capDrop ?? []);
  if (adds.length === 0 && drops.length === 0) return DEFAULT_CAPABILITIES;
  let caps: string[];
  if (adds.includes('ALL')) caps = all.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  return [...new Set(caps)].filter((c) => all.includes(c));
}

/** `--cpus 1.5` → NanoCpus (Docker: a decimal, at most the machine's CPUs). */
export function parseCpus(text: string, cpuCount: number): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text.trim())) throw new StrataError(`invalid argument "${text}" for "--cpus" flag: failed to parse ${text} as a rational number`);
  const nano = Math.round(Number(text) * 1e9);
  if (nano === 0) return 0;
  if (nano < 1e7 || nano > cpuCount * 1e9) {
    throw new StrataError(`range of CPUs is from 0.01 to ${cpuCount}.00, as there are only ${cpuCount} CPUs available`);
  }
  return nano;
}

/** `--cpu-shares N` (a relative weight; Docker passes 0 as "the default", 1 is raised to 2 by the kernel). */
export function parseCpuShares(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new StrataError(`invalid argument "${text}" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  return Number(text);
}

/** `--pids-limit N`: -1 or 0 is unlimited (Docker stores nothing then). */
export function parsePidsLimit(text: string): number | null {
  if (!/^-?\d+$/.test(text.trim())) throw new StrataError(`invalid argument "${text}" for "--pids-limit" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
  const n = Number(text);
  return n <= 0 ? null : n;
}

/** One `--device`, in Docker's HostConfig.Devices shape. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** `--device /dev/x[:/dev/y][:rwm]`, as Docker's ParseDevice. */
export function parseDevice(text: string): DeviceMapping {
  const parts = text.split(':');
  const isMode = (s: string | undefined) => s !== undefined && /^[rwm]{1,3}$/.test(s) && new Set(s).size === s.length;
  let src = parts[0] ?? '';
  let dst = '';
  let perms = 'rwm';
  if (parts.length === 3) [src, dst, perms] = parts as [string, string, string];
  else if (parts.length === 2) {
    if (isMode(parts[1])) perms = parts[1]!;
    else dst = parts[1]!;
  } else if (parts.length !== 1) throw new StrataError(`invalid device specification: ${text}`);
  if (!isMode(perms)) throw new StrataError(`invalid device mode: ${perms}`);
  if (!path.isAbsolute(src)) throw new StrataError(`invalid device specification: ${text}: the host path must be absolute`);
  dst ||= src;
  if (!path.posix.isAbsolute(dst)) throw new StrataError(`${dst} is not an absolute path`);
  return { PathOnHost: src, PathInContainer: path.posix.normalize(dst), CgroupPermissions: perms };
}

/** `--tmpfs /run[:rw,size=64m]`: HostConfig.Tmpfs entries (destination → options text). */
export function parseTmpfs(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const dest = colon < 0 ? spec : spec.slice(0, colon);
    if (!path.posix.isAbsolute(dest)) throw new StrataError(`invalid tmpfs "${spec}": the destination must be an absolute path`);
    if (path.posix.normalize(dest) === '/') throw new StrataError(`invalid tmpfs "${spec}": destination can't be "/"`);
    out[path.posix.normalize(dest).replace(/(.)\/$/, '$1')] = colon < 0 ? '' : spec.slice(colon + 1);
  }
  return out;
}

/** The mount options of a --tmpfs: Docker's defaults (noexec, nosuid, nodev), the user's replacing them (mount.MergeTmpfsOptions). */
/**
 * `--sysctl KEY=VALUE`s as Docker allows them: only those of a namespace the container has
 * of its own (IPC: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*; network: net.*).
 */
export function parseSysctls(specs: string[], shared: { hostNetwork: boolean; hostIpc: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new StrataError(`invalid --sysctl "${spec}": expected KEY=VALUE`);
    const key = spec.slice(0, eq).replace(/\//g, '.');
    const ipc = /^(kernel\.(msg\w*|sem|shm\w*)|fs\.mqueue\..+)$/.test(key);
    const net = key.startsWith('net.');
    if (!ipc && !net) throw new StrataError(`sysctl "${key}" is not allowed: only namespaced ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)`);
    if (net && shared.hostNetwork) throw new StrataError(`sysctl "${key}" is not allowed in the host's network namespace`);
    if (ipc && shared.hostIpc) throw new StrataError(`sysctl "${key}" is not allowed in the host's IPC namespace`);
    out[key] = spec.slice(eq + 1);
  }
  return out;
}

/** `--cpuset-cpus 0-2,4`: checked as the cgroup's cpuset.cpus list. */
export function parseCpuset(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) throw new StrataError(`invalid value "${text}" for cpuset cpus`);
  return text;
}

export function tmpfsOptions(data: string): string[] {
  const opposite: Record<string, string> = { exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev', ro: 'rw', rw: 'ro' };
  const out = ['noexec', 'nosuid', 'nodev'];
  for (const opt of data.split(',').map((o) => o.trim()).filter(Boolean)) {
    const key = opt.includes('=') ? opt.slice(0, opt.indexOf('=') + 1) : opt;
    const i = out.findIndex((o) => o === opposite[opt] || o === opt || (key.endsWith('=') && o.startsWith(key)));
    if (i >= 0) out.splice(i, 1);
    out.push(opt);
  }
  return out;
}

/** What the `--security-opt`s of a container ask of its spec. */
export interface SecurityOptions {
  seccomp: 'default' | 'unconfined';
  /** A Docker-format seccomp profile of the user's (`seccomp=FILE`, kept as its JSON) instead of the default. */
  seccompProfile?: object;
  noNewPrivileges: boolean;
  /** systempaths=unconfined: no masked or read-only /proc paths. */
  unmaskPaths: boolean;
}

/**
 * Checks `--security-opt` values: seccomp=unconfined|default|<profile JSON> (a file's content,
 * see readSeccompProfiles), no-new-privileges[=bool], systempaths=unconfined, and what equals
 * strata's behaviour where AppArmor and SELinux are concerned (apparmor=unconfined,
 * label=disable: it applies neither). Each is kept as given in HostConfig.SecurityOpt.
 */
export function checkSecurityOpt(opt: string): string {
  const sep = /[=:]/.exec(opt)?.index ?? -1;
  const key = sep < 0 ? opt : opt.slice(0, sep);
  const value = sep < 0 ? '' : opt.slice(sep + 1);
  switch (key) {
    case 'seccomp':
      if (value === 'unconfined' || value === 'default' || value.startsWith('{')) return opt;
      break;
    case 'no-new-privileges':
      if (sep < 0 || /^(true|false|1|0)$/.test(value)) return opt;
      break;
    case 'systempaths':
      if (value === 'unconfined') return opt;
      break;
    case 'apparmor':
      if (value === 'unconfined') return opt;
      throw new StrataError(`invalid --security-opt "${opt}": strata applies no AppArmor profile (only apparmor=unconfined)`);
    case 'label':
      if (value === 'disable') return opt;
      throw new StrataError(`invalid --security-opt "${opt}": strata applies no SELinux labels (only label=disable)`);
  }
  throw new StrataError(`invalid --security-opt: "${opt}"`);
}

/** `seccomp=FILE` options with the file's profile in their place (as Docker's CLI sends it); others as they are. */
export function readSeccompProfiles(opts: string[], cwd = process.cwd()): string[] {
  return opts.map((opt) => {
    const m = /^seccomp[=:](.*)$/s.exec(opt);
    if (!m || m[1] === 'unconfined' || m[1] === 'default' || m[1]!.startsWith('{')) return opt;
    const file = path.resolve(cwd, m[1]!);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new StrataError(`opening seccomp profile (${m[1]}) failed: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    let profile: unknown;
    try {
      profile = JSON.parse(text);
    } catch (err) {
      throw new StrataError(`decoding seccomp profile (${m[1]}) failed: ${(err as Error).message}`);
    }
    if (typeof profile !== 'object' || profile === null || typeof (profile as { defaultAction?: unknown }).defaultAction !== 'string') {
      throw new StrataError(`decoding seccomp profile (${m[1]}) failed: no defaultAction`);
    }
    return `seccomp=${JSON.stringify(profile)}`;
  });
}

/** What a container's (already checked) security options mean for its spec. */
export function securityOptions(opts: string[]): SecurityOptions {
  const out: SecurityOptions = { seccomp: 'default', noNewPrivileges: false, unmaskPaths: false };
  for (const opt of opts) {
    const sep = /[=:]/.exec(opt)?.index ?? -1;
    const key = sep < 0 ? opt : opt.slice(0, sep);
    const value = sep < 0 ? '' : opt.slice(sep + 1);
    if (key === 'seccomp') {
      out.seccomp = value === 'unconfined' ? 'unconfined' : 'default';
      if (value.startsWith('{')) out.seccompProfile = JSON.parse(value) as object;
      else delete out.seccompProfile;
    }
    if (key === 'no-new-privileges') out.noNewPrivileges = sep < 0 || value === 'true' || value === '1';
    if (key === 'systempaths') out.unmaskPaths = value === 'unconfined';
  }
  return out;
}

/** Docker's HostConfig.PortBindings from `-p` specs: "80/tcp" → [{ HostIp, HostPort }] ("" for any port). */
export async function portBindingsOf(publish: string[]): Promise<Record<string, Array<{ HostIp: string; HostPort: string }>>> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  if (publish.length === 0) return out;
  // Loaded when needed: the run bundle leaves the ports module out (scripts/bundle-cli.mjs).
  const { parsePortSpec } = await import('./ports.js');
  for (const spec of publish) {
    for (const r of parsePortSpec(spec)) {
      const hostPort = r.hostPort === 0 ? '' : r.hostPortEnd > r.hostPort ? `${r.hostPort}-${r.hostPortEnd}` : String(r.hostPort);
      (out[`${r.containerPort}/${r.protocol}`] ??= []).push({ HostIp: r.hostIp, HostPort: hostPort });
    }
  }
  return out;
}
