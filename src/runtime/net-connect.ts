// `network connect` and `network disconnect`: the container's record gains or loses the
// network (what its next start attaches), and a running container gets or loses the interface
// right away, as Docker's, and its resolv.conf and /etc/hosts follow (followResolvConf,
// followHosts).
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import type { ContainerRecord, NetworkRecord } from '../store/index.js';
import { DEFAULT_NETWORK, NetworkStore } from '../store/index.js';
import { hostsNames, resolvConfText } from './etc.js';
import { checkEndpointRequest, dnsSettingsOf, endpointSettings } from './net/config.js';
import { allocateEndpoints, plumbInto, releaseEndpoints, unplugFrom } from './net/endpoints.js';
import { defaultNetwork, ensureUp } from './net/networks.js';
import type { NetContext } from './net-run.js';
import { readRuntimeStatus } from './shim/state.js';

function runningPid(ctx: NetContext, record: ContainerRecord): number | undefined {
  const status = readRuntimeStatus(ctx.containers.paths(record.Id).dir, ctx.runcRoot, record.Id);
  return status?.pid && (status.state === 'running' || status.state === 'paused') ? status.pid : undefined;
}

function checkMode(record: ContainerRecord, what: string): void {
  const mode = record.HostConfig.NetworkMode;
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
    throw new StrataError(`container "${record.Name.slice(1)}" cannot be ${what}: it uses the network mode "${mode.startsWith('container:') ? 'container' : mode}"`);
  }
}

/** The responder a start would name in resolv.conf: the first user-defined network's gateway the container has an endpoint on. */
function responderOf(store: NetworkStore, record: ContainerRecord, networks: NetworkRecord[]): string | undefined {
  for (const net of networks) {
    if (net.Name === DEFAULT_NETWORK) continue;
    const gateway = store.endpoint(net.Id, record.Id)?.Gateway;
    if (gateway) return gateway;
  }
  return undefined;
}

/** The container's networks in the record's order (a connect appends), as a start attaches them. */
function networksOf(store: NetworkStore, record: ContainerRecord): NetworkRecord[] {
  const all = store.list();
  return Object.keys(record.NetworkSettings?.Networks ?? {}).flatMap((name) => all.find((n) => n.Name === name) ?? []);
}

/**
 * A running container's resolv.conf after a connect or disconnect, as Docker rebuilds it: the
 * first user-defined network's responder when it has one (a container connected from the
 * default network to a user-defined one now resolves its names), else the --dns or host
 * servers. Written in place (it is bind-mounted by inode), and only while it still holds what
 * strata wrote for BEFORE: a file the container changed is left as it is.
 */
function followResolvConf(ctx: NetContext, record: ContainerRecord, before: string | undefined, after: string | undefined): void {
  if (before === after) return;
  const file = path.join(ctx.containers.paths(record.Id).bundle, 'resolv.conf');
  const dns = dnsSettingsOf(record);
  let current: string;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  if (current !== resolvConfText(dns, before)) return;
  fs.writeFileSync(file, resolvConfText(dns, after));
}

/**
 * The network a connect or disconnect names: the default one made if need be (Docker's bridge is
 * always there); host (and none, to connect to) refused with Docker's words: modes, not networks.
 */
async function namedNetwork(ctx: NetContext, store: NetworkStore, networkRef: string, connect: boolean): Promise<NetworkRecord> {
  if (networkRef === 'host') throw new StrataError('container cannot be disconnected from host network or connected to host network');
  if (networkRef === 'none' && connect) throw new StrataError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
  if (networkRef === 'default' || networkRef === DEFAULT_NETWORK) return defaultNetwork(ctx.root);
  return store.get(networkRef);
}

/**
 * A running container's /etc/hosts after a connect (ADDED) or disconnect (REMOVED), as
 * libnetwork keeps it: a line "IP NAMES" for the address on each network it is on, so its own
 * name (`hostname -i`) never gives an address it no longer has. Written in place (bind-mounted
 * by inode); a line the container changed is its own.
 */
function followHosts(ctx: NetContext, record: ContainerRecord, change: { added?: string; removed?: string }): void {
  const file = path.join(ctx.containers.paths(record.Id).bundle, 'hosts');
  const names = hostsNames(record.Config.Hostname, (record.Config as { Domainname?: string }).Domainname);
  let current: string;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  let next = current;
  if (change.removed) next = next.split('\n').filter((line) => line !== `${change.removed}\t${names}`).join('\n');
  if (change.added) next = `${next}${next.endsWith('\n') || next === '' ? '' : '\n'}${change.added}\t${names}\n`;
  if (next !== current) fs.writeFileSync(file, next);
}

export async function connectContainer(ctx: NetContext, ref: string, networkRef: string, options: { aliases: string[]; ip?: string }): Promise<void> {
  const store = new NetworkStore(ctx.root);
  const net = await namedNetwork(ctx, store, networkRef, true);
  const record = await ctx.containers.get(ref);
  checkMode(record, `connected to network "${net.Name}"`);
  if (record.NetworkSettings?.Networks?.[net.Name]) throw new StrataError(`container "${record.Name.slice(1)}" is already connected to network "${net.Name}"`);
  checkEndpointRequest(net, options.aliases, options.ip);
  const pid = runningPid(ctx, record);
  if (pid !== undefined) {
    const up = await ensureUp(ctx.root, net);
    const inUse = store.ids().flatMap((id) => store.endpoint(id, record.Id)?.IfName ?? []);
    const attached = await allocateEndpoints(ctx.root, { containerId: record.Id, name: record.Name.slice(1), upstreams: (record.HostConfig.Dns as string[] | undefined) ?? [], networks: [{ net: up, aliases: options.aliases, ip: options.ip }] }, inUse);
    const before = responderOf(store, record, networksOf(store, record));
    try {
      plumbInto(pid, attached);
      if (net.Name !== DEFAULT_NETWORK) await (await import('./net/dns/control.js')).ensureResponder(store, up);
    } catch (err) {
      releaseEndpoints(ctx.root, attached);
      throw err;
    }
    followResolvConf(ctx, record, before, responderOf(store, record, [...networksOf(store, record), up]));
    followHosts(ctx, record, { added: attached[0]!.endpoint.IPv4 });
  }
  await ctx.containers.update(record.Id, (r) => {
    r.NetworkSettings = { ...r.NetworkSettings, Networks: { ...r.NetworkSettings?.Networks, [net.Name]: endpointSettings(net, options.aliases, options.ip) } };
  });
}

export async function disconnectContainer(ctx: NetContext, ref: string, networkRef: string): Promise<void> {
  const store = new NetworkStore(ctx.root);
  const net = await namedNetwork(ctx, store, networkRef, false);
  const record = await ctx.containers.get(ref);
  checkMode(record, `disconnected from network "${net.Name}"`);
  if (!record.NetworkSettings?.Networks?.[net.Name]) throw new StrataError(`container "${record.Name.slice(1)}" is not connected to network "${net.Name}"`);
  const pid = runningPid(ctx, record);
  const endpoint = store.endpoint(net.Id, record.Id);
  const networks = networksOf(store, record);
  const before = responderOf(store, record, networks);
  if (pid !== undefined && endpoint) {
    // The way out moves to another network of the container's that has one.
    const gateways = store.list().filter((n) => n.Id !== net.Id && !n.Internal).flatMap((n) => store.endpoint(n.Id, record.Id)?.Gateway ?? []);
    unplugFrom(pid, endpoint.IfName, gateways);
  }
  store.removeEndpoint(net.Id, record.Id);
  if (pid !== undefined) {
    followResolvConf(ctx, record, before, responderOf(store, record, networks.filter((n) => n.Id !== net.Id)));
    if (endpoint) followHosts(ctx, record, { removed: endpoint.IPv4 });
  }
  if (net.Name !== DEFAULT_NETWORK) await (await import('./net/dns/control.js')).stopIdleResponders(store, [net.Id]);
  await ctx.containers.update(record.Id, (r) => {
    const { [net.Name]: _gone, ...rest } = r.NetworkSettings?.Networks ?? {};
    r.NetworkSettings = { ...r.NetworkSettings, Networks: rest };
  });
}
