// A container's network settings, from the user's flags to its record (Docker's
// HostConfig.NetworkMode, Dns*, ExtraHosts and NetworkSettings.Networks) and from the record to
// what a run asks of the network (attach.ts). Docker's rules for which flags go together.
import net from 'node:net';
import { StrataError } from '../../errors.js';
import type { ContainerRecord, EndpointSettings } from '../../store/index.js';
import { DEFAULT_NETWORK, NetworkStore, type NetworkRecord } from '../../store/index.js';
import type { DnsSettings } from '../types.js';
import type { NetworkRequest } from './attach.js';
import { predefinedId } from './inspect.js';
import { defaultNetwork } from './networks.js';

export interface NetworkFlags extends DnsSettings {
  /** --network: default/bridge, host, none, container:NAME or a network's name or ID. */
  network?: string;
  /** Networks after the first (--network given again): user-defined ones only, as Docker's. */
  more?: string[];
  aliases: string[];
  ip?: string;
  /** --mac-address: the first network's interface's address. */
  mac?: string;
  extraHosts: string[];
  /** -p / -P given (host and none discard them: containers-create.ts). */
  publishes: boolean;
  hostname?: string;
}

/** What goes into the record. */
export interface NetworkChoice {
  mode: string;
  networks: Record<string, EndpointSettings>;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
}

export function endpointSettings(net: Pick<NetworkRecord, 'Id'>, aliases: string[], ip: string | undefined, mac = ''): EndpointSettings {
  return {
    IPAMConfig: ip ? { IPv4Address: ip } : null, Links: null, Aliases: aliases.length ? aliases : null, MacAddress: mac, DriverOpts: null, NetworkID: net.Id,
    EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

function checkExtraHost(entry: string): string {
  const colon = entry.indexOf(':');
  const ip = colon > 0 ? entry.slice(colon + 1) : '';
  if (colon <= 0 || /\s/.test(entry.slice(0, colon)) || (ip !== 'host-gateway' && net.isIP(ip) === 0)) throw new StrataError(`invalid argument "${entry}" for "--add-host": expected HOST:IP`);
  return entry;
}

/** `--mac-address`: six hex pairs, kept in lower case; a multicast address is refused (the kernel would). */
export function checkMac(mac: string): string {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new StrataError(`invalid argument "${mac}" for "--mac-address" flag: invalid MAC address`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new StrataError(`invalid argument "${mac}" for "--mac-address" flag: a multicast address cannot be an interface's`);
  return mac.toLowerCase();
}

/** Checks an `--ip`/`--alias` request against the network it is for, as Docker does. */
export function checkEndpointRequest(network: NetworkRecord, aliases: string[], ip: string | undefined): void {
  if (network.Name === DEFAULT_NETWORK && aliases.length) throw new StrataError('network-scoped aliases are only supported for user-defined networks');
  if (ip === undefined) return;
  if (net.isIP(ip) !== 4) throw new StrataError(`invalid IPv4 address "${ip}"`);
  if (network.Name === DEFAULT_NETWORK) throw new StrataError('user specified IP address is supported on user defined networks only');
  if (!network.Strata.subnetGiven) throw new StrataError('user specified IP address is supported only when connecting to networks with user configured subnets');
}

/** One `--network` value: a name, or Docker 25's `name=NET,alias=A,ip=IP,mac-address=MAC`. */
export interface NetworkAttachment {
  target: string;
  aliases: string[];
  ip?: string;
  mac?: string;
}

/** Comma-separated fields as Go's csv reader reads one line: "..." quotes a field with commas. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  for (let i = 0; i <= line.length; ) {
    if (line[i] === '"') {
      let text = '';
      for (i++; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') text += line[i++];
        else if (line[i] === '"') break;
        else text += line[i];
      }
      fields.push(text);
      i = line.indexOf(',', i) < 0 ? line.length + 1 : line.indexOf(',', i) + 1;
    } else {
      const end = line.indexOf(',', i) < 0 ? line.length : line.indexOf(',', i);
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}

/**
 * A `--network` value as Docker's CLI reads it (opts.NetworkOpt): the long syntax when it looks
 * like KEY=VALUE pairs, else a plain name. Keys strata has no use for (ip6, link-local-ip,
 * driver-opt, gw-priority) are refused rather than dropped.
 */
export function parseNetworkAttachment(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return { target: value, aliases: [] };
  const bad = (why: string): never => { throw new StrataError(`invalid argument "${value}" for "--network" flag: ${why}`); };
  const out: NetworkAttachment = { target: '', aliases: [] };
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    if (eq <= 0) bad(`invalid field ${field}`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const val = field.slice(eq + 1).trim();
    if (key === 'name') out.target = val;
    else if (key === 'alias') out.aliases.push(val);
    else if (key === 'ip') out.ip = val;
    else if (key === 'mac-address') out.mac = val;
    else if (['ip6', 'link-local-ip', 'driver-opt', 'gw-priority'].includes(key)) bad(`strata does not support the field ${key}`);
    else bad(`invalid field key ${key}`);
  }
  if (!out.target) bad('network name not specified');
  return out;
}

/** The record's network settings for the user's flags (the default network made on first use). */
export async function networkChoice(root: string, flags: NetworkFlags): Promise<NetworkChoice> {
  const first = parseNetworkAttachment(flags.network ?? 'default');
  // --network-alias, --ip and --mac-address are the first network's, unless it has its own (Docker's CLI).
  if (flags.aliases.length && first.aliases.length) throw new StrataError('conflicting options: cannot specify both --network-alias and per-network alias');
  if (flags.ip && first.ip) throw new StrataError('conflicting options: cannot specify both --ip and per-network IPv4 address');
  if (flags.mac && first.mac) throw new StrataError('conflicting options: cannot specify both --mac-address and per-network MAC address');
  flags = { ...flags, aliases: [...flags.aliases, ...first.aliases], ip: flags.ip ?? first.ip, mac: flags.mac ?? first.mac };
  const mode = first.target === 'bridge' || first.target === 'default' ? 'default' : first.target;
  const choice: NetworkChoice = { mode, networks: {}, dns: flags.dns, dnsSearch: flags.dnsSearch, dnsOptions: flags.dnsOptions, extraHosts: flags.extraHosts.map(checkExtraHost) };
  for (const d of flags.dns) if (net.isIP(d) === 0) throw new StrataError(`invalid argument "${d}" for "--dns": not an IP address`);
  const special = mode === 'host' || mode === 'none' || mode.startsWith('container:');
  const more = (flags.more ?? []).map(parseNetworkAttachment);
  // Docker's CLI (parseNetworkOpts): several networks are all user-defined ones, each named once.
  const userDefined = (n: string) => !['default', 'bridge', 'host', 'none'].includes(n) && !n.startsWith('container:');
  if (more.length && (mode === 'default' || !userDefined(mode) || !more.every((m) => userDefined(m.target)))) throw new StrataError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  if (special) {
    if (flags.aliases.length || flags.ip) throw new StrataError(`network-scoped aliases and --ip are only supported for user-defined networks, not with --network ${mode}`);
    if (flags.mac) throw new StrataError('conflicting options: mac-address and the network mode');
    if (mode.startsWith('container:')) {
      if (flags.publishes) throw new StrataError('conflicting options: port publishing and the container type network mode');
      if (flags.hostname) throw new StrataError('conflicting options: hostname and the network mode');
      if (flags.dns.length || flags.dnsSearch.length || flags.dnsOptions.length) throw new StrataError('conflicting options: dns and the network mode');
      if (flags.extraHosts.length) throw new StrataError('conflicting options: custom host-to-IP mapping and the network mode');
    } else {
      // Docker lists the predefined network too.
      choice.networks[mode] = endpointSettings({ Id: predefinedId(root, mode) }, [], undefined);
    }
    return choice;
  }
  const record = mode === 'default' ? await defaultNetwork(root) : new NetworkStore(root).find(mode);
  if (!record) throw new StrataError(`network "${mode}" not found`);
  checkEndpointRequest(record, flags.aliases, flags.ip);
  choice.mode = record.Name === DEFAULT_NETWORK ? 'default' : record.Name;
  choice.networks[record.Name] = endpointSettings(record, flags.aliases, flags.ip, flags.mac === undefined ? '' : checkMac(flags.mac));
  for (const { target, aliases, ip, mac } of more) {
    const other = new NetworkStore(root).find(target);
    if (!other) throw new StrataError(`network "${target}" not found`);
    if (other.Name in choice.networks) throw new StrataError(`network "${target}" is specified multiple times`);
    checkEndpointRequest(other, aliases, ip);
    choice.networks[other.Name] = endpointSettings(other, aliases, ip, mac === undefined ? '' : checkMac(mac));
  }
  return choice;
}

/** The runtime's mode of a record: host, none, or a namespace of its own. */
export function runtimeMode(record: ContainerRecord): 'host' | 'none' | 'private' {
  const mode = record.HostConfig.NetworkMode;
  return mode === 'host' || mode === 'none' ? mode : 'private';
}

export function dnsSettingsOf(record: ContainerRecord): DnsSettings & { extraHosts: string[] } {
  const h = record.HostConfig as { Dns?: string[]; DnsSearch?: string[]; DnsOptions?: string[]; ExtraHosts?: string[] | null };
  return { dns: h.Dns ?? [], dnsSearch: h.DnsSearch ?? [], dnsOptions: h.DnsOptions ?? [], extraHosts: h.ExtraHosts ?? [] };
}

/** What a run of the container asks of its networks (bridge mode), in interface order. */
export function networkRequestOf(record: ContainerRecord): NetworkRequest {
  const networks = Object.entries(record.NetworkSettings?.Networks ?? {}).map(([name, s]) => ({
    name, id: s.NetworkID, aliases: s.Aliases ?? [], ip: s.IPAMConfig?.IPv4Address || undefined, mac: s.MacAddress || undefined,
  }));
  return { networks, hostname: record.Config.Hostname, domainname: (record.Config as { Domainname?: string }).Domainname, ...dnsSettingsOf(record) };
}
