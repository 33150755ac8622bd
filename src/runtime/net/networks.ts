// Networks of a state root: create, remove, prune, and the default "bridge" network made on
// first use. A network is a record (store/networks.ts), a claimed subnet (pool.ts) and its
// kernel objects (kernel.ts); the order of their creation and removal under the locks (root's
// first, then the machine's) is what lets a kill -9 at any point be swept by the next command.
import { StrataError } from '../../errors.js';
import { failpoint } from '../../failpoint.js';
import { DEFAULT_NETWORK, NetworkStore, newNetworkId, RESERVED_NETWORKS, type EndpointRecord, type NetworkRecord } from '../../store/index.js';
import { enableForwarding, endpointAlive, linkExists } from './host.js';
import { contains, formatIp, formatSubnet, hostAt, parseIp, parseRange, parseSubnet, type Subnet } from './ipv4.js';
import { applyRules, bridgeDown, bridgeUp, MTU_OPTION, sweepDeadRoots } from './kernel.js';
import { bridgeName, rootIdentity } from './names.js';
import { chooseSubnet, claimOwnerAlive, readClaim, readClaims, removeClaim, withMachineLock, writeClaim, type Claim } from './pool.js';

export interface CreateNetworkOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  /** --ip-range: where addresses are allocated from (an --ip may be anywhere in the subnet). */
  ipRange?: string;
  /** --attachable: recorded (every strata network is one a container can join). */
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** Docker's options of its default network, shown by `network inspect bridge`. */
const DEFAULT_OPTIONS = (bridge: string) => ({
  'com.docker.network.bridge.default_bridge': 'true',
  'com.docker.network.bridge.enable_icc': 'true',
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
  'com.docker.network.bridge.name': bridge,
  'com.docker.network.driver.mtu': '1500',
});

function gatewayFor(subnet: Subnet, text: string | undefined, subnetText: string): string {
  if (text === undefined) return formatIp(hostAt(subnet, 1));
  const ip = parseIp(text);
  if (ip === undefined) throw new StrataError(`invalid gateway "${text}": expected an IPv4 address`);
  if (!contains(subnet, ip) || ip === subnet.base || ip === hostAt(subnet, 2 ** (32 - subnet.prefix) - 1)) throw new StrataError(`invalid gateway "${text}": not a host address of subnet "${subnetText}"`);
  return text;
}

/**
 * Claims a subnet for NET's bridge and brings the bridge and the root's rules up (caller holds
 * the root's lock). A network whose subnet the user did not choose moves to a free one when
 * its old one has been taken meanwhile (after a reboot, by a new route).
 */
async function bringUp(store: NetworkStore, net: NetworkRecord, requested: Subnet | undefined, gateway: string | undefined, ipRange?: string): Promise<NetworkRecord> {
  const ident = rootIdentity(store.root);
  return withMachineLock(async () => {
    const claims = readClaims();
    sweepDeadRoots(claims);
    sweepOrphans(store, claims, net.Strata.bridge);
    let subnet: Subnet;
    try {
      subnet = chooseSubnet(net.Strata.bridge, requested, readClaims());
    } catch (err) {
      if (net.Strata.subnetGiven || !requested) throw err;
      subnet = chooseSubnet(net.Strata.bridge, undefined, readClaims());
      gateway = undefined;
    }
    const subnetText = formatSubnet(subnet);
    const record: NetworkRecord = { ...net, IPAM: { ...net.IPAM, Config: [{ Subnet: subnetText, ...(ipRange ? { IPRange: ipRange } : {}), Gateway: gatewayFor(subnet, gateway, subnetText) }] } };
    const claim: Claim = { bridge: net.Strata.bridge, subnet: subnetText, root: ident.root, rootIno: ident.ino, rootId: ident.id, network: net.Id };
    writeClaim({ ...claim, pending: true });
    try {
      store.create(record);
      bridgeDown(net.Strata.bridge); // a leftover of this very root (a kill -9 mid-creation)
      bridgeUp(record);
      failpoint('net.bridge-up');
      enableForwarding();
      applyRules(ident.id, store.list());
    } catch (err) {
      bridgeDown(net.Strata.bridge);
      removeClaim(net.Strata.bridge);
      throw err;
    }
    writeClaim(claim);
    return record;
  });
}

/**
 * Claims (and bridges) of this root that no record names: a `network create` or `rm` killed
 * half-way (caller holds both locks). BUT is the bridge being made right now. True when any went.
 */
function sweepOrphans(store: NetworkStore, claims: Claim[], but?: string): boolean {
  const rootId = rootIdentity(store.root).id;
  const known = new Set(store.list().map((n) => n.Strata.bridge));
  let swept = false;
  for (const c of claims) {
    if (c.rootId !== rootId || c.bridge === but || known.has(c.bridge)) continue;
    bridgeDown(c.bridge);
    removeClaim(c.bridge);
    swept = true;
  }
  return swept;
}

/**
 * What killed strata processes left: the dirs, bridges and rules of a `network create`/`rm` of
 * this root killed mid-way (a creation's dir without its record too; the bridge of a record gone
 * is known by its claim), dead roots' leftovers, and the endpoints (addresses) of containers
 * whose namespace is gone. Every command calls it (runtime/leftovers.ts); it takes no lock when
 * there is nothing to do.
 */
export async function sweepNetworks(root: string): Promise<void> {
  const store = new NetworkStore(root);
  const rootId = rootIdentity(root).id;
  const claims = readClaims();
  const networks = store.list();
  const known = new Set(networks.map((n) => n.Strata.bridge));
  const deadOrOrphan = claims.some((c) => (c.rootId === rootId && !known.has(c.bridge)) || !claimOwnerAlive(c));
  const deadEndpoints = networks.some((n) => !store.endpoints(n.Id).every(endpointAlive));
  const killed = store.killedLeftovers().length > 0;
  if (!deadOrOrphan && !deadEndpoints && !killed) return;
  await store.locked(async () => {
    store.sweepKilledLeftovers();
    for (const n of store.list()) sweepEndpoints(store, n.Id);
    if (!deadOrOrphan) return;
    await withMachineLock(async () => {
      const now = readClaims();
      sweepDeadRoots(now);
      if (sweepOrphans(store, now)) applyRules(rootId, store.list());
    });
  });
}

function newRecord(store: NetworkStore, name: string, options: Omit<CreateNetworkOptions, 'name'>, index: number): NetworkRecord {
  const bridge = bridgeName(rootIdentity(store.root).id, index);
  return {
    Name: name, Id: newNetworkId(), Created: new Date().toISOString(), Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: options.internal ?? false, Attachable: options.attachable ?? false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Options: options.options ?? {}, Labels: options.labels ?? {},
    Strata: { bridge, index, subnetGiven: options.subnet !== undefined },
  };
}

/** The -o driver options strata records but does not apply (all but the MTU): the CLI warns of them. */
export function unappliedOptions(options: Record<string, string>): string[] {
  return Object.keys(options).filter((k) => k !== MTU_OPTION);
}

export async function createNetwork(root: string, options: CreateNetworkOptions): Promise<NetworkRecord> {
  const store = new NetworkStore(root);
  if ((options.driver ?? 'bridge') !== 'bridge') throw new StrataError(`unsupported network driver "${options.driver}": strata has the bridge driver`);
  if (RESERVED_NETWORKS.includes(options.name)) throw new StrataError(`network with name "${options.name}" already exists: it is a predefined network`);
  if (options.gateway !== undefined && options.subnet === undefined) throw new StrataError('invalid gateway: a gateway needs a --subnet to belong to');
  const mtu = options.options?.[MTU_OPTION];
  // Linux's bounds for an Ethernet device (68: IPv4's minimum; 65535: the bridge's maximum).
  if (mtu !== undefined && (!/^\d+$/.test(mtu) || Number(mtu) < 68 || Number(mtu) > 65535)) throw new StrataError(`invalid ${MTU_OPTION} "${mtu}": expected a number from 68 to 65535`);
  const requested = options.subnet !== undefined ? parseSubnet(options.subnet) : undefined;
  if (options.ipRange !== undefined) {
    if (!requested) throw new StrataError('invalid --ip-range: it needs a --subnet to belong to');
    const range = parseRange(options.ipRange);
    if (range.prefix < requested.prefix || !contains(requested, range.base)) throw new StrataError(`invalid --ip-range "${options.ipRange}": not within subnet "${options.subnet}"`);
  }
  return store.locked(async () => {
    const all = store.list();
    if (all.some((n) => n.Name === options.name)) throw new StrataError(`network with name "${options.name}" already exists`);
    const index = Math.max(0, ...all.map((n) => n.Strata.index)) + 1;
    return bringUp(store, newRecord(store, options.name, options, index), requested, options.gateway, options.ipRange);
  });
}

/** The default network's record, made (with its bridge) the first time it is asked for. */
export async function defaultNetwork(root: string): Promise<NetworkRecord> {
  const store = new NetworkStore(root);
  const found = store.find(DEFAULT_NETWORK);
  if (found) return found;
  return store.locked(async () => {
    const again = store.find(DEFAULT_NETWORK);
    if (again) return again;
    const record = newRecord(store, DEFAULT_NETWORK, {}, 0);
    record.Options = DEFAULT_OPTIONS(record.Strata.bridge);
    return bringUp(store, record, parseSubnet('172.17.0.0/16'), undefined);
  });
}

/** Whether NET's bridge was made to the end (its claim committed) and is there. */
function isUp(net: NetworkRecord): boolean {
  const claim = readClaim(net.Strata.bridge);
  return !!claim && !claim.pending && claim.network === net.Id && linkExists(net.Strata.bridge);
}

/** NET with its bridge and rules present (re-made after a reboot, a sweep, or a kill -9 mid-way). */
export async function ensureUp(root: string, net: NetworkRecord): Promise<NetworkRecord> {
  if (isUp(net)) return net;
  const store = new NetworkStore(root);
  return store.locked(async () => {
    const current = store.get(net.Id);
    if (isUp(current)) return current;
    return bringUp(store, current, parseSubnet(current.IPAM.Config[0]!.Subnet), current.IPAM.Config[0]!.Gateway, current.IPAM.Config[0]!.IPRange);
  });
}

/** Removes what is left of dead endpoints (caller holds the root's lock); returns the live ones. */
export function sweepEndpoints(store: NetworkStore, networkId: string): EndpointRecord[] {
  const live: EndpointRecord[] = [];
  for (const ep of store.endpoints(networkId)) {
    if (endpointAlive(ep)) live.push(ep);
    else store.removeEndpoint(networkId, ep.ContainerId);
  }
  return live;
}

export async function removeNetwork(root: string, ref: string): Promise<NetworkRecord> {
  const store = new NetworkStore(root);
  if (['host', 'none', DEFAULT_NETWORK, 'default'].includes(ref)) throw new StrataError(`"${ref}" is a pre-defined network and cannot be removed`);
  await sweepNetworks(root);
  return store.locked(async () => {
    const net = store.get(ref);
    if (net.Name === DEFAULT_NETWORK) throw new StrataError(`"${net.Name}" is a pre-defined network and cannot be removed`);
    const live = sweepEndpoints(store, net.Id);
    if (live.length > 0) throw new StrataError(`error while removing network "${net.Name}": network has active endpoints (${live.length} running container${live.length > 1 ? 's' : ''})`);
    const { stopResponder } = await import('./dns/control.js');
    stopResponder(store, net.Id);
    await withMachineLock(async () => {
      store.remove(net.Id);
      failpoint('net.network-removed');
      bridgeDown(net.Strata.bridge);
      applyRules(rootIdentity(root).id, store.list());
      removeClaim(net.Strata.bridge);
    });
    return net;
  });
}

/** `network prune`: every user-defined network no running container uses (and ACCEPT takes: --filter). */
export async function pruneNetworks(root: string, accept: (net: NetworkRecord) => boolean = () => true): Promise<NetworkRecord[]> {
  const store = new NetworkStore(root);
  const removed: NetworkRecord[] = [];
  for (const net of store.list()) {
    if (net.Name === DEFAULT_NETWORK || !accept(net)) continue;
    try {
      removed.push(await removeNetwork(root, net.Id));
    } catch (err) {
      if (!(err instanceof StrataError) || !/active endpoints/.test(err.message)) throw err;
    }
  }
  return removed;
}
