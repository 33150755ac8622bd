// The network side of starting a container (foreground, shim and build alike): for a container
// on networks, its endpoints and plumbed namespace (net/attach.ts); for container:NAME, the
// other container's namespace and files; for host and none, nothing to set up.
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import type { ContainerRecord, ContainerStore } from '../store/index.js';
import { attachNetworks, releaseRun } from './net/attach.js';
import { dnsSettingsOf, networkRequestOf } from './net/config.js';
import { defaultNetwork, ensureUp } from './net/networks.js';
import { readRuntimeStatus } from './shim/state.js';
import type { RunSpec, RuntimeLauncher } from './types.js';

export interface RunNetwork {
  /** What the RunSpec gets: the namespace to join, /etc files (host, none: --add-host resolved). */
  spec: Pick<RunSpec, 'netns' | 'etc' | 'extraHosts'>;
  /** Awaited before runc starts the container. */
  ready?: Promise<unknown>;
  /** The container runs: what held its namespace until then can go. */
  started?: () => void;
  /** The namespace's holder can become the runtime (RunOptions.launch). */
  launch?: RuntimeLauncher;
  /** Undoes the run's part (its endpoints); the namespace goes with the container. */
  release: () => Promise<void>;
}

const NOTHING: RunNetwork = { spec: {}, release: async () => undefined };

export interface NetContext {
  root: string;
  containers: ContainerStore;
  runcRoot: string;
}

/** The network for one run of RECORD. */
export async function networkForRun(ctx: NetContext, record: ContainerRecord): Promise<RunNetwork> {
  const mode = record.HostConfig.NetworkMode;
  if (mode === 'host' || mode === 'none') return hostGatewayResolved(ctx.root, record);
  if (mode.startsWith('container:')) return joinContainer(ctx, mode.slice('container:'.length));
  const request = networkRequestOf(record);
  if (request.networks.length === 0) return NOTHING; // disconnected from all: only lo, as Docker's
  const net = await attachNetworks(ctx.root, { id: record.Id, name: record.Name.replace(/^\//, '') }, request);
  return { spec: { netns: net.netns, etc: net.etc }, ready: net.ready, started: net.letGo, launch: net.launch, release: net.release };
}

/**
 * The network of a run whose namespace the starter of the shim plumbed and holds until the
 * container runs (ShimConfig.prepared): SPEC as it was given; the run's endpoints released after.
 */
export function preparedNetwork(ctx: Pick<NetContext, 'root'>, id: string, spec: RunNetwork['spec']): RunNetwork {
  return { spec: { netns: spec.netns, etc: spec.etc }, release: () => releaseRun(ctx.root, id) };
}

/**
 * Host and none: nothing to set up, but `--add-host NAME:host-gateway` names the default bridge
 * network's gateway, as Docker's daemon maps host-gateway to its default bridge's address (an
 * address of the host's own, reachable on the host's network). The default network is made
 * for it if need be, as Docker's docker0 is always there.
 */
async function hostGatewayResolved(root: string, record: ContainerRecord): Promise<RunNetwork> {
  const { extraHosts } = dnsSettingsOf(record);
  if (!extraHosts.some((e) => e.endsWith(':host-gateway'))) return NOTHING;
  const net = await ensureUp(root, await defaultNetwork(root));
  const gateway = net.IPAM.Config[0]!.Gateway;
  return { spec: { extraHosts: extraHosts.map((e) => (e.endsWith(':host-gateway') ? `${e.slice(0, -'host-gateway'.length)}${gateway}` : e)) }, release: async () => undefined };
}

async function joinContainer(ctx: NetContext, ref: string): Promise<RunNetwork> {
  const other = await ctx.containers.get(ref).catch(() => undefined);
  if (!other) throw new StrataError(`cannot join the network of container "${ref}": no such container`);
  const dir = ctx.containers.paths(other.Id).dir;
  const status = readRuntimeStatus(dir, ctx.runcRoot, other.Id);
  if (!status?.pid || (status.state !== 'running' && status.state !== 'paused')) throw new StrataError(`cannot join the network of container "${other.Name.slice(1)}": it is not running`);
  const bundle = ctx.containers.paths(other.Id).bundle;
  const read = (f: string) => fs.readFileSync(path.join(bundle, f), 'utf8');
  return { spec: { netns: `/proc/${status.pid}/ns/net`, etc: { hosts: read('hosts'), resolvConf: read('resolv.conf') } }, release: async () => undefined };
}
