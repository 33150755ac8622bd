// A container's networking for one run: its networks brought up if need be, its endpoints
// allocated, its namespace plumbed (in parallel with the rest of the start), the DNS responders
// of its user-defined networks running, and its /etc/hosts and /etc/resolv.conf as Docker
// writes them. release() undoes what belongs to the run; the namespace itself dies with the
// container.
import { StrataError } from '../../errors.js';
import { failpoint } from '../../failpoint.js';
import { DEFAULT_NETWORK, NetworkStore, type NetworkRecord } from '../../store/index.js';
import { allocateEndpoints, prepareNetns, releaseContainer, releaseEndpoints, type Attached } from './endpoints.js';
import { BASE_HOSTS, extraHostLines, hostsNames, resolvConfText } from '../etc.js';
import type { DnsSettings, EtcTexts, RuntimeLauncher } from '../types.js';
import { ensureUp } from './networks.js';

/** What a container asks of the network (from its record; plain data). */
export interface NetworkRequest extends DnsSettings {
  /** Its networks (bridge mode), in the order of their interfaces: eth0 first. */
  networks: Array<{ name: string; id: string; aliases: string[]; ip?: string; mac?: string }>;
  hostname: string;
  /** --domainname: the hosts line names HOSTNAME.DOMAINNAME too. */
  domainname?: string;
  /** --add-host NAME:IP. */
  extraHosts: string[];
}

export interface ContainerNetwork {
  /** The namespace runc puts the container in. */
  netns: string;
  /** Resolves once the namespace is plumbed and the responders answer. */
  ready: Promise<unknown>;
  etc: EtcTexts;
  attached: Attached[];
  /** Lets the namespace's holder go (the container is in its namespace now). */
  letGo: () => void;
  /** Lets go of the namespace's holder and the endpoints (after the container's run). */
  release: () => Promise<void>;
  /** The namespace's holder can become the runtime (RunOptions.launch). */
  launch: RuntimeLauncher;
}

/** The records of the container's networks, with their bridges up. */
async function networksOf(root: string, req: NetworkRequest): Promise<NetworkRecord[]> {
  const store = new NetworkStore(root);
  const out: NetworkRecord[] = [];
  for (const n of req.networks) {
    const net = store.find(n.id) ?? (n.name === DEFAULT_NETWORK ? undefined : store.find(n.name));
    if (!net) throw new StrataError(`network "${n.name}" not found`);
    out.push(await ensureUp(root, net));
  }
  return out;
}

/** Sets up the container's networks for one run (see the file's comment). */
export async function attachNetworks(root: string, container: { id: string; name: string }, req: NetworkRequest): Promise<ContainerNetwork> {
  const nets = await networksOf(root, req);
  const attached = await allocateEndpoints(root, {
    containerId: container.id, name: container.name, upstreams: req.dns,
    networks: req.networks.map((n, i) => ({ net: nets[i]!, aliases: n.aliases, ip: n.ip, mac: n.mac })),
  });
  let netns;
  try {
    netns = prepareNetns(attached);
  } catch (err) {
    releaseEndpoints(root, attached);
    throw err;
  }
  const store = new NetworkStore(root);
  const userNets = attached.filter((a) => a.net.Name !== DEFAULT_NETWORK);
  const responders = userNets.length ? import('./dns/control.js').then((c) => Promise.all(userNets.map((a) => c.ensureResponder(store, a.net)))) : undefined;
  const primary = attached[0]?.endpoint;
  const hosts = `${BASE_HOSTS}${extraHostLines(req.extraHosts, primary?.Gateway)}${primary ? `${primary.IPv4}\t${hostsNames(req.hostname, req.domainname)}\n` : ''}`;
  // On a user-defined network the responder answers first (it forwards what is not its own).
  const resolvConf = resolvConfText(req, userNets[0]?.endpoint.Gateway);
  const ready = Promise.all([netns.ready, responders]).then(() => failpoint('net.netns-ready'));
  ready.catch(() => undefined);
  let released = false;
  return {
    netns: netns.path, ready, etc: { hosts, resolvConf }, attached, letGo: netns.close, launch: netns.launch,
    release: async () => {
      if (released) return;
      released = true;
      netns.close();
      await releaseRun(root, container.id, attached.find((a) => a.net.Name === DEFAULT_NETWORK)?.net.Id ?? null);
    },
  };
}

/**
 * Undoes a run's part on its networks: the container's endpoints (also on the networks
 * `network connect` added while it ran), and the responders of user-defined networks left idle.
 * DEFAULT_ID is the default network's ID when the caller knows it (null: the run was not on it),
 * else it is looked up.
 */
export async function releaseRun(root: string, containerId: string, defaultId?: string | null): Promise<void> {
  const dropped = releaseContainer(root, containerId);
  if (dropped.length === 0) return;
  const store = new NetworkStore(root);
  const skip = defaultId === undefined ? store.list().find((n) => n.Name === DEFAULT_NETWORK)?.Id : defaultId;
  const userIds = dropped.filter((id) => id !== skip);
  if (userIds.length) await (await import('./dns/control.js')).stopIdleResponders(store, userIds);
}
