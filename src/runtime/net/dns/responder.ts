// The DNS responder of one user-defined network (Docker's embedded DNS server, podman's
// aardvark-dns): a process listening on the network's gateway address, port 53, UDP and TCP.
// It answers the names of the containers attached right now (container name, aliases, short
// ID, and NAME.NETWORK) from the network's endpoint records, re-read whenever their directory
// changes, and forwards every other query to the asking container's --dns servers, else to the
// host's. Only containers of its own network are answered. It leaves by itself once its
// network, its state root or its last live endpoint is gone.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { DEFAULT_NETWORK, NetworkStore, type EndpointRecord, type NetworkRecord } from '../../../store/index.js';
import { endpointAlive, hostResolvConf } from '../host.js';
import { contains, parseIp, parseSubnet } from '../ipv4.js';
import { buildResponse, formatError, parseQuery, RCODE, reverseName, TYPE_A, TYPE_PTR, type Answer } from './wire.js';

const FORWARD_TIMEOUT_MS = 2000;
const IDLE_CHECKS = 3;

class NameTable {
  private stamp = '';
  private byName = new Map<string, EndpointRecord[]>();
  private byIp = new Map<string, EndpointRecord>();
  private byContainer = new Set<string>();

  constructor(private readonly store: NetworkStore, private readonly net: NetworkRecord) {}

  /** Whether the container has an endpoint here (its names are then resolvable for it). */
  has(containerId: string): boolean {
    this.refresh();
    return this.byContainer.has(containerId);
  }

  /** Re-reads the endpoints when their directory changed (every write is a rename into it). */
  private refresh(): void {
    let stamp: string;
    try {
      const st = fs.statSync(this.store.endpointsDir(this.net.Id));
      stamp = `${st.mtimeMs}:${st.ino}`;
    } catch {
      stamp = 'gone';
    }
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.byName.clear();
    this.byIp.clear();
    this.byContainer.clear();
    for (const ep of this.store.endpoints(this.net.Id)) {
      this.byIp.set(ep.IPv4, ep);
      this.byContainer.add(ep.ContainerId);
      for (const n of ep.DnsNames) {
        for (const name of [n.toLowerCase(), `${n}.${this.net.Name}`.toLowerCase()]) this.byName.set(name, [...(this.byName.get(name) ?? []), ep]);
      }
    }
  }

  lookup(name: string): EndpointRecord[] | undefined {
    this.refresh();
    const found = this.byName.get(name)?.filter(endpointAlive);
    return found && found.length > 0 ? found : undefined;
  }

  byAddress(ip: string): EndpointRecord | undefined {
    this.refresh();
    const ep = this.byIp.get(ip);
    return ep && endpointAlive(ep) ? ep : undefined;
  }
}

export class Responder {
  private readonly table: NameTable;
  /** The root's other user-defined networks: a container on several resolves the names of each. */
  private readonly others = new Map<string, NameTable>();
  private othersRead = 0;
  private readonly subnet;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;

  constructor(private readonly store: NetworkStore, private readonly net: NetworkRecord) {
    this.table = new NameTable(store, net);
    this.subnet = parseSubnet(net.IPAM.Config[0]!.Subnet);
  }

  /** NAME on the other networks the asking container is on (as Docker resolves across them). */
  private lookupElsewhere(containerId: string, name: string): EndpointRecord[] | undefined {
    if (Date.now() - this.othersRead > 1000) {
      this.othersRead = Date.now();
      for (const other of this.store.list()) {
        if (other.Id !== this.net.Id && other.Name !== DEFAULT_NETWORK && !this.others.has(other.Id)) this.others.set(other.Id, new NameTable(this.store, other));
      }
    }
    for (const table of this.others.values()) {
      if (!table.has(containerId)) continue;
      const found = table.lookup(name);
      if (found) return found;
    }
    return undefined;
  }

  get gateway(): string {
    return this.net.IPAM.Config[0]!.Gateway;
  }

  /** Listens on the gateway (or ADDRESS), PORT (0: any, see port()). */
  async listen(port = 53, address = this.gateway): Promise<void> {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    udp.on('error', () => undefined);
    udp.on('message', (msg, rinfo) => void this.answer(msg, rinfo.address, 'udp').then((reply) => reply && udp.send(reply, rinfo.port, rinfo.address)));
    this.udp = udp;
    const tcp = net.createServer((socket) => this.serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(udp.address().port, address, () => resolve());
    });
    this.tcp = tcp;
  }

  port(): number {
    return this.udp!.address().port;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
  }

  private serveTcp(socket: net.Socket): void {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + msg.length);
        void this.answer(Buffer.from(msg), socket.remoteAddress?.replace(/^::ffff:/, '') ?? '', 'tcp').then((reply) => {
          if (!reply || socket.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** The reply to MSG from address FROM (undefined: nothing to send). */
  async answer(msg: Buffer, from: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const fromIp = parseIp(from);
    if (fromIp === undefined || !contains(this.subnet, fromIp)) return undefined; // not one of ours
    const q = parseQuery(msg);
    if (!q) return formatError(msg);
    if (q.klass === 1) {
      const reverse = q.type === TYPE_PTR ? reverseName(q.name) : undefined;
      const owner = reverse ? this.table.byAddress(reverse) : undefined;
      if (owner) return buildResponse(msg, q, RCODE.noError, [{ type: TYPE_PTR, name: `${owner.DnsNames[0]}.${this.net.Name}` }]);
      const asking = this.table.byAddress(from);
      const found = this.table.lookup(q.name) ?? (asking ? this.lookupElsewhere(asking.ContainerId, q.name) : undefined);
      if (found) {
        // A name of ours: its addresses for A, an empty answer for every other type.
        const answers: Answer[] = q.type === TYPE_A ? found.map((e) => ({ type: TYPE_A, ip: e.IPv4 })) : [];
        return buildResponse(msg, q, RCODE.noError, answers);
      }
    }
    // An internal network has no way out, its DNS included.
    if (this.net.Internal) return buildResponse(msg, q, RCODE.servFail);
    const asker = this.table.byAddress(from);
    const upstreams = asker?.Upstreams.length ? asker.Upstreams : hostResolvConf().nameservers;
    for (const server of upstreams) {
      const reply = await (transport === 'udp' ? forwardUdp(msg, server) : forwardTcp(msg, server)).catch(() => undefined);
      if (reply) return reply;
    }
    return buildResponse(msg, q, RCODE.servFail);
  }

  /** Whether the network still has a live endpoint (false also when the network or root is gone). */
  stillNeeded(): boolean {
    try {
      fs.statSync(this.store.networkDir(this.net.Id));
    } catch {
      return false;
    }
    return this.store.endpoints(this.net.Id).some(endpointAlive);
  }

  /** Exits the process once the network has been unneeded for a few checks in a row. */
  watchIdle(onIdle: () => void, everyMs = 1000): void {
    let idle = 0;
    const timer = setInterval(() => {
      idle = this.stillNeeded() ? 0 : idle + 1;
      if (idle >= IDLE_CHECKS) {
        clearInterval(timer);
        onIdle();
      }
    }, everyMs);
  }
}

function forwardUdp(msg: Buffer, server: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new Error('timeout')), FORWARD_TIMEOUT_MS);
    const done = (err?: Error, reply?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    socket.on('error', (err) => done(err));
    socket.on('message', (reply) => reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0) && done(undefined, reply));
    socket.send(msg, 53, server);
  });
}

function forwardTcp(msg: Buffer, server: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server, port: 53 });
    let buffered = Buffer.alloc(0);
    socket.setTimeout(FORWARD_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      socket.write(Buffer.concat([len, msg]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        socket.destroy();
      }
    });
  });
}
