// IPv4 addresses and subnets as plain numbers: parsing "172.17.0.0/16", overlap tests, the
// n-th host of a subnet, and Docker's MAC address for an IP (02:42 + the address's bytes).
import { StrataError } from '../../errors.js';

export interface Subnet {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIp(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.0.0/16" → a Subnet; host bits set ("10.1.2.3/16") are an error, as Docker's. */
export function parseSubnet(text: string): Subnet {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? parseIp(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new StrataError(`invalid subnet "${text}": expected an IPv4 CIDR such as 172.20.0.0/16`);
  if ((ip & maskOf(prefix)) >>> 0 !== ip) throw new StrataError(`invalid subnet "${text}": it has host bits set (did you mean ${formatSubnet({ base: (ip & maskOf(prefix)) >>> 0, prefix })}?)`);
  if (prefix > 30) throw new StrataError(`invalid subnet "${text}": too small for a network (at most /30)`);
  return { base: ip, prefix };
}

/** An --ip-range: a CIDR as parseSubnet's, down to a single address (/32). */
export function parseRange(text: string): Subnet {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? parseIp(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new StrataError(`invalid --ip-range "${text}": expected an IPv4 CIDR such as 172.20.10.0/24`);
  if ((ip & maskOf(prefix)) >>> 0 !== ip) throw new StrataError(`invalid --ip-range "${text}": it has host bits set (did you mean ${formatSubnet({ base: (ip & maskOf(prefix)) >>> 0, prefix })}?)`);
  return { base: ip, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIp(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & maskOf(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  const mask = maskOf(prefix);
  return ((a.base & mask) >>> 0) === ((b.base & mask) >>> 0);
}

/** Number of usable host addresses (without the network and broadcast addresses). */
export function hostCount(s: Subnet): number {
  return 2 ** (32 - s.prefix) - 2;
}

/** The n-th host address (1-based: n = 1 is the first usable address). */
export function hostAt(s: Subnet, n: number): number {
  return (s.base + n) >>> 0;
}

/** Docker's MAC for an address: 02:42 then the four bytes of the IP. */
export function macFor(ip: number): string {
  const bytes = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The pools subnets are taken from when none is given, in order: Docker's defaults (172.17.0.0/16
 * to 172.31.0.0/16, then 192.168.0.0/16 in /20s), then 10.200.0.0/16 to 10.255.0.0/16 in /24s
 * for machines where many state roots have networks at once.
 */
export function* candidateSubnets(): Generator<Subnet> {
  for (let b = 17; b <= 31; b++) yield { base: ((172 << 24) | (b << 16)) >>> 0, prefix: 16 };
  for (let c = 0; c < 256; c += 16) yield { base: ((192 << 24) | (168 << 16) | (c << 8)) >>> 0, prefix: 20 };
  for (let b = 200; b <= 255; b++) for (let c = 0; c < 256; c++) yield { base: ((10 << 24) | (b << 16) | (c << 8)) >>> 0, prefix: 24 };
}
