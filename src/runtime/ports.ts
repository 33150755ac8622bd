// Published ports: parsing `-p`/`-P` specs and choosing and binding host ports (the text `ps`
// and `port` print is the CLI's: src/cli/format/ports.ts). The forwarding itself is in
// ports-forward.ts (host side, in the shim), ports-relay.ts and ports-helper.ts (inside the
// container's network namespace).
import dgram from 'node:dgram';
import net from 'node:net';
import { StrataError } from '../errors.js';

export type Protocol = 'tcp' | 'udp';

/** One requested mapping; hostPort 0 means "any free port" (hostPortEnd > hostPort: pick one in the range). */
export interface PortRequest {
  hostIp: string;
  hostPort: number;
  hostPortEnd: number;
  containerPort: number;
  protocol: Protocol;
}

/** A mapping as bound: what `ps` and `port` show. hostIp "" means every address (0.0.0.0). */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

function invalid(spec: string, why: string): StrataError {
  return new StrataError(`invalid port spec "${spec}": ${why}`);
}

function parsePort(spec: string, text: string, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) throw invalid(spec, `${what} "${text}" is not a port or a port range`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 1 || end > 65535) throw invalid(spec, `${what} "${text}" is out of range 1-65535`);
  if (end < start) throw invalid(spec, `${what} range "${text}" ends before it starts`);
  return [start, end];
}

/** Splits `[IP:]HOSTPORT:CTRPORT` (IP may be `[v6]`) into its parts. */
function splitSpec(spec: string, body: string): { ip: string; host: string; ctr: string } {
  let ip = '';
  let rest = body;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close < 0) throw invalid(spec, 'unterminated IPv6 address');
    ip = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  if (ip) {
    if (parts.length !== 2) throw invalid(spec, 'expected [IP]:HOSTPORT:CONTAINERPORT');
    return { ip, host: parts[0]!, ctr: parts[1]! };
  }
  if (parts.length === 1) return { ip: '', host: '', ctr: parts[0]! };
  if (parts.length === 2) return { ip: '', host: parts[0]!, ctr: parts[1]! };
  if (parts.length === 3) return { ip: parts[0]!, host: parts[1]!, ctr: parts[2]! };
  throw invalid(spec, 'too many colons');
}

/** Parses one `-p` value into one request per container port. */
export function parsePortSpec(spec: string): PortRequest[] {
  const slash = spec.lastIndexOf('/');
  const body = slash >= 0 ? spec.slice(0, slash) : spec;
  const proto = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : 'tcp';
  if (proto !== 'tcp' && proto !== 'udp') throw invalid(spec, `unsupported protocol "${proto}"`);
  const { ip, host, ctr } = splitSpec(spec, body);
  if (ip && net.isIP(ip) === 0) throw invalid(spec, `"${ip}" is not an IP address`);
  if (!ctr) throw invalid(spec, 'no container port');
  const [cStart, cEnd] = parsePort(spec, ctr, 'container port');
  const count = cEnd - cStart + 1;
  const requests: PortRequest[] = [];
  if (!host) {
    for (let p = cStart; p <= cEnd; p++) requests.push({ hostIp: ip, hostPort: 0, hostPortEnd: 0, containerPort: p, protocol: proto });
    return requests;
  }
  const [hStart, hEnd] = parsePort(spec, host, 'host port');
  const hCount = hEnd - hStart + 1;
  if (count === 1 && hCount > 1) {
    // Docker: one container port with a host range means "any free port of the range".
    return [{ hostIp: ip, hostPort: hStart, hostPortEnd: hEnd, containerPort: cStart, protocol: proto }];
  }
  if (hCount !== count) throw invalid(spec, `host range ${hStart}-${hEnd} and container range ${cStart}-${cEnd} differ in size`);
  for (let i = 0; i < count; i++) requests.push({ hostIp: ip, hostPort: hStart + i, hostPortEnd: hStart + i, containerPort: cStart + i, protocol: proto });
  return requests;
}

/** `-P`: every port the image EXPOSEs ("80/tcp", "53/udp", "8080"), each on a free host port. */
export function exposedPortRequests(exposed: Record<string, object> | undefined): PortRequest[] {
  return Object.keys(exposed ?? {}).map((key) => {
    const [port, proto = 'tcp'] = key.split('/');
    return parsePortSpec(`${port}/${proto}`)[0]!;
  });
}

/** Drops requests for a container port that an explicit `-p` already publishes (for -P with -p). */
export function mergeRequests(explicit: PortRequest[], publishAll: PortRequest[]): PortRequest[] {
  const taken = new Set(explicit.map((r) => `${r.containerPort}/${r.protocol}`));
  return [...explicit, ...publishAll.filter((r) => !taken.has(`${r.containerPort}/${r.protocol}`))];
}

/** A bound host socket, not yet accepting for anyone. */
export type HostListener =
  | { binding: PortBinding; kind: 'tcp'; server: net.Server }
  | { binding: PortBinding; kind: 'udp'; socket: dgram.Socket };

function listenTcp(ip: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: true });
    server.once('error', reject);
    server.listen({ host: ip || '0.0.0.0', port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function bindUdp(ip: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(ip) ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind({ address: ip || '0.0.0.0', port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

async function bindOne(req: PortRequest): Promise<HostListener> {
  const candidates: number[] = [];
  if (req.hostPortEnd > req.hostPort) for (let p = req.hostPort; p <= req.hostPortEnd; p++) candidates.push(p);
  else candidates.push(req.hostPort);
  let lastError: unknown;
  for (const port of candidates) {
    try {
      if (req.protocol === 'tcp') {
        const server = await listenTcp(req.hostIp, port);
        const actual = (server.address() as net.AddressInfo).port;
        return { kind: 'tcp', server, binding: { hostIp: req.hostIp, hostPort: actual, containerPort: req.containerPort, protocol: 'tcp' } };
      }
      const socket = await bindUdp(req.hostIp, port);
      return { kind: 'udp', socket, binding: { hostIp: req.hostIp, hostPort: socket.address().port, containerPort: req.containerPort, protocol: 'udp' } };
    } catch (err) {
      lastError = err;
    }
  }
  const where = `${req.hostIp || '0.0.0.0'}:${req.hostPortEnd > req.hostPort ? `${req.hostPort}-${req.hostPortEnd}` : req.hostPort}`;
  const code = (lastError as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'address not available' : String((lastError as Error)?.message ?? lastError);
  throw new StrataError(`cannot publish port ${where}/${req.protocol}: ${why}`);
}

/** Binds every request; on any failure closes what was bound and throws one clear error. */
export async function bindHostPorts(requests: PortRequest[]): Promise<HostListener[]> {
  const bound: HostListener[] = [];
  try {
    for (const req of requests) bound.push(await bindOne(req));
    return bound;
  } catch (err) {
    closeListeners(bound);
    throw err;
  }
}

export function closeListeners(listeners: HostListener[]): void {
  for (const l of listeners) {
    if (l.kind === 'tcp') l.server.close();
    else l.socket.close();
  }
}
