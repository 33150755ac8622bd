// The host half of the port forwarder, run by the shim: it binds the published ports and runs
// the relay (ports-relay.ts) or the helper (ports-helper.ts) inside the container's network
// namespace, handing them the TCP listening sockets. While the container is stopped between
// restarts its TCP ports are closed, as Docker's are; they are bound again, to the same host
// ports, when it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HelperReply, HelperRequest } from './ports-helper.js';
import { bindHostPorts, closeListeners, type HostListener, type PortBinding } from './ports.js';
import { checkSpliceRelay, startSpliceRelay, type RelaySocket } from './ports-relay.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The command that starts a helper in the network namespace NETNS (/proc/PID/ns/net). */
export function helperCommand(netns: string): { command: string; args: string[] } {
  const helper = path.join(here, `ports-helper${ext}`);
  return { command: 'nsenter', args: [`--net=${netns}`, '--', process.execPath, ...process.execArgv, helper] };
}

/** The network namespace the forwarder works in: a process's (/proc/PID/ns/net), or a namespace's path. */
export type ForwardTarget = number | string;

function waitFor(child: ChildProcess, accept: (m: HelperReply) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const onMessage = (m: HelperReply) => {
      if (!accept(m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(true);
    };
    const onExit = () => {
      child.off('message', onMessage);
      resolve(false);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Our environment plus STRATA_CONTAINER_DIR=LABEL: how leak checks find a container's helpers. */
export function labelEnv(label: string | undefined): NodeJS.ProcessEnv {
  return label ? { ...process.env, STRATA_CONTAINER_DIR: label } : process.env;
}

/** The OS descriptor of a listening server (Node keeps it on its private handle). */
function fdOf(server: net.Server): number | undefined {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return fd !== undefined && fd >= 0 ? fd : undefined;
}

export class PortForwarder {
  private helper: ChildProcess | undefined;
  private relay: ChildProcess | undefined;
  /** TCP listeners bound and not yet handed over (the helper owns them once it runs). */
  private tcp: HostListener[];
  private readonly udp: HostListener[];
  private closed = false;
  /** Connections our copy of a listening socket accepted before the helper took it over. */
  private early: Array<{ port: number; socket: net.Socket }> = [];

  /** LABEL (the container's dir) is put in the environment of every process started, as STRATA_CONTAINER_DIR, so they can be found. */
  constructor(
    listeners: HostListener[],
    private readonly options: {
      label?: string;
      /** false: always the Node helper (tests); true: the splice relay is known to work; unset: asked. */
      splice?: boolean;
      /** Connections accepted on LISTENERS before (early-ports.ts), handed over as the ones it accepts early. */
      held?: Array<{ port: number; socket: net.Socket }>;
    } = {},
  ) {
    this.tcp = listeners.filter((l) => l.kind === 'tcp');
    this.early.push(...(options.held ?? []));
    this.watchEarly();
    this.udp = listeners.filter((l) => l.kind === 'udp');
    for (const l of this.udp) {
      if (l.kind !== 'udp') continue;
      l.socket.on('message', (data, rinfo) => this.toHelper({ type: 'udp', port: l.binding.containerPort, peer: `${rinfo.address}:${rinfo.port}`, data }));
    }
  }

  private watchEarly(): void {
    for (const l of this.tcp) {
      if (l.kind !== 'tcp') continue;
      l.server.on('connection', (socket: net.Socket) => {
        socket.on('error', () => socket.destroy());
        this.early.push({ port: l.binding.containerPort, socket });
      });
    }
  }

  readonly bindings = (): PortBinding[] => [...this.tcp, ...this.udp].map((l) => l.binding);

  /**
   * Starts forwarding into the container's network namespace (TARGET: its init's pid, or the
   * namespace's path before the container runs): TCP through the splice relay when python3 can
   * (ports-relay.ts), else through the Node helper, which also relays UDP. Resolves once what
   * was started has entered the namespace (the namespace's path may go after that).
   */
  async attach(target: ForwardTarget): Promise<void> {
    if (this.closed || this.tcp.length + this.udp.length === 0) return;
    await this.detach();
    const netns = typeof target === 'number' ? `/proc/${target}/ns/net` : target;
    const canSplice = this.tcp.length > 0 && (this.options.splice ?? (await checkSpliceRelay()));
    const fast = canSplice && this.tcp.every((l) => l.kind === 'tcp' && fdOf(l.server) !== undefined);
    const relay = fast ? this.attachRelay(netns) : undefined;
    if (this.udp.length > 0 || (this.tcp.length > 0 && !fast)) await this.attachHelper(netns, !fast);
    await relay;
  }

  private async attachRelay(netns: string): Promise<void> {
    const early = this.early.splice(0);
    const sockets: RelaySocket[] = [
      ...this.tcp.map((l) => ({ kind: 'listener' as const, fd: fdOf((l as Extract<HostListener, { kind: 'tcp' }>).server)!, port: l.binding.containerPort })),
      ...early.flatMap(({ port, socket }) => {
        const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
        return fd !== undefined && fd >= 0 ? [{ kind: 'connection' as const, fd, port }] : [];
      }),
    ];
    const { child, ready } = startSpliceRelay(netns, sockets, labelEnv(this.options.label));
    // Same tick as the spawn: our copies close before our event loop could accept on them.
    for (const l of this.tcp) if (l.kind === 'tcp') l.server.close();
    for (const { socket } of early) socket.destroy();
    this.relay = child;
    // Until the relay accepts, connections wait in the listening socket's backlog.
    if (!(await ready)) process.stderr.write(`port relay for ${netns} did not start: published TCP ports are closed\n`);
  }

  private async attachHelper(netns: string, withTcp: boolean): Promise<void> {
    const { command, args } = helperCommand(netns);
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced', cwd: path.join(here, '..', '..'), env: labelEnv(this.options.label) });
    this.helper = child;
    child.on('error', () => undefined);
    child.on('message', (m: HelperReply) => this.onReply(m));
    if (!(await waitFor(child, (m) => m.type === 'ready')) || !withTcp) return;
    for (const l of this.tcp) {
      if (l.kind !== 'tcp') continue;
      const handed = waitFor(child, (m) => m.type === 'listening' && m.port === l.binding.containerPort);
      const req: HelperRequest = { type: 'listen', port: l.binding.containerPort };
      child.send(req, l.server);
      await handed;
      // The helper has its own descriptor now; ours would accept connections too.
      l.server.close();
    }
    for (const { port, socket } of this.early.splice(0)) {
      const req: HelperRequest = { type: 'tcp', port };
      child.send(req, socket, (err) => err && socket.destroy());
    }
  }

  /**
   * Stops the helper (the container stopped); the TCP ports close with it and are bound again
   * by the next attach. Resolves once it is gone, so the ports are closed by then.
   */
  async detach(): Promise<void> {
    const children = [this.helper, this.relay];
    this.helper = undefined;
    this.relay = undefined;
    await Promise.all(children.map(async (child) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.disconnect();
      child.kill('SIGKILL');
      await gone;
    }));
  }

  /** Binds the TCP ports again (same host ports) for the next start. Throws when one is taken meanwhile. */
  async rebind(): Promise<void> {
    const requests = this.tcp.map((l) => ({ ...l.binding, hostPortEnd: l.binding.hostPort }));
    this.tcp = await bindHostPorts(requests);
    this.watchEarly();
  }

  /** Stops forwarding for good and releases the host ports. */
  async close(): Promise<void> {
    this.closed = true;
    await this.detach();
    for (const { socket } of this.early.splice(0)) socket.destroy();
    closeListeners([...this.tcp, ...this.udp]);
  }

  private onReply(msg: HelperReply): void {
    if (msg.type !== 'udp-reply') return;
    const l = this.udp.find((x) => x.binding.containerPort === msg.port);
    if (l?.kind !== 'udp') return;
    const colon = msg.peer.lastIndexOf(':');
    l.socket.send(Buffer.from(msg.data), Number(msg.peer.slice(colon + 1)), msg.peer.slice(0, colon));
  }

  private toHelper(req: HelperRequest): void {
    if (this.helper?.connected) this.helper.send(req);
  }
}
