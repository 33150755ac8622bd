// Docker's default seccomp filter. The profile is the one containers/common ships for podman
// (/usr/share/containers/seccomp.json, the same allow-list as moby's default), translated the way
// moby's setupSeccomp does: rules kept or dropped by architecture, capabilities and kernel.
import fs from 'node:fs';
import os from 'node:os';
import { kernelHasX32 } from './kernel-abi.js';

export const PROFILE_PATHS = ['/usr/share/containers/seccomp.json', '/etc/containers/seccomp.json'];

interface Filter { arches?: string[]; caps?: string[]; minKernel?: string }
interface ProfileRule { names?: string[]; name?: string; action: string; errnoRet?: number; args?: unknown[] | null; includes?: Filter; excludes?: Filter }
interface Profile { defaultAction: string; defaultErrnoRet?: number; archMap?: Array<{ architecture: string; subArchitectures?: string[] }>; syscalls?: ProfileRule[] }

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: Array<{ names: string[]; action: string; errnoRet?: number; args?: unknown[] }>;
}

/** Node's arch name → Go's (what profiles say) and libseccomp's. */
const ARCH: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
};

function kernelAtLeast(min: string, release = os.release()): boolean {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 2).map((n) => Number.parseInt(n, 10) || 0);
  const [a = 0, b = 0] = parse(release);
  const [x = 0, y = 0] = parse(min);
  return a > x || (a === x && b >= y);
}

/**
 * Translates a Docker-format profile for this machine and the container's capabilities. With
 * `x32: false` (a kernel without the x32 ABI, kernel-abi.ts) SCMP_ARCH_X32 is left out.
 */
export function translateProfile(profile: Profile, caps: string[], arch = process.arch, options: { x32?: boolean } = {}): OciSeccomp {
  const mine = ARCH[arch];
  const capNames = new Set(caps.map((c) => c.replace(/^CAP_/, '')));
  const hasCap = (c: string) => capNames.has(c.replace(/^CAP_/, ''));
  const entry = profile.archMap?.find((a) => a.architecture === mine?.scmp);
  const listed = entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : mine ? [mine.scmp] : [];
  const architectures = options.x32 === false ? listed.filter((a) => a !== 'SCMP_ARCH_X32') : listed;
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const rule of profile.syscalls ?? []) {
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (inc.arches?.length && !(mine && inc.arches.includes(mine.go))) continue;
    if (inc.caps?.length && !inc.caps.every(hasCap)) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) continue;
    if (exc.arches?.length && mine && exc.arches.includes(mine.go)) continue;
    if (exc.caps?.length && exc.caps.some(hasCap)) continue;
    const names = rule.names ?? (rule.name ? [rule.name] : []);
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args && rule.args.length > 0 ? { args: rule.args } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}

let cached: Profile | null | undefined;

/** The default filter for a container with `caps`, or undefined when no profile is installed. */
export function defaultSeccomp(caps: string[]): OciSeccomp | undefined {
  if (cached === undefined) {
    cached = null;
    for (const file of PROFILE_PATHS) {
      try {
        cached = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
        break;
      } catch {
        // not installed here
      }
    }
  }
  return cached ? translateProfile(cached, caps, process.arch, { x32: process.arch !== 'x64' || kernelHasX32() }) : undefined;
}
