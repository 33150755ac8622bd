// Docker's shapes for `network inspect` / `network ls` and a container's NetworkSettings, from
// the records and the endpoints live right now.
import type { ContainerRecord, EndpointSettings } from '../../store/index.js';
import { ContainerStore, DEFAULT_NETWORK, NetworkStore, type EndpointRecord, type NetworkRecord } from '../../store/index.js';
import { readShimStatus, shimAlive } from '../shim/state.js';
import { endpointAlive } from './host.js';
import { defaultNetwork, sweepNetworks } from './networks.js';
import { fnv1a, rootIdentity } from './names.js';
import { compareNatural } from '../../sort-order.js';
import { networkListFilter } from './list-filter.js';

export interface NetworkListEntry {
  Id: string;
  Name: string;
  Driver: string;
  Scope: 'local';
  Created: string;
  Internal: boolean;
  Labels: Record<string, string>;
}

/** A stable 64-hex ID for a predefined network of this root (Docker's are random, made once). */
export function predefinedId(root: string, name: string): string {
  let text = `${rootIdentity(root).id}/${name}`;
  let id = '';
  while (id.length < 64) {
    id += fnv1a(text).toString(16).padStart(8, '0');
    text += id;
  }
  return id;
}

/** Docker's two networks that are modes, not records. */
function predefined(root: string): NetworkListEntry[] {
  const id = (name: string) => predefinedId(root, name);
  return [
    { Id: id('host'), Name: 'host', Driver: 'host', Scope: 'local', Created: '', Internal: false, Labels: {} },
    { Id: id('none'), Name: 'none', Driver: 'null', Scope: 'local', Created: '', Internal: false, Labels: {} },
  ];
}

/**
 * `network ls`: the networks of ROOT with the predefined ones, in docker/cli's order, those
 * FILTERS accept (Docker's keys: list-filter.ts). What killed commands left is swept first,
 * and Docker's bridge network, always listed, is made if no container has made it yet (as root
 * only: only root makes bridges, and a listing must not fail for want of it).
 */
export async function listNetworks(root: string, filters: string[] = []): Promise<NetworkListEntry[]> {
  const store = new NetworkStore(root);
  const accept = networkListFilter(filters, (id) => store.endpoints(id).some(endpointAlive));
  await sweepNetworks(root);
  if (process.getuid?.() === 0) await defaultNetwork(root);
  const own = store.list().map(({ Id, Name, Driver, Scope, Created, Internal, Labels }) => ({ Id, Name, Driver, Scope, Created, Internal, Labels }));
  return [...own, ...predefined(root)].filter(accept).sort((a, b) => compareNatural(a.Name, b.Name));
}

/**
 * `network inspect host|none`: Docker's shape for its two predefined networks that are modes
 * (no IPAM config; the running containers in that mode listed, without addresses), or
 * undefined for another NAME.
 */
export async function inspectPredefined(root: string, name: string): Promise<object | undefined> {
  const entry = predefined(root).find((n) => n.Name === name || n.Id === name || (name.length >= 1 && n.Id.startsWith(name)));
  if (!entry) return undefined;
  const containers: Record<string, object> = {};
  const store = new ContainerStore(root);
  for (const record of await store.list()) {
    if (record.HostConfig.NetworkMode !== entry.Name) continue;
    const status = readShimStatus(store.paths(record.Id).dir);
    if (!status || !['running', 'paused', 'restarting'].includes(status.state) || !shimAlive(status)) continue;
    containers[record.Id] = { Name: record.Name.slice(1), EndpointID: predefinedId(root, `${entry.Name}/${record.Id}`), MacAddress: '', IPv4Address: '', IPv6Address: '' };
  }
  return {
    Name: entry.Name, Id: entry.Id, Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: entry.Driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: null }, Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: {}, Labels: {},
  };
}

/**
 * `network inspect REF...`: each network's view in order, and the references no network answers
 * to. "default" is the bridge network, made if no container has made it yet (Docker's always
 * exists); host and none are modes no record can take; an ID prefix is a record's first.
 */
export async function inspectNetworkRefs(root: string, refs: string[]): Promise<{ found: object[]; missing: string[] }> {
  const store = new NetworkStore(root);
  const found: object[] = [];
  const missing: string[] = [];
  for (const ref of refs.map((r) => (r === 'default' ? DEFAULT_NETWORK : r))) {
    if (ref === DEFAULT_NETWORK) await defaultNetwork(root);
    const own = ref === 'host' || ref === 'none' ? undefined : store.find(ref);
    const shown = own ? inspectNetwork(store, own) : await inspectPredefined(root, ref);
    if (shown) found.push(shown);
    else missing.push(ref);
  }
  return { found, missing };
}

function liveEndpoints(store: NetworkStore, networkId: string): EndpointRecord[] {
  return store.endpoints(networkId).filter(endpointAlive);
}

/** `network inspect`: the record (without strata's own part) and the containers attached now. */
export function inspectNetwork(store: NetworkStore, net: NetworkRecord): object {
  const { Strata: _strata, ...docker } = net;
  const containers: Record<string, object> = {};
  for (const ep of liveEndpoints(store, net.Id)) {
    containers[ep.ContainerId] = { Name: ep.DnsNames[0] ?? '', EndpointID: ep.EndpointId, MacAddress: ep.Mac, IPv4Address: `${ep.IPv4}/${ep.PrefixLen}`, IPv6Address: '' };
  }
  const { Options, Labels, ...head } = docker;
  return { ...head, Containers: containers, Options, Labels };
}

/**
 * A container's NetworkSettings as Docker shows it: each network it is connected to, with its
 * address while it runs; the top-level address fields are the default network's (Docker's
 * legacy fields), empty for user-defined ones.
 */
export function containerNetworkSettings(root: string, record: ContainerRecord, running: { pid: number } | undefined, ports: object): object {
  const store = new NetworkStore(root);
  const networks: Record<string, EndpointSettings> = {};
  let top = { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' };
  for (const [name, settings] of Object.entries(record.NetworkSettings?.Networks ?? {})) {
    const ep = running ? store.endpoint(settings.NetworkID, record.Id) : undefined;
    const live = ep && endpointAlive(ep) ? ep : undefined;
    // Docker's field order (moby's EndpointSettings), whatever the record's.
    networks[name] = {
      IPAMConfig: settings.IPAMConfig ?? null, Links: settings.Links ?? null, Aliases: settings.Aliases ?? null, MacAddress: live?.Mac ?? '', DriverOpts: settings.DriverOpts ?? null,
      NetworkID: settings.NetworkID ?? '', EndpointID: live?.EndpointId ?? '', Gateway: live?.Gateway ?? '', IPAddress: live?.IPv4 ?? '', IPPrefixLen: live?.PrefixLen ?? 0,
      IPv6Gateway: settings.IPv6Gateway ?? '', GlobalIPv6Address: settings.GlobalIPv6Address ?? '', GlobalIPv6PrefixLen: settings.GlobalIPv6PrefixLen ?? 0,
      DNSNames: live && name !== DEFAULT_NETWORK ? live.DnsNames : null,
    };
    if (live && name === DEFAULT_NETWORK) top = { EndpointID: live.EndpointId, Gateway: live.Gateway, IPAddress: live.IPv4, IPPrefixLen: live.PrefixLen, MacAddress: live.Mac };
  }
  return {
    Bridge: '', SandboxID: '', SandboxKey: running ? `/proc/${running.pid}/ns/net` : '', Ports: ports, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: top.EndpointID, Gateway: top.Gateway, GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: top.IPAddress, IPPrefixLen: top.IPPrefixLen, IPv6Gateway: '', MacAddress: top.MacAddress, Networks: networks,
  };
}
