// The host half of the port forwarder, run by the shim: it binds the published ports and runs
// one helper inside the container's network namespace, which it hands the TCP listening
// sockets to (see ports-helper.ts for the design). While the container is stopped between
// restarts its TCP ports are closed, as Docker's are; they are bound again, to the same host
// ports, when it starts.
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HelperReply, HelperRequest } from './ports-helper.js';
import { bindHostPorts, closeListeners, type HostListener, type PortBinding } from './ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The command that starts a helper in the network namespace of process PID. */
export function helperCommand(pid: number): { command: string; args: string[] } {
  const helper = path.join(here, `ports-helper${ext}`);
  return { command: 'nsenter', args: [`--net=/proc/${pid}/ns/net`, '--', process.execPath, ...process.execArgv, helper] };
}

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

export class PortForwarder {
  private helper: ChildProcess | undefined;
  /** TCP listeners bound and not yet handed over (the helper owns them once it runs). */
  private tcp: HostListener[];
  private readonly udp: HostListener[];
  private closed = false;
  /** Connections our copy of a listening socket accepted before the helper took it over. */
  private early: Array<{ port: number; socket: net.Socket }> = [];

  constructor(listeners: HostListener[]) {
    this.tcp = listeners.filter((l) => l.kind === 'tcp');
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

  /** Starts the helper in the network namespace of the container's init process and hands it the TCP ports. */
  async attach(pid: number): Promise<void> {
    if (this.closed || this.tcp.length + this.udp.length === 0) return;
    await this.detach();
    const { command, args } = helperCommand(pid);
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced', cwd: path.join(here, '..', '..') });
    this.helper = child;
    child.on('error', () => undefined);
    child.on('message', (m: HelperReply) => this.onReply(m));
    if (!(await waitFor(child, (m) => m.type === 'ready'))) return;
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
    const child = this.helper;
    this.helper = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.disconnect?.();
    child.kill('SIGKILL');
    await gone;
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
