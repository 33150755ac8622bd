// The files strata generates for a container: /etc/hosts, /etc/hostname, /etc/resolv.conf
// (bind-mounted from the bundle), and the init layer, a top lowerdir holding the mount points
// the runtime mounts over, so that they never land in the container's upper dir (and so never
// in `diff` or `commit`), as Docker's "-init" layer does.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { components, type FsView } from './resolve.js';
import { ETC_FILES, SYSTEM_MOUNT_DIRS } from './spec.js';
import type { NetworkMode } from './types.js';

const BASE_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

/** Docker's fallback when the host has no usable nameserver. */
const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/** The host's resolv.conf without loopback nameservers (unreachable from another netns), as Docker filters it. */
export function filterResolvConf(text: string): string {
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.[0-9.]+|::1)\s*$/.test(l));
  const kept = lines.join('\n').replace(/\n*$/, '\n');
  if (lines.some((l) => /^\s*nameserver\s/.test(l))) return kept;
  return kept.replace(/^\n$/, '') + DEFAULT_NAMESERVERS.map((ns) => `nameserver ${ns}\n`).join('');
}

export interface EtcPaths { hosts: string; hostname: string; resolvConf: string }

/** Writes hosts, hostname and resolv.conf into `dir`. */
export async function writeEtcFiles(dir: string, hostname: string, network: NetworkMode): Promise<EtcPaths> {
  const paths = { hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf') };
  const hostResolv = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const hosts = network === 'host' ? await fs.readFile('/etc/hosts', 'utf8').catch(() => BASE_HOSTS) : BASE_HOSTS;
  await Promise.all([
    fs.writeFile(paths.hosts, hosts),
    fs.writeFile(paths.hostname, `${hostname}\n`),
    fs.writeFile(paths.resolvConf, network === 'host' ? hostResolv : filterResolvConf(hostResolv)),
  ]);
  return paths;
}

export function hostHostname(): string {
  return os.hostname();
}

/**
 * Creates the init layer in `dir`: every mount point of the container (system mounts, /etc
 * files, the caller's mount destinations) that the image does not already have. Parent dirs
 * copy the mode and owner of the image's own directory, since overlay shows the topmost one.
 */
export async function writeInitLayer(dir: string, view: FsView, mountDestinations: string[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const wanted: Array<{ rel: string; file: boolean }> = [
    ...SYSTEM_MOUNT_DIRS.map((rel) => ({ rel, file: false })),
    ...ETC_FILES.map((rel) => ({ rel, file: true })),
    ...mountDestinations.map((d) => ({ rel: components(d).join('/'), file: false })),
  ];
  for (const { rel, file } of wanted) {
    if (rel === '' || components(rel).includes('..')) continue;
    await ensureMountPoint(dir, view, rel, file);
  }
}

async function ensureMountPoint(dir: string, view: FsView, rel: string, file: boolean): Promise<void> {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const last = i === parts.length;
    const existing = await view.lstat(sub).catch(() => undefined);
    if (existing?.isSymbolicLink()) return; // runc resolves it inside the root itself
    if (existing && !existing.isDirectory()) return; // a file: runc mounts over it as it is
    const target = path.join(dir, sub);
    if (last && file && !existing) {
      await fs.writeFile(target, '', { flag: 'a', mode: 0o644 });
      return;
    }
    await fs.mkdir(target, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if (existing) {
      await fs.chmod(target, existing.mode & 0o7777);
      await fs.chown(target, existing.uid, existing.gid);
    }
  }
}
