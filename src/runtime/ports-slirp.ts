// Outbound networking for a container with its own network namespace: slirp4netns (installed
// with podman) gives it a tap0 with 10.0.2.100/24 and a default route, and relays its
// connections through ordinary sockets of the host — no bridge, no iptables, no root-wide
// state, nothing to clean up but one process. --disable-host-loopback keeps the host's own
// 127.0.0.1 services out of the container's reach; published ports do not pass through
// slirp (see ports-helper.ts). Without slirp4netns the container keeps only its loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

let available: boolean | undefined;

export function slirpAvailable(): boolean {
  available ??= spawnSync('slirp4netns', ['--version'], { stdio: 'ignore' }).status === 0;
  return available;
}

export interface OutboundNetwork {
  /** Stops the relay; resolves once the process is gone. */
  stop: () => Promise<void>;
}

/**
 * Starts slirp4netns for the network namespace of process PID and resolves once tap0 is
 * configured (or undefined when slirp4netns is missing or fails). The relay also exits by
 * itself when we die: its exit fd is a pipe only we hold.
 */
export async function startOutbound(pid: number, env: NodeJS.ProcessEnv = process.env): Promise<OutboundNetwork | undefined> {
  if (!slirpAvailable()) return undefined;
  // Once more on a failure: a loaded machine is the likely cause, and it is cheap.
  for (let attempt = 1; ; attempt++) {
    const net = await startSlirp(pid, env);
    if (net || attempt === 2) return net;
  }
}

async function startSlirp(pid: number, env: NodeJS.ProcessEnv): Promise<OutboundNetwork | undefined> {
  const child: ChildProcess = spawn(
    'slirp4netns',
    ['--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--ready-fd=3', '--exit-fd=4', String(pid), 'tap0'],
    // Its stderr goes to ours: the shim's log (shim.log), for when it fails.
    { stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe'], detached: false, env },
  );
  const ready = await new Promise<boolean>((resolve) => {
    const readyPipe = child.stdio[3] as NodeJS.ReadableStream;
    readyPipe.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  const exitPipe = child.stdio[4] as NodeJS.WritableStream & { destroy: () => void };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    exitPipe.destroy();
    child.kill('SIGTERM');
    await gone;
  };
  if (!ready) {
    process.stderr.write(`slirp4netns for process ${pid} did not start (exit ${child.exitCode ?? child.signalCode ?? 'unknown'})\n`);
    await stop();
    return undefined;
  }
  return { stop };
}
