// `network connect` and `network disconnect`: the container's record gains or loses the
// network (what its next start attaches), and a running container gets or loses the interface
// right away, as Docker's.
import { StrataError } from '../errors.js';
import type { ContainerRecord } from '../store/index.js';
import { DEFAULT_NETWORK, NetworkStore } from '../store/index.js';
import { checkEndpointRequest, endpointSettings } from './net/config.js';
import { allocateEndpoints, plumbInto, releaseEndpoints, unplugFrom } from './net/endpoints.js';
import { ensureUp } from './net/networks.js';
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

export async function connectContainer(ctx: NetContext, ref: string, networkRef: string, options: { aliases: string[]; ip?: string }): Promise<void> {
  const store = new NetworkStore(ctx.root);
  const net = store.get(networkRef === 'default' ? DEFAULT_NETWORK : networkRef);
  const record = await ctx.containers.get(ref);
  checkMode(record, `connected to network "${net.Name}"`);
  if (record.NetworkSettings?.Networks?.[net.Name]) throw new StrataError(`container "${record.Name.slice(1)}" is already connected to network "${net.Name}"`);
  checkEndpointRequest(net, options.aliases, options.ip);
  const pid = runningPid(ctx, record);
  if (pid !== undefined) {
    const up = await ensureUp(ctx.root, net);
    const inUse = store.ids().flatMap((id) => store.endpoint(id, record.Id)?.IfName ?? []);
    const attached = await allocateEndpoints(ctx.root, { containerId: record.Id, name: record.Name.slice(1), upstreams: (record.HostConfig.Dns as string[] | undefined) ?? [], networks: [{ net: up, aliases: options.aliases, ip: options.ip }] }, inUse);
    try {
      plumbInto(pid, attached);
      if (net.Name !== DEFAULT_NETWORK) await (await import('./net/dns/control.js')).ensureResponder(store, up);
    } catch (err) {
      releaseEndpoints(ctx.root, attached);
      throw err;
    }
  }
  await ctx.containers.update(record.Id, (r) => {
    r.NetworkSettings = { ...r.NetworkSettings, Networks: { ...r.NetworkSettings?.Networks, [net.Name]: endpointSettings(net, options.aliases, options.ip) } };
  });
}

export async function disconnectContainer(ctx: NetContext, ref: string, networkRef: string): Promise<void> {
  const store = new NetworkStore(ctx.root);
  const net = store.get(networkRef === 'default' ? DEFAULT_NETWORK : networkRef);
  const record = await ctx.containers.get(ref);
  checkMode(record, `disconnected from network "${net.Name}"`);
  if (!record.NetworkSettings?.Networks?.[net.Name]) throw new StrataError(`container "${record.Name.slice(1)}" is not connected to network "${net.Name}"`);
  const pid = runningPid(ctx, record);
  const endpoint = store.endpoint(net.Id, record.Id);
  if (pid !== undefined && endpoint) {
    // The way out moves to another network of the container's that has one.
    const gateways = store.list().filter((n) => n.Id !== net.Id && !n.Internal).flatMap((n) => store.endpoint(n.Id, record.Id)?.Gateway ?? []);
    unplugFrom(pid, endpoint.IfName, gateways);
  }
  store.removeEndpoint(net.Id, record.Id);
  if (net.Name !== DEFAULT_NETWORK) await (await import('./net/dns/control.js')).stopIdleResponders(store, [net.Id]);
  await ctx.containers.update(record.Id, (r) => {
    const { [net.Name]: _gone, ...rest } = r.NetworkSettings?.Networks ?? {};
    r.NetworkSettings = { ...r.NetworkSettings, Networks: rest };
  });
}
