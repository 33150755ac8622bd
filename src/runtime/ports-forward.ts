// The host half of the port forwarder, run by the shim: it owns the bound host listeners and
// one helper inside the container's network namespace (see ports-helper.ts for the design).
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HelperReply, HelperRequest } from './ports-helper.js';
import { closeListeners, type HostListener } from './ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** Connections waiting for a helper (container starting or restarting); more are refused. */
const MAX_PENDING = 128;

/** The command that starts a helper in the network namespace of process PID. */
export function helperCommand(pid: number): { command: string; args: string[] } {
  const helper = path.join(here, `ports-helper${ext}`);
  return { command: 'nsenter', args: [`--net=/proc/${pid}/ns/net`, '--', process.execPath, ...process.execArgv, helper] };
}

export class PortForwarder {
  private helper: ChildProcess | undefined;
  private ready = false;
  private pending: Array<{ port: number; socket: net.Socket }> = [];
  private closed = false;

  constructor(private readonly listeners: HostListener[]) {
    for (const l of listeners) {
      if (l.kind === 'tcp') {
        l.server.on('connection', (socket) => this.onTcp(l.binding.containerPort, socket));
      } else {
        l.socket.on('message', (data, rinfo) =>
          this.sendToHelper({ type: 'udp', port: l.binding.containerPort, peer: `${rinfo.address}:${rinfo.port}`, data }));
      }
    }
  }

  /** Starts the helper in the network namespace of the container's init process. */
  async attach(pid: number): Promise<void> {
    if (this.closed || this.listeners.length === 0) return;
    this.detach();
    const { command, args } = helperCommand(pid);
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced', cwd: path.join(here, '..', '..') });
    this.helper = child;
    child.on('message', (msg: HelperReply) => this.onReply(msg));
    child.on('error', () => undefined);
    child.on('exit', () => {
      if (this.helper === child) {
        this.helper = undefined;
        this.ready = false;
      }
    });
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      child.once('message', done);
      child.once('exit', done);
    });
  }

  /** Stops the helper (the container stopped); new connections wait for the next attach. */
  detach(): void {
    const child = this.helper;
    this.helper = undefined;
    this.ready = false;
    if (child && child.exitCode === null) {
      child.disconnect?.();
      child.kill('SIGKILL');
    }
  }

  /** Stops forwarding for good and releases the host ports. */
  close(): void {
    this.closed = true;
    this.detach();
    for (const p of this.pending) p.socket.destroy();
    this.pending = [];
    closeListeners(this.listeners);
  }

  private onReply(msg: HelperReply): void {
    if (msg.type === 'ready') {
      this.ready = true;
      const queued = this.pending;
      this.pending = [];
      for (const p of queued) this.handOver(p.port, p.socket);
      return;
    }
    const l = this.listeners.find((x) => x.kind === 'udp' && x.binding.containerPort === msg.port);
    if (l?.kind !== 'udp') return;
    const colon = msg.peer.lastIndexOf(':');
    l.socket.send(Buffer.from(msg.data), Number(msg.peer.slice(colon + 1)), msg.peer.slice(0, colon));
  }

  private onTcp(port: number, socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.ready) this.handOver(port, socket);
    else if (this.pending.length < MAX_PENDING && !this.closed) this.pending.push({ port, socket });
    else socket.destroy();
  }

  private handOver(port: number, socket: net.Socket): void {
    const child = this.helper;
    if (!child?.connected) {
      socket.destroy();
      return;
    }
    const req: HelperRequest = { type: 'tcp', port };
    child.send(req, socket, (err) => {
      if (err) socket.destroy();
    });
  }

  private sendToHelper(req: HelperRequest): void {
    if (this.ready && this.helper?.connected) this.helper.send(req);
  }
}
