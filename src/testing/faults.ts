// Test helpers for crash safety: run the CLI until a failpoint kills it (src/failpoint.ts), then
// look at what it left: the store's integrity, leftovers, processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OFFLINE, strataCommand, type CliResult } from './cli.js';

/** Pids of processes whose command line is exactly `argv`. */
export function processesRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8') === want) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether process PID is stopped (SIGSTOP: a failpoint's `:stop`); false once it is gone. */
export function isStopped(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') ?? false;
  } catch {
    return false;
  }
}

/** Waits (at most MS) for PID to stop at a failpoint; asserts that it did (MESSAGE says where). */
export async function waitStopped(pid: number, message: string, ms = 10_000): Promise<void> {
  assert.ok(await eventually(() => isStopped(pid), ms), message);
}

/**
 * Whether the running container ID of ROOT has written FILE (an absolute path in it), seen in
 * its upper dir from the host: a wait on a container's own work that starts no CLI (an `exec`
 * per poll is a Node start and a runc exec).
 */
export function containerWrote(root: string, id: string, file: string): boolean {
  return fs.existsSync(path.join(root, 'containers', id, 'upper', file));
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

export interface KillOptions {
  root: string;
  /** NAME or NAME:N (see src/failpoint.ts). */
  point: string;
  /** Kill the CLI's whole process group (it leads a group of its own), not only the CLI. */
  group?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: Buffer;
}

/**
 * `strata ARGS` held at failpoint POINT (`NAME[:N]`, made to stop there): once it has stopped,
 * WHILEHELD runs (the moment a test acts in), then it goes on; its exit code and output.
 */
export async function runHeldAt(args: string[], point: string, o: { root: string; input?: Buffer }, whileHeld: () => void | Promise<void>): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const { command, args: lead } = strataCommand();
  const child = spawn(command, [...lead, ...args], { env: { ...OFFLINE, ...process.env, STRATA_ROOT: o.root, STRATA_FAILPOINT: `${point}:stop` }, stdio: 'pipe' });
  child.stdin.end(o.input);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    await waitStopped(child.pid!, `strata ${args[0]} held at ${point}`);
    await whileHeld();
  } finally {
    child.kill('SIGCONT');
  }
  return { code: await closed, stdout: Buffer.concat(stdout), stderr };
}

/** Runs `strata ARGS...` to completion without blocking (several can run at once). */
export function runStrataAsync(args: string[], o: { root: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  const { command, args: lead } = strataCommand();
  const child = spawn(command, [...lead, ...args], { env: { ...OFFLINE, ...process.env, ...o.env, STRATA_ROOT: o.root }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr })));
}

/**
 * Runs `strata ARGS...` in a process group of its own with the failpoint armed, and asserts that
 * it died there (SIGKILL): a point never reached fails the test. Returns what it printed.
 */
export async function runUntilKilled(args: string[], o: KillOptions): Promise<{ stdout: string; stderr: string }> {
  const { command, args: lead } = strataCommand();
  const env = { ...OFFLINE, ...process.env, ...o.env, STRATA_ROOT: o.root, STRATA_FAILPOINT: `${o.point}${o.group ? ':group' : ''}` };
  const child = spawn(command, [...lead, ...args], { env, cwd: o.cwd, detached: true, stdio: [o.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (o.input) child.stdin!.end(o.input);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  assert.equal(signal, 'SIGKILL', `strata ${args[0]} was not killed at "${o.point}" (exit ${code}): ${stderr}`);
  return { stdout, stderr };
}

/** Blobs and snapshots already verified (content-addressed and immutable once in place): by path and inode. */
const verified = new Set<string>();

function once(p: string, check: () => void | Promise<void>): void | Promise<void> {
  const key = `${p}:${fs.statSync(p).ino}`;
  if (verified.has(key)) return;
  const done = () => void verified.add(key);
  const r = check();
  if (r instanceof Promise) return r.then(done);
  done();
}

function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return `sha256:${h.digest('hex')}`;
}

/**
 * Asserts that nothing in the store is half-written: index.json and the cache index parse, every
 * blob holds exactly the content its name says, every image's manifest and config are there,
 * and every layer an image or a cache entry refers to, and every complete layer (snapshot and
 * tar-split), rebuilds to its digest. Temp entries are not looked at (assertNoLeftovers is for
 * them); a lone tar-split or snapshot, which nothing refers to, is allowed (a kill between the
 * two renames that put a layer in place leaves one; the next write of that layer replaces it).
 */
export async function assertStoreIntact(root: string): Promise<void> {
  const { openStore } = await import('../store/index.js');
  const store = await openStore(root);
  const index = JSON.parse(fs.readFileSync(path.join(root, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blobDir = path.join(root, 'blobs', 'sha256');
  for (const name of fs.readdirSync(blobDir)) {
    assert.match(name, /^[0-9a-f]{64}$/, `stray file in blobs/: ${name}`);
    once(path.join(blobDir, name), () => assert.equal(sha256File(path.join(blobDir, name)), `sha256:${name}`, `blob ${name.slice(0, 12)} does not match its digest`));
  }
  const blob = (digest: string) => path.join(blobDir, digest.slice('sha256:'.length));
  const referenced = new Set<string>();
  for (const m of index.manifests) {
    const manifest = JSON.parse(fs.readFileSync(blob(m.digest), 'utf8')) as { config: { digest: string } };
    const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
    for (const d of config.rootfs.diff_ids) referenced.add(d);
  }
  const cache = path.join(root, 'build', 'cache');
  if (fs.existsSync(path.join(cache, 'index.json'))) {
    const entries = (JSON.parse(fs.readFileSync(path.join(cache, 'index.json'), 'utf8')) as { entries: Record<string, { layer?: string }> }).entries;
    for (const [key, e] of Object.entries(entries)) {
      JSON.parse(fs.readFileSync(path.join(cache, 'inputs', `${key}.json`), 'utf8'));
      if (e.layer) referenced.add(e.layer);
    }
  }
  const complete = (d: string) => fs.existsSync(store.layers.snapshotPath(d)) && fs.existsSync(store.layers.splitPath(d));
  for (const d of new Set([...referenced, ...(await store.layers.list()).filter(complete)])) {
    assert.ok(await store.hasLayer(d), `layer ${d} is referenced but not in the store`);
    if (!complete(d)) continue; // kept otherwise (a legacy blob, a compressed one): verified as a blob above
    await once(store.layers.snapshotPath(d), async () => {
      assert.equal(await store.layers.verify(d), undefined, `layer ${d.slice(7, 19)} does not rebuild to its digest`);
    });
  }
}

/** Asserts that no killed command's leftovers remain in the state root (after a command swept them). */
export async function assertNoLeftovers(root: string): Promise<void> {
  const { tempDirsOf, buildScratchDir, mountsUnder } = await import('../store/leftovers.js');
  for (const dir of tempDirsOf(root)) {
    const temps = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((n) => n.startsWith('.tmp-'));
    assert.deepEqual(temps, [], `temp entries left in ${path.relative(root, dir) || '.'}`);
  }
  const scratch = buildScratchDir(root);
  assert.deepEqual(fs.existsSync(scratch) ? fs.readdirSync(scratch) : [], [], 'build scratch dirs left');
  const runcDir = path.join(root, 'runc');
  assert.deepEqual((fs.existsSync(runcDir) ? fs.readdirSync(runcDir) : []).filter((n) => n.startsWith('strata-build-')), [], 'build containers left');
  assert.deepEqual(mountsUnder(fs.realpathSync(root)), [], 'mounts left under the state root');
}

/** Makes the build context `parent/name` with `dockerfile` and `files` in it; returns its path. */
export function writeContext(parent: string, name: string, dockerfile: string, files: Record<string, string | Buffer> = {}): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  for (const [file, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), data);
  return dir;
}
