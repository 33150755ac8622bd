// The files strata generates for a container: /etc/hosts, /etc/hostname, /etc/resolv.conf
// (bind-mounted from the bundle), and the init layer, a top lowerdir holding the mount points
// the runtime mounts over, so that they never land in the container's upper dir (and so never
// in `diff` or `commit`), as Docker's "-init" layer does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { components } from './resolve.js';
import { ETC_FILES, SYSTEM_MOUNT_DIRS } from './spec.js';
import type { NetworkMode } from './types.js';
import type { UnionView } from './union.js';

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

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Writes hosts, hostname and resolv.conf into `dir` (synchronously: see union.ts). */
export function writeEtcFiles(dir: string, hostname: string, network: NetworkMode): EtcPaths {
  const paths = { hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf') };
  const hostResolv = readOr('/etc/resolv.conf', '');
  // The container's own name resolves (gethostbyname(gethostname()) is common), to a loopback
  // address since its namespace may have nothing else.
  fs.writeFileSync(paths.hosts, network === 'host' ? readOr('/etc/hosts', BASE_HOSTS) : `${BASE_HOSTS}127.0.1.1\t${hostname}\n`);
  fs.writeFileSync(paths.hostname, `${hostname}\n`);
  fs.writeFileSync(paths.resolvConf, network === 'host' ? hostResolv : filterResolvConf(hostResolv));
  return paths;
}

export function hostHostname(): string {
  return os.hostname();
}

/**
 * Creates the init layer in `dir`: every mount point of the container (system mounts, /etc
 * files, the caller's mount destinations) that the image does not already have: an empty file
 * where a file is mounted (as podman and Docker make it), else a directory. Parent dirs copy
 * the mode and owner of the image's own directory, since overlay shows the topmost one.
 */
export function writeInitLayer(dir: string, view: UnionView, mounts: Array<{ destination: string; file: boolean }>): void {
  fs.mkdirSync(dir, { recursive: true });
  const wanted: Array<{ rel: string; file: boolean }> = [
    ...SYSTEM_MOUNT_DIRS.map((rel) => ({ rel, file: false })),
    ...ETC_FILES.map((rel) => ({ rel, file: true })),
    ...mounts.map((m) => ({ rel: components(m.destination).join('/'), file: m.file })),
  ];
  for (const { rel, file } of wanted) {
    if (rel === '' || components(rel).includes('..')) continue;
    ensureMountPoint(dir, view, rel, file);
  }
}

function ensureMountPoint(dir: string, view: UnionView, rel: string, file: boolean): void {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const last = i === parts.length;
    const existing = view.lstatSync(sub);
    if (existing?.isSymbolicLink()) return; // runc resolves it inside the root itself
    if (existing && !existing.isDirectory()) return; // a file: runc mounts over it as it is
    const target = path.join(dir, sub);
    if (last && file && !existing) {
      fs.writeFileSync(target, '', { flag: 'a', mode: 0o644 });
      return;
    }
    const made = fs.lstatSync(target, { throwIfNoEntry: false }) ?? (fs.mkdirSync(target, { mode: 0o755 }), fs.lstatSync(target));
    // Only what differs (each is a metadata write, not free on a journaling file system).
    if (existing && (made.mode & 0o7777) !== (existing.mode & 0o7777)) fs.chmodSync(target, existing.mode & 0o7777);
    if (existing && (made.uid !== existing.uid || made.gid !== existing.gid)) fs.chownSync(target, existing.uid, existing.gid);
  }
}
