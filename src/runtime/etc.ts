// The files strata generates for a container: /etc/hosts, /etc/hostname, /etc/resolv.conf
// (bind-mounted from the bundle), and the init layer, a top lowerdir holding the mount points
// the runtime mounts over, so that they never land in the container's upper dir (and so never
// in `diff` or `commit`), as Docker's "-init" layer does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { hostResolvConfText, parseResolvConf } from './net/host.js';
import { components } from './resolve.js';
import { ETC_FILES, SYSTEM_MOUNT_DIRS } from './spec.js';
import type { DnsSettings, EtcTexts, NetworkMode } from './types.js';
import type { UnionView } from './union.js';

export const BASE_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

/** Docker's fallback when the host has no usable nameserver. */
const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * Docker's resolv.conf: RESPONDER (a user-defined network's DNS server) or the --dns servers or
 * the host's (systemd-resolved's upstreams behind its stub) without loopback ones (unreachable
 * from another network namespace), Google's as
 * a last resort; the host's search domains and options unless --dns-search / --dns-option
 * replace them ("." for none); with a responder, ndots:0 unless an ndots is set.
 */
export function resolvConfText(settings: DnsSettings, responder?: string, hostText = hostResolvConfText()): string {
  const host = parseResolvConf(hostText);
  let nameservers: string[];
  if (responder) nameservers = [responder];
  else if (settings.dns.length) nameservers = settings.dns;
  else {
    nameservers = host.nameservers.filter((ns) => !/^(127\.|::1$)/.test(ns));
    if (nameservers.length === 0) nameservers = DEFAULT_NAMESERVERS;
  }
  const search = settings.dnsSearch.length ? settings.dnsSearch.filter((s) => s !== '.') : host.search;
  let options = settings.dnsOptions.length ? settings.dnsOptions : host.options;
  // Docker's embedded DNS asks for ndots:0 (libnetwork's ResolverOptions): a bare name such as
  // "db" goes to the responder as it is, before any search domain is tried (a search domain's
  // server could answer first, or wrongly). A valid ndots the host or --dns-option set stays.
  if (responder && !options.some((o) => /^ndots:\d+$/.test(o))) options = [...options.filter((o) => !o.startsWith('ndots:')), 'ndots:0'];
  const lines = nameservers.map((ns) => `nameserver ${ns}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** `--add-host NAME:IP` entries as hosts lines; "host-gateway" is GATEWAY (the container's first network's). */
export function extraHostLines(extraHosts: string[], gateway: string | undefined): string {
  return extraHosts.map((entry) => {
    const colon = entry.indexOf(':');
    let ip = entry.slice(colon + 1);
    if (ip === 'host-gateway') {
      if (!gateway) throw new StrataError(`invalid --add-host "${entry}": host-gateway needs a network with a gateway`);
      ip = gateway;
    }
    return `${ip}\t${entry.slice(0, colon)}\n`;
  }).join('');
}

/**
 * The names of the container's own hosts line, as libnetwork writes them: the FQDN (HOSTNAME, or
 * HOSTNAME.DOMAINNAME with --domainname) and, when that has a dot, the bare name after it.
 */
export function hostsNames(hostname: string, domainname = ''): string {
  const fqdn = domainname ? `${hostname}.${domainname}` : hostname;
  const dot = fqdn.indexOf('.');
  return dot > 0 ? `${fqdn} ${fqdn.slice(0, dot)}` : fqdn;
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
export function writeEtcFiles(dir: string, hostname: string, network: NetworkMode, texts?: EtcTexts, dns: DnsSettings = { dns: [], dnsSearch: [], dnsOptions: [] }, extraHosts: string[] = []): EtcPaths {
  const paths = { hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf') };
  fs.writeFileSync(paths.hostname, `${hostname}\n`);
  if (texts) {
    fs.writeFileSync(paths.hosts, texts.hosts);
    fs.writeFileSync(paths.resolvConf, texts.resolvConf);
  } else if (network === 'host') {
    fs.writeFileSync(paths.hosts, readOr('/etc/hosts', BASE_HOSTS) + extraHostLines(extraHosts, undefined));
    fs.writeFileSync(paths.resolvConf, readOr('/etc/resolv.conf', ''));
  } else {
    // No network: the container's own name still resolves (gethostbyname(gethostname()) is
    // common), to a loopback address since its namespace has nothing else.
    fs.writeFileSync(paths.hosts, `${BASE_HOSTS}${extraHostLines(extraHosts, undefined)}127.0.1.1\t${hostname}\n`);
    fs.writeFileSync(paths.resolvConf, resolvConfText(dns));
  }
  return paths;
}

export function hostHostname(): string {
  return os.hostname();
}

/**
 * Creates the init layer in `dir`: every mount point of the container (system mounts, /etc
 * files, the caller's mount destinations) that the image does not already have: an empty file
 * where a file is mounted (as podman and Docker make it), else a directory. Parent dirs copy
 * the mode and owner of the image's own directory, since overlay shows the topmost one. A new
 * tmpfs mount point takes the tmpfs's mode= (MODE): runc puts back the mode the mount point had
 * before it mounted, which was only Docker's 0755 when runc made it itself.
 */
export function writeInitLayer(dir: string, view: UnionView, mounts: Array<{ destination: string; file: boolean; mode?: number }>): void {
  fs.mkdirSync(dir, { recursive: true });
  const wanted: Array<{ rel: string; file: boolean; mode?: number }> = [
    ...SYSTEM_MOUNT_DIRS.map((rel) => ({ rel, file: false })),
    ...ETC_FILES.map((rel) => ({ rel, file: true })),
    ...mounts.map((m) => ({ rel: components(m.destination).join('/'), file: m.file, mode: m.mode })),
  ];
  for (const { rel, file, mode } of wanted) {
    if (rel === '' || components(rel).includes('..')) continue;
    ensureMountPoint(dir, view, rel, file, mode);
  }
}

function ensureMountPoint(dir: string, view: UnionView, rel: string, file: boolean, mode?: number): void {
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
    const want = existing ? existing.mode & 0o7777 : last && mode !== undefined ? mode : undefined;
    if (want !== undefined && (made.mode & 0o7777) !== want) fs.chmodSync(target, want);
    if (existing && (made.uid !== existing.uid || made.gid !== existing.gid)) fs.chownSync(target, existing.uid, existing.gid);
  }
}
