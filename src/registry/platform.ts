// Platforms: "linux/amd64", "linux/arm64/v8"; the host's by default, and the entry of an image
// index that matches one (arm64's variant v8 is implied, as containerd's matcher does).
import { StrataError } from '../errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  return { os: 'linux', architecture, ...(architecture === 'arm64' ? { variant: 'v8' } : {}) };
}

export function parsePlatform(text: string | undefined): Platform {
  if (!text) return hostPlatform();
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined || !/^[a-z0-9_]+$/.test(os) || !/^[a-z0-9_]+$/.test(architecture) || (variant !== undefined && !/^[a-z0-9]+$/.test(variant))) {
    throw new StrataError(`invalid platform "${text}": expected OS/ARCH[/VARIANT]`);
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export const formatPlatform = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

const normVariant = (p: Platform) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);

export function matches(want: Platform, have: Partial<Platform> | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  const wv = normVariant(want);
  const hv = normVariant(have as Platform);
  return wv === undefined || hv === undefined || wv === hv;
}
