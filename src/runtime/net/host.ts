// What networking needs to know about the host, read from files (no process started): its
// IPv4 routes, its DNS servers, whether a link exists; and IP forwarding switched on as
// Docker does (only ever on, never off).
import fs from 'node:fs';
import { pidAlive } from '../../store/index.js';
import { processStartTime } from '../../store/index.js';
import type { EndpointRecord } from '../../store/index.js';
import { parseIp, type Subnet } from './ipv4.js';

export interface HostRoute {
  subnet: Subnet;
  dev: string;
}

/** The host's IPv4 routes of the main table, from /proc/net/route (default routes left out). */
export function hostRoutes(text = readOr('/proc/net/route')): HostRoute[] {
  const routes: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [dev, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (!dev || !dest || !mask) continue;
    // Little-endian hex words.
    const base = Buffer.from(dest, 'hex').readUInt32LE(0);
    const maskValue = Buffer.from(mask, 'hex').readUInt32LE(0);
    const prefix = 32 - zeroBits(maskValue);
    if (prefix === 0) continue;
    routes.push({ subnet: { base: base >>> 0, prefix }, dev });
  }
  return routes;
}

function zeroBits(mask: number): number {
  let zeros = 0;
  for (let i = 0; i < 32; i++) if (((mask >>> i) & 1) === 0) zeros++;
  return zeros;
}

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const words = raw.replace(/[#;].*/, '').trim().split(/\s+/);
    const [key, ...rest] = words;
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest.filter(Boolean);
    else if (key === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

/** systemd-resolved's list of the real upstream servers (its stub 127.0.0.53 is unreachable from a container). */
const RESOLVED_UPSTREAMS = '/run/systemd/resolve/resolv.conf';

/**
 * The host's resolv.conf text that containers' DNS settings derive from: /etc/resolv.conf, or,
 * when that names only systemd-resolved's stub, resolved's upstream list (Docker's choice).
 */
export function hostResolvConfText(read: (file: string) => string = (f) => readOr(f)): string {
  const etc = read('/etc/resolv.conf');
  const servers = parseResolvConf(etc).nameservers;
  if (servers.length === 0 || servers.some((ns) => ns !== '127.0.0.53')) return etc;
  const upstreams = read(RESOLVED_UPSTREAMS);
  return parseResolvConf(upstreams).nameservers.length ? upstreams : etc;
}

/** The host's resolv.conf (see hostResolvConfText), parsed. */
export function hostResolvConf(): ResolvConf {
  return parseResolvConf(hostResolvConfText());
}

/** The host's IPv4 nameservers as numbers (subnets must not swallow them). */
export function hostNameserverIps(): number[] {
  return hostResolvConf().nameservers.map(parseIp).filter((n): n is number => n !== undefined);
}

/** Whether a network device of that name exists in our network namespace. */
export function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`);
}

/** net.ipv4.ip_forward = 1, as Docker sets it for its bridges; never turned off again. */
export function enableForwarding(): void {
  const file = '/proc/sys/net/ipv4/ip_forward';
  if (readOr(file).trim() !== '1') fs.writeFileSync(file, '1\n');
}

/** An endpoint is live while its container's network namespace is (its veth exists) or its owner runs. */
export function endpointAlive(ep: EndpointRecord): boolean {
  if (linkExists(ep.Veth)) return true;
  return ep.Owner.pid > 0 && pidAlive(ep.Owner.pid) && processStartTime(ep.Owner.pid) === ep.Owner.start;
}
