// Published ports bound by a shim spawned early (`run -d -p`, client.ts spawnEarlyShim): the
// command hands the `-p` values over at the spawn, and the shim binds them as soon as it has
// loaded, before it waits for "go", instead of after, on the container's start path. A client
// that connects meanwhile waits (in the listening socket's backlog, then held) instead of being
// refused. At "go" the shim takes them only if they are what its configuration publishes;
// otherwise, or when the early bind failed, they are closed and the start binds as before (and
// reports a port it cannot have).
import type net from 'node:net';
import { bindHostPorts, closeListeners, parsePortSpec, type HostListener, type PortRequest } from '../ports.js';

export interface EarlyPorts {
  requests: PortRequest[];
  listeners: HostListener[];
  /** Connections accepted before the forwarder took the listeners, with their container port. */
  held: Array<{ port: number; socket: net.Socket }>;
  /** Stops holding new connections (the forwarder takes over from here). */
  release(): void;
}

/**
 * Binds the ports SPECS (the JSON of the `-p` values) names; undefined when there are none, or
 * one cannot be parsed or bound (the start then binds them itself, and says why it could not).
 */
export async function bindEarlyPorts(specs: string | undefined): Promise<EarlyPorts | undefined> {
  if (!specs) return undefined;
  let requests: PortRequest[];
  let listeners: HostListener[];
  try {
    const values = JSON.parse(specs) as unknown;
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) return undefined;
    requests = (values as string[]).flatMap((v) => parsePortSpec(v));
    listeners = await bindHostPorts(requests);
  } catch {
    return undefined;
  }
  const held: EarlyPorts['held'] = [];
  const holders = listeners.flatMap((l) => {
    if (l.kind !== 'tcp') return [];
    const hold = (socket: net.Socket): void => {
      socket.on('error', () => socket.destroy());
      held.push({ port: l.binding.containerPort, socket });
    };
    l.server.on('connection', hold);
    return [() => l.server.off('connection', hold)];
  });
  return { requests, listeners, held, release: () => holders.forEach((off) => off()) };
}

const sameRequest = (a: PortRequest, b: PortRequest): boolean =>
  a.hostIp === b.hostIp && a.hostPort === b.hostPort && a.hostPortEnd === b.hostPortEnd && a.containerPort === b.containerPort && a.protocol === b.protocol;

/**
 * The early listeners and held connections when they are exactly what REQUESTS asks for (same
 * requests, same order); else closes them and returns undefined. Either way EARLY is spent.
 */
export function claimEarlyPorts(early: EarlyPorts | undefined, requests: PortRequest[]): Pick<EarlyPorts, 'listeners' | 'held'> | undefined {
  if (!early) return undefined;
  early.release();
  if (early.requests.length === requests.length && early.requests.every((r, i) => sameRequest(r, requests[i]!))) {
    return { listeners: early.listeners, held: early.held };
  }
  for (const { socket } of early.held) socket.destroy();
  closeListeners(early.listeners);
  return undefined;
}
