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
 * `port` output lines as Docker prints them: `80/tcp -> 127.0.0.1:8800` for every mapping, or
 * only the host addresses (`127.0.0.1:8800`) when asked about one PORT[/PROTO].
 */
export function formatPortCommand(bindings: PortBinding[], filter?: string): string[] {
  const address = (b: PortBinding) => {
    const ip = b.hostIp || '0.0.0.0';
    return `${net.isIPv6(ip) ? `[${ip}]` : ip}:${b.hostPort}`;
  };
  if (!filter) return bindings.map((b) => `${b.containerPort}/${b.protocol} -> ${address(b)}`);
  const [port, proto = 'tcp'] = filter.split('/');
  const wanted = bindings.filter((b) => String(b.containerPort) === port && b.protocol === proto);
  if (wanted.length === 0) throw new StrataError(`no public port "${port}/${proto}" published for the container`);
  return wanted.map(address);
}
