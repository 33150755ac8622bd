// Test fixture for lifecycle tests: a private state root with busybox, and a teardown that
// removes every container (shims, runc state, mounts) even when a test failed, then checks
// that nothing of the root is left running or mounted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { openStore } from '../store/index.js';
import { ensureBusybox } from './busybox.js';
import { runStrata, tempDir, type CliResult } from './cli.js';

export interface LifecycleFixture {
  root: string;
  strata: (args: string[], options?: { input?: string | Buffer; cwd?: string }) => CliResult;
  /** The command's stdout, asserting it succeeded (its stderr as the message otherwise). */
  ok: (args: string[]) => string;
  /** The container's State.Status, as `inspect` shows it. */
  status: (name: string) => string;
  /** Processes and mounts that mention the root (should be none after teardown). */
  leftovers: () => { processes: number[]; mounts: string[] };
  teardown: () => Promise<void>;
}

export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      // The command line (shims, runc) or the environment (port relays, slirp4netns: STRATA_CONTAINER_DIR).
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) || fs.readFileSync(`/proc/${entry}/environ`, 'utf8').includes(text)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function mountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
}

export async function lifecycleFixture(): Promise<LifecycleFixture> {
  const { dir: root, cleanup } = tempDir('strata-lc-');
  await ensureBusybox(await openStore(root));
  const strata = (args: string[], options: { input?: string | Buffer; cwd?: string } = {}) => runStrata(args, { root, ...options });
  const leftovers = () => ({ processes: processesMentioning(root), mounts: mountsUnder(root) });
  const teardown = async () => {
    try {
      const ids = strata(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
      if (ids.length) strata(['rm', '-f', '-v', ...ids]);
      // Shims exit shortly after their container: give them a moment, then insist.
      for (let i = 0; i < 50 && leftovers().processes.length; i++) await new Promise((r) => setTimeout(r, 100));
      for (const pid of leftovers().processes) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const line of mountsUnder(root).reverse()) runUmount(line.split(' ')[1]!);
    } finally {
      cleanup();
    }
  };
  const ok = (args: string[]) => {
    const r = strata(args);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const status = (name: string) => ok(['inspect', '-f', '{{.State.Status}}', name]).trim();
  return { root, strata, ok, status, leftovers, teardown };
}

function runUmount(target: string): void {
  spawnSync('umount', ['-l', target], { stdio: 'ignore' });
}

/**
 * What container ID of ROOT has written so far on STREAM, read from its log file on the host: a
 * wait on a container's output that starts no CLI (a `strata logs` per poll is a Node start).
 * The test then asserts what `strata logs` shows.
 */
export function logged(root: string, id: string, stream: 'stdout' | 'stderr' = 'stdout'): string {
  try {
    const lines = fs.readFileSync(path.join(root, 'containers', id, `${id}-json.log`), 'utf8').split('\n').filter(Boolean);
    return lines.map((l) => JSON.parse(l) as { log: string; stream: string }).filter((e) => e.stream === stream).map((e) => e.log).join('');
  } catch {
    return ''; // not written yet, or a line being written
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Polls CHECK until it returns a value or the attempts run out (no timing assertion: a bound on waiting). */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, attempts = 100, delayMs = 100): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await check();
    if (v) return v;
    if (i >= attempts) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

export async function httpGet(port: number, file: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${file}`);
  return { status: res.status, body: await res.text() };
}

/** Removes every container of the fixture and waits until no process or mount of its root is left. */
export async function assertNothingLeftBehind(fx: LifecycleFixture): Promise<{ processes: number[]; mounts: string[] }> {
  const ids = fx.strata(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
  if (ids.length) fx.strata(['rm', '-f', ...ids]);
  return eventually(() => {
    const left = fx.leftovers();
    return left.processes.length === 0 && left;
  }, 50);
}
