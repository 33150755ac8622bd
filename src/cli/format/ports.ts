// The text `ps` (PORTS column) and `port` print for a container's published ports, as Docker's.
import net from 'node:net';
import { StrataError } from '../../errors.js';
import type { PortBinding } from '../../runtime/index.js';

/** Docker's text for one mapping: `127.0.0.1:8800->80/tcp`, `0.0.0.0:32768->80/tcp`. */
export function formatBinding(b: PortBinding): string {
  const ip = b.hostIp || '0.0.0.0';
  const host = net.isIPv6(ip) ? `[${ip}]` : ip;
  return `${host}:${b.hostPort}->${b.containerPort}/${b.protocol}`;
}

/** The ps PORTS column: bound mappings, then exposed-only ports ("80/tcp") as Docker lists them. */
export function formatPortsColumn(bindings: PortBinding[], exposedOnly: string[] = []): string {
  const published = new Set(bindings.map((b) => `${b.containerPort}/${b.protocol}`));
  const extra = exposedOnly.map((p) => (p.includes('/') ? p : `${p}/tcp`)).filter((p) => !published.has(p));
  return [...bindings.map(formatBinding), ...extra].join(', ');
}

/**
 * Go's sortorder.NaturalLess, as docker/cli sorts `port`'s lines: runs of digits compare as
 * numbers (and come before other characters), the rest byte by byte.
 */
export function naturalLess(a: string, b: string): boolean {
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [d1, d2] = [digit(a[i]), digit(b[j])];
    if (d1 !== d2) return d1;
    if (!d1) {
      if (a[i] !== b[j]) return a[i]! < b[j]!;
      i++;
      j++;
      continue;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    const [n1, n2] = [i, j];
    while (digit(a[i])) i++;
    while (digit(b[j])) j++;
    if (i - n1 !== j - n2) return i - n1 < j - n2;
    if (a.slice(n1, i) !== b.slice(n2, j)) return a.slice(n1, i) < b.slice(n2, j);
    if (n1 !== n2) return n1 < n2;
  }
  return a.length < b.length;
}

/**
 * `port` output lines as Docker prints them, sorted naturally: `80/tcp -> 127.0.0.1:8800` for
 * every mapping, or only the host addresses (`127.0.0.1:8800`) when asked about one
 * PORT[/PROTO] (REF names the container in the error, as the user gave it).
 */
export function formatPortCommand(bindings: PortBinding[], filter?: string, ref = 'the container'): string[] {
  const address = (b: PortBinding) => {
    const ip = b.hostIp || '0.0.0.0';
    return `${net.isIPv6(ip) ? `[${ip}]` : ip}:${b.hostPort}`;
  };
  const sorted = (lines: string[]) => lines.sort((x, y) => (naturalLess(x, y) ? -1 : naturalLess(y, x) ? 1 : 0));
  if (!filter) return sorted(bindings.map((b) => `${b.containerPort}/${b.protocol} -> ${address(b)}`));
  const [port = '', proto = 'tcp'] = filter.split('/');
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new StrataError(`invalid port (${port})`);
  const wanted = bindings.filter((b) => String(b.containerPort) === String(Number(port)) && b.protocol === proto);
  if (wanted.length === 0) throw new StrataError(`No public port '${filter}' published for ${ref}`);
  return sorted(wanted.map(address));
}
