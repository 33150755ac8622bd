// "Machines" for end-to-end tests: each a network namespace of its own (ip netns), joined to
// the host by a veth pair the test makes, in which a command reaches one port of the host's
// loopback (a registry on 127.0.0.1:PORT) at the same address, 127.0.0.1:PORT, its own loopback:
// a relay in the namespace forwards to the host end of the veth, where a relay in the test
// forwards to 127.0.0.1. Nothing else of the host is reachable. Names and the 10.x.y.0/30
// subnets are unique per run; remove() deletes the namespace (and with it the veth pair).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { strataCommand, type CliResult } from '../../testing/cli.js';

const run = promisify(execFile);

/** Listens on LISTEN_HOST:LISTEN_PORT and pipes each connection to TO_HOST:TO_PORT; prints "ready". */
const RELAY = `
const net = require('node:net');
const [lh, lp, th, tp] = process.argv.slice(1);
const server = net.createServer((a) => {
  const b = net.connect(Number(tp), th);
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
});
server.listen(Number(lp), lh, () => console.log('ready'));
`;

function relay(listenHost: string, listenPort: number, toHost: string, toPort: number): net.Server {
  return net.createServer((a) => {
    const b = net.connect(toPort, toHost);
    a.pipe(b).pipe(a);
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
  }).listen(listenPort, listenHost);
}

export class MachineNet {
  private hostRelay?: net.Server;
  private nsRelay?: ChildProcess;
  private removed = false;

  constructor(
    readonly ns: string,
    /** The veth end on the host and the one in the namespace. */
    readonly outside: string,
    readonly inside: string,
    private readonly hostIp: string,
    private readonly nsIp: string,
    private readonly port: number,
  ) {}

  async setup(): Promise<void> {
    await run('ip', ['netns', 'add', this.ns]);
    await run('ip', ['link', 'add', this.outside, 'type', 'veth', 'peer', 'name', this.inside, 'netns', this.ns]);
    await run('ip', ['addr', 'add', `${this.hostIp}/30`, 'dev', this.outside]);
    await run('ip', ['link', 'set', this.outside, 'up']);
    await run('ip', ['-n', this.ns, 'addr', 'add', `${this.nsIp}/30`, 'dev', this.inside]);
    await run('ip', ['-n', this.ns, 'link', 'set', this.inside, 'up']);
    await run('ip', ['-n', this.ns, 'link', 'set', 'lo', 'up']);
    const server = relay(this.hostIp, this.port, '127.0.0.1', this.port);
    this.hostRelay = server;
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const child = spawn('nsenter', [...this.enter(), process.execPath, '-e', RELAY, '127.0.0.1', String(this.port), this.hostIp, String(this.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.nsRelay = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the relay in ${this.ns} exited (${code})`)));
    });
  }

  /**
   * nsenter's arguments to run a command in the namespace. Not `ip netns exec`: that also makes
   * a mount namespace with its own /sys, without the cgroup mounts runc needs.
   */
  private enter(): string[] {
    return [`--net=/run/netns/${this.ns}`, '--'];
  }

  /** Runs a command in the namespace; its stdout. */
  async exec(argv: string[]): Promise<string> {
    return (await run('nsenter', [...this.enter(), ...argv], { encoding: 'utf8' })).stdout;
  }

  /** `strata ARGS` in the namespace, to completion. */
  strata(args: string[], o: { root: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
    const { command, args: lead } = strataCommand();
    return new Promise((resolve) => {
      const child = spawn('nsenter', [...this.enter(), command, ...lead, ...args], { env: { ...process.env, ...o.env, STRATA_ROOT: o.root }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ status: code ?? 128, stdout, stderr }));
    });
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    this.nsRelay?.kill('SIGKILL');
    await new Promise<void>((resolve) => (this.hostRelay ? this.hostRelay.close(() => resolve()) : resolve()));
    // Deleting the namespace deletes the veth end in it, and so the pair.
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
    await run('ip', ['link', 'del', this.outside]).catch(() => undefined);
  }
}

export class MachineNets {
  private readonly tag = randomBytes(2).toString('hex');
  /** 10.SUBNET.i.0/30 for machine i: a second octet from 200 to 249, per run. */
  private readonly subnet = 200 + (randomBytes(1)[0]! % 50);
  private readonly all: MachineNet[] = [];

  constructor(private readonly port: number) {}

  async add(name: string): Promise<MachineNet> {
    const i = this.all.length;
    if (i > 250) throw new Error('too many machines');
    const m = new MachineNet(`strata-mb-${this.tag}-${i}-${name}`.slice(0, 60), `smb${this.tag}h${i}`, `smb${this.tag}n${i}`, `10.${this.subnet}.${i}.1`, `10.${this.subnet}.${i}.2`, this.port);
    this.all.push(m);
    await m.setup();
    return m;
  }

  async removeAll(): Promise<void> {
    for (const m of this.all) await m.remove();
  }
}
