// A container's place on its networks: one endpoint per network (an address, a MAC, a veth
// pair), allocated under the root's lock and written before the container starts, removed when
// it stops. The plumbing is one shell script: for a start, `unshare -n` runs it in a fresh
// network namespace that it then holds open until runc has put the container in it (so it is
// done while the bundle is written, not in runc's critical path); for `network connect`, it
// runs in the running container's namespace. Either way the veth pair is created from inside
// with its host end sent to our namespace, and dies with the container's namespace, so no
// kill -9 can leave one behind.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { StrataError } from '../../errors.js';
import type { RuntimeLauncher } from '../types.js';
import { processStartTime } from '../../store/index.js';
import { NetworkStore, type EndpointRecord, type NetworkRecord } from '../../store/index.js';
import { contains, formatIp, hostAt, hostCount, macFor, parseIp, parseRange, parseSubnet } from './ipv4.js';
import { linkExists } from './host.js';
import { gatewayOf, mtuOf } from './kernel.js';
import { rootIdentity, vethName } from './names.js';
import { sweepEndpoints } from './networks.js';

export interface EndpointRequest {
  net: NetworkRecord;
  /** DNS names on this network besides the container's name (--network-alias). */
  aliases: string[];
  /** A fixed address (--ip). */
  ip?: string;
  /** A fixed MAC address (--mac-address); else one made from the IP address, as Docker's. */
  mac?: string;
}

export interface AttachRequest {
  containerId: string;
  /** The container's name (resolvable on user-defined networks). */
  name: string;
  networks: EndpointRequest[];
  /** --dns: where the network's responder forwards this container's other queries. */
  upstreams: string[];
}

export interface Attached {
  net: NetworkRecord;
  endpoint: EndpointRecord;
}

function chooseAddress(net: NetworkRecord, used: Set<number>, requested: string | undefined): number {
  const subnet = parseSubnet(gatewayOf(net).subnet);
  if (requested !== undefined) {
    const ip = parseIp(requested);
    if (ip === undefined) throw new StrataError(`invalid IP address "${requested}"`);
    if (!contains(subnet, ip) || ip === subnet.base || ip === hostAt(subnet, hostCount(subnet) + 1)) throw new StrataError(`invalid IP address "${requested}": not in subnet "${gatewayOf(net).subnet}" of network "${net.Name}"`);
    if (used.has(ip)) throw new StrataError(`address "${requested}" already in use on network "${net.Name}"`);
    return ip;
  }
  // --ip-range: addresses are handed out from it only (Docker's IPAM).
  const range = net.IPAM.Config[0]?.IPRange ? parseRange(net.IPAM.Config[0].IPRange) : undefined;
  for (let n = 1; n <= hostCount(subnet); n++) {
    const ip = hostAt(subnet, n);
    if (!used.has(ip) && (!range || contains(range, ip))) return ip;
  }
  throw new StrataError(`no available IPv4 address on network "${net.Name}"`);
}

function dnsNames(req: AttachRequest, aliases: string[]): string[] {
  return [...new Set([req.name, ...aliases, req.containerId.slice(0, 12)].filter(Boolean))];
}

/**
 * Allocates the container's endpoints (addresses, veth names) and records them, owned by this
 * process. IFNAMES in use inside the container are skipped (for a connect while it runs).
 */
export async function allocateEndpoints(root: string, req: AttachRequest, ifnamesInUse: string[] = []): Promise<Attached[]> {
  const store = new NetworkStore(root);
  const rootId = rootIdentity(root).id;
  const owner = { pid: process.pid, start: processStartTime(process.pid) ?? '' };
  return store.locked(async () => {
    const out: Attached[] = [];
    let ifIndex = 0;
    const nextIfname = () => {
      while (ifnamesInUse.includes(`eth${ifIndex}`)) ifIndex++;
      return `eth${ifIndex++}`;
    };
    try {
      for (const { net, aliases, ip, mac } of req.networks) {
        const live = sweepEndpoints(store, net.Id).filter((e) => e.ContainerId !== req.containerId);
        const { gateway, prefix } = gatewayOf(net);
        const used = new Set([parseIp(gateway)!, ...live.map((e) => parseIp(e.IPv4)!)]);
        const address = chooseAddress(net, used, ip);
        const endpoint: EndpointRecord = {
          ContainerId: req.containerId, EndpointId: `${req.containerId.slice(0, 32)}${address.toString(16).padStart(8, '0')}${net.Id.slice(0, 24)}`,
          DnsNames: dnsNames(req, aliases), IPv4: formatIp(address), PrefixLen: prefix, Gateway: gateway, Mac: mac ?? macFor(address),
          Veth: vethName(rootId), IfName: nextIfname(), Owner: owner, Upstreams: req.upstreams,
        };
        store.writeEndpoint(net.Id, endpoint);
        out.push({ net, endpoint });
      }
    } catch (err) {
      for (const a of out) store.removeEndpoint(a.net.Id, a.endpoint.ContainerId);
      throw err;
    }
    return out;
  });
}

/** Drops the endpoints (the container stopped, or never started). */
export function releaseEndpoints(root: string, attached: Attached[]): void {
  const store = new NetworkStore(root);
  for (const a of attached) store.removeEndpoint(a.net.Id, a.endpoint.ContainerId);
}

/**
 * A renamed container answers to its new name on every network it is attached to right now
 * (Docker renames the sandbox's service records): its endpoints' first DNS name (always the
 * container's name, see dnsNames; also the name `network inspect` shows) is replaced. A stopped
 * container has no endpoint: its next start writes the new name.
 */
export async function renameEndpoints(root: string, containerId: string, newName: string): Promise<void> {
  const store = new NetworkStore(root);
  await store.locked(async () => {
    for (const id of store.ids()) {
      const ep = store.endpoint(id, containerId);
      if (!ep || ep.DnsNames[0] === newName) continue;
      store.writeEndpoint(id, { ...ep, DnsNames: [...new Set([newName, ...ep.DnsNames.slice(1)])] });
    }
  });
}

/**
 * Drops every endpoint of the container, on every network (also those `network connect` added
 * while it ran). The container has stopped: its veth pairs normally died with its namespace, but
 * a container that joined it (`--network container:NAME`) keeps the namespace alive, and with it
 * the interfaces, their addresses and their bridge ports, which the container's next start would
 * take again (the same address and MAC twice on the bridge). They are deleted, as Docker's
 * libnetwork removes the interfaces of a stopped container's sandbox: the joined container is
 * left with its loopback only.
 */
export function releaseContainer(root: string, containerId: string): string[] {
  const store = new NetworkStore(root);
  const dropped: string[] = [];
  for (const id of store.ids()) {
    const veth = store.endpoint(id, containerId)?.Veth;
    if (veth && linkExists(veth)) spawnSync('ip', ['link', 'del', veth], { stdio: 'ignore' });
    if (store.removeEndpoint(id, containerId)) dropped.push(id);
  }
  return dropped;
}

/**
 * The plumbing, as a shell script run inside the container's network namespace: each veth pair
 * made from inside (the host end sent to HOSTPID's namespace), addresses, the default route
 * through the first network that has a way out; then, from the host's side, each host end
 * joined to its bridge. With HOLD (a fresh namespace of the holder's, see HOLDER_SCRIPT),
 * loopback is brought up and the default route added.
 */
export function plumbingScript(attached: Attached[], hostPid: number, hold: boolean): string {
  const inside: string[] = hold ? ['link set lo up'] : [];
  const host: string[] = [];
  for (const { endpoint: e, net } of attached) {
    const mtu = mtuOf(net) ? ` mtu ${mtuOf(net)}` : '';
    inside.push(`link add ${e.IfName} address ${e.Mac}${mtu} type veth peer name ${e.Veth}${mtu} netns ${hostPid}`, `addr add ${e.IPv4}/${e.PrefixLen} dev ${e.IfName}`, `link set ${e.IfName} up`);
    host.push(`link set ${e.Veth} master ${net.Strata.bridge}`, `link set ${e.Veth} up`);
  }
  const way = attached.find((a) => !a.net.Internal);
  if (hold && way) inside.push(`route add default via ${way.endpoint.Gateway}`);
  const lines = ['set -e'];
  lines.push(`ip -batch - <<'EOF'`, ...inside, 'EOF');
  if (host.length) lines.push(`nsenter --net=/proc/${hostPid}/ns/net ip -batch - <<'EOF'`, ...host, 'EOF');
  // Connected while it runs: the new network gives the way out if none had (Docker's).
  if (!hold && way) lines.push(defaultRouteIfNone([way.endpoint.Gateway]));
  return `${lines.join('\n')}\n`;
}

/**
 * The holder of a container's network namespace, run by `unshare --net`: it sets Docker's
 * in-container sysctls (no IPv6: no address, no DAD delays; low ports for everyone), then reads
 * its plumbing (plumbingScript) from stdin up to a line `#go`, runs it, says "ready", and holds
 * the namespace until its stdin closes. Started before the plumbing is known (prewarmNetns), the
 * namespace is made while the container is being created; stdin closed first: it just exits.
 * A launcher (started with the command's stdin and stdout as its fds 3 and 4) may instead be
 * told `#exec`, a line `null` or `inherit` (the runtime's stdin), the runtime's arguments one per
 * line and `#end`: it execs the runtime there, in the namespace it holds (runc then joins the
 * namespace it is in), its stderr the holder's pipe to the command, and a fork of the command's
 * large Node process is saved (some 5-10 ms here).
 */
const HOLDER_SCRIPT = [
  'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 || :',
  'echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 || :',
  'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start || :',
  'p=',
  'while IFS= read -r l; do',
  '  [ "$l" = "#go" ] && break',
  '  p="$p$l',
  '"',
  'done',
  '[ "$l" = "#go" ] || exit 0',
  'eval "$p"',
  'echo ready',
  'while IFS= read -r l; do',
  '  [ "$l" = "#exec" ] || continue',
  '  IFS= read -r m || exit 0',
  '  set --',
  '  while IFS= read -r a && [ "$a" != "#end" ]; do set -- "$@" "$a"; done',
  '  [ "$a" = "#end" ] || exit 0',
  '  if [ "$m" = inherit ]; then exec "$@" <&3 >&4 3<&- 4>&-; fi',
  '  exec "$@" </dev/null >&4 3<&- 4>&-',
  'done',
].join('\n');

interface Holder {
  child: ChildProcess;
  stderr: () => string;
  /** Stops collecting its stderr (it is the runtime's now). */
  stopCollecting: () => void;
  /** Started with the command's stdin and stdout as fds 3-4: it can become the runtime (#exec). */
  launcher: boolean;
}

function spawnHolder(launcher: boolean): Holder {
  // Its own session, as runc's without a terminal (runc.ts): a Ctrl-C reaches the container
  // once, through the command's handler, also when the holder has become runc.
  const stdio: StdioOptions = launcher ? ['pipe', 'pipe', 'pipe', 0, 1] : ['pipe', 'pipe', 'pipe'];
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', HOLDER_SCRIPT], { stdio, detached: true });
  let stderr = '';
  const collect = (d: Buffer) => (stderr += d);
  child.stderr!.on('data', collect);
  child.stdin!.on('error', () => undefined);
  child.on('error', () => undefined); // reported by prepareNetns
  return { child, stderr: () => stderr, stopCollecting: () => child.stderr!.off('data', collect), launcher };
}

/** A holder started ahead (prewarmNetns), for the next prepareNetns of this process. */
let warm: Holder | undefined;

/**
 * Starts the holder of the next container's network namespace now, so that making the namespace
 * (a process start and the kernel's work, some 10-20 ms) overlaps the container's creation; the
 * next prepareNetns of this process plumbs it. Unused, it exits with this process (its stdin
 * closes), or after WARM_MS. `launcher`: it may become the container's runtime (see
 * HOLDER_SCRIPT), for a foreground run whose output is this command's own.
 */
export function prewarmNetns(options: { launcher?: boolean } = {}): void {
  if (warm) return;
  const holder = spawnHolder(options.launcher ?? false);
  warm = holder;
  setTimeout(() => {
    if (warm !== holder) return;
    warm = undefined;
    holder.child.stdin!.end();
  }, WARM_MS).unref();
}

const WARM_MS = 30_000;

export interface Netns {
  /** The namespace to give runc (`linux.namespaces[].path`). */
  path: string;
  /** Resolves once the plumbing is done; rejects with its error. */
  ready: Promise<void>;
  /** Lets the holder go (runc has the namespace by then, or the start failed). */
  close: () => void;
  /** Makes the holder the runtime (RunOptions.launch), when it was started as a launcher. */
  launch: RuntimeLauncher;
}

/** Makes the container's network namespace with its plumbing done, held until close(). */
export function prepareNetns(attached: Attached[]): Netns {
  const holder = warm && warm.child.exitCode === null && warm.child.signalCode === null ? warm : spawnHolder(false);
  warm = undefined;
  const { child } = holder;
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('error', (err) => reject(new StrataError(`setting up the container's network: ${err.message}`)));
    child.once('exit', (code) => reject(new StrataError(`setting up the container's network: ${holder.stderr().trim().split('\n').pop() || `exit ${code}`}`)));
  });
  ready.catch(() => undefined);
  child.stdin!.write(`${plumbingScript(attached, process.pid, true)}#go\n`);
  let launched = false;
  return {
    path: `/proc/${child.pid}/ns/net`,
    ready,
    launch: (argv, stdin) => {
      if (!holder.launcher || launched || child.exitCode !== null || child.signalCode !== null || argv.some((a) => a.includes('\n'))) return undefined;
      launched = true;
      holder.stopCollecting();
      child.stdin!.write(`#exec\n${stdin}\n${argv.join('\n')}\n#end\n`);
      return child;
    },
    close: () => {
      child.stdin!.end();
      child.stdout!.destroy();
      child.stderr!.destroy();
    },
  };
}

/** Plumbs ATTACHED into the running container whose init is PID (`network connect`). */
export function plumbInto(pid: number, attached: Attached[]): void {
  const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'sh', '-c', plumbingScript(attached, process.pid, false)], { encoding: 'utf8' });
  if (r.status !== 0) throw new StrataError(`connecting the container: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
}

/** Shell: a default route through the first of GATEWAYS that is reachable, unless there is one. */
function defaultRouteIfNone(gateways: string[]): string {
  const tries = gateways.map((gw) => `ip route add default via ${gw} 2>/dev/null`).join(' || ');
  return `[ -n "$(ip -4 route show default)" ] || ${tries} || :`;
}

/**
 * Removes the interface IFNAME from the running container PID (its veth pair goes with it).
 * When the default route went with it, the way out moves to the first of GATEWAYS (the
 * container's other networks that have one), as Docker's.
 */
export function unplugFrom(pid: number, ifname: string, gateways: string[] = []): void {
  const script = `ip link del ${ifname} || exit 1\n${gateways.length ? defaultRouteIfNone(gateways) : ':'}\n`;
  const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0 && !/Cannot find device/.test(r.stderr)) throw new StrataError(`disconnecting the container: ${r.stderr.trim()}`);
}
