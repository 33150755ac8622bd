// Build arguments: the predefined ones Docker provides, the values given on the command line,
// and the record of which were consumed (for the unused build-arg warning).

/** Proxy variables: usable without an ARG line, and never written into history. */
export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** TARGETPLATFORM, BUILDPLATFORM and friends: in the global scope automatically, in a stage after `ARG NAME`. */
export function platformArgs(target: Platform, build: Platform = hostPlatform()): Record<string, string> {
  return {
    TARGETPLATFORM: platformString(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
    BUILDPLATFORM: platformString(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
  };
}

/**
 * `--build-arg K=V` values; `--build-arg K` takes K from the environment (and is dropped
 * when the environment has none, as Docker does).
 */
export function parseBuildArgs(flags: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq < 0) {
      const v = env[flag];
      if (v !== undefined) out[flag] = v;
    } else {
      out[flag.slice(0, eq)] = flag.slice(eq + 1);
    }
  }
  return out;
}
