// RUN in a throwaway container: the stage's layers as overlay lowerdirs, a fresh upper dir that
// becomes the step's layer, and the step's mounts (cache dirs kept across builds, context binds,
// secrets, tmpfs) which never end up in the layer.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { failpoint } from '../failpoint.js';
import type { ContainerRunner, MountSpec } from '../runtime/index.js';
import { pidAlive, withLock } from '../store/index.js';
import type { BuildContext } from './context.js';
import type { RunMount, SecretSource } from './mounts.js';
import type { StepAction } from './prepare.js';
import { executeCopy } from './exec-copy.js';
import { contextSource, layersSource, type TreeSource } from './tree-source.js';
import type { SshAgents } from './ssh-mount.js';

export interface RunJob {
  runner: ContainerRunner;
  action: Extract<StepAction, { type: 'run' }>;
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  context: BuildContext;
  /** Where type=cache mounts live (<state root>/build/cache-mounts). */
  cacheMountDir: string;
  onOutput: (chunk: string) => void;
  signal: AbortSignal;
  /** Snapshot dirs (bottom → top) of a stage's result, for bind mounts from= a stage. */
  stageLayers: (stage: number) => Promise<string[]>;
  imageLayers: (diffIds: string[]) => Promise<string[]>;
  /** In-use markers of private cache dirs this step holds (released when it ends). */
  claimed: string[];
  /** The build's --ssh agents (type=ssh mounts). */
  ssh?: SshAgents;
  /** Per-step resources (ssh relays) released when it ends. */
  closers: (() => Promise<void>)[];
}

export async function executeRun(spec: Omit<RunJob, 'claimed' | 'closers'>): Promise<number> {
  const job: RunJob = { ...spec, claimed: [], closers: [] };
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      job.onOutput(chunk.toString('utf8'));
      failpoint('build.run-output');
      done();
    },
  });
  try {
    const mounts = await runtimeMounts(job, job.action.mounts);
    await createFileMountPoints(job, mounts);
    // sharing=locked: one step at a time (across builds too) uses such a cache dir.
    const locked = job.action.mounts.filter((m): m is Extract<RunMount, { type: 'cache' }> => m.type === 'cache' && m.sharing === 'locked');
    let run = (): Promise<number> => runContainer(job, mounts, out);
    for (const m of locked) {
      const inner = run;
      run = () => withLock(`${cacheDirOf(job, m)}.lock`, inner, { timeoutMs: 3_600_000 });
    }
    const code = await run();
    failpoint('build.run-exited');
    if (code === 0) await discardVolumeChanges(job);
    return code;
  } finally {
    await Promise.all(job.claimed.splice(0).map((m) => fs.rm(m, { force: true })));
    await Promise.all(job.closers.splice(0).map((c) => c().catch(() => undefined)));
    await removeMountStubs(job, job.action.mounts);
  }
}

/**
 * What a RUN wrote under a declared VOLUME is dropped from its layer, as podman and Docker's
 * classic builder do (BuildKit keeps it): the path reverts to what the layers below hold. The
 * upper dir is walked component by component with lstat, so a link made by the step leads nowhere.
 */
async function discardVolumeChanges(job: RunJob): Promise<void> {
  const below = layersSource(job.lowerDirs);
  for (const volume of job.action.volumes) {
    const parts = volume.split('/').filter((p) => p && p !== '.' && p !== '..');
    if (parts.length === 0) continue;
    let host = job.upperDir;
    let reachable = true;
    for (const part of parts.slice(0, -1)) {
      host = path.join(host, part);
      const st = await fs.lstat(host).catch(() => undefined);
      if (!st?.isDirectory()) {
        reachable = false;
        break;
      }
    }
    if (!reachable) continue;
    host = path.join(host, parts[parts.length - 1]);
    const st = await fs.lstat(host).catch(() => undefined);
    if (!st) continue;
    if ((await below.lookup(parts.join('/'), false))?.type === 'dir' || !st.isDirectory()) {
      // Reverting is no change to the parent: it keeps its mtime.
      const parent = await fs.lstat(path.dirname(host));
      await fs.rm(host, { recursive: true, force: true });
      await fs.utimes(path.dirname(host), parent.atime, parent.mtime);
      continue;
    }
    // A volume directory the step created itself stays, empty.
    for (const name of await fs.readdir(host)) await fs.rm(path.join(host, name), { recursive: true, force: true });
  }
}

/** Marks a private cache dir as in use by this process until the step ends; false when another live process has it. */
async function claim(job: RunJob, marker: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(marker, String(process.pid), { flag: 'wx' });
      job.claimed.push(marker);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await fs.readFile(marker, 'utf8').catch(() => ''));
      if (owner && owner !== process.pid && pidAlive(owner)) return false;
      if (owner === process.pid) return false; // a parallel stage of this build holds it
      await fs.rm(marker, { force: true }); // left by a killed build
    }
  }
  return false;
}

/**
 * A cache mount's directory: one per id and, as BuildKit keys a cache by the directory it
 * starts from, per uid, gid and mode (a uid=10 cache and a uid 0 one of the same id are two).
 */
function cacheDirOf(job: RunJob, m: { id: string; uid: number; gid: number; mode: number }): string {
  const plain = m.uid === 0 && m.gid === 0 && m.mode === 0o755;
  const name = plain ? m.id : `${m.id}\0${m.uid}:${m.gid}:${m.mode.toString(8)}`;
  return path.join(job.cacheMountDir, createHash('sha256').update(name).digest('hex').slice(0, 32));
}

/**
 * Makes a cache directory (and its parent) if missing; a new one gets the mount's owner and
 * mode. With SEED (a `from=` base), a new one is filled in SCRATCH first and renamed into place
 * whole, so a concurrent step never sees it half-copied; when another made it meanwhile, that
 * one is used and the copy goes with the step's scratch space.
 */
async function makeCacheDir(dir: string, m: { uid: number; gid: number; mode: number }, seed?: { scratch: string; fill: (into: string) => Promise<void> }): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  if (seed) {
    if (await fs.lstat(dir).then(() => true, () => false)) return;
    await fs.mkdir(seed.scratch);
    await seed.fill(seed.scratch);
    await fs.lchown(seed.scratch, m.uid, m.gid);
    await fs.chmod(seed.scratch, m.mode);
    await fs.rename(seed.scratch, dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST' && err.code !== 'ENOTEMPTY') throw err;
    });
    return;
  }
  try {
    await fs.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  await fs.lchown(dir, m.uid, m.gid);
  await fs.chmod(dir, m.mode);
}

/** The `from=` base of a cache mount: its `source` directory of the stage or image, copied INTO. */
function cacheSeed(job: RunJob, m: Extract<RunMount, { type: 'cache' }>, n: number, suffix: string): { scratch: string; fill: (into: string) => Promise<void> } | undefined {
  if (m.fromStage === undefined && !m.fromImage) return undefined;
  return {
    scratch: path.join(path.dirname(job.upperDir), `cache-seed-${n}${suffix}`),
    fill: async (into) => {
      const layers = m.fromStage !== undefined ? await job.stageLayers(m.fromStage) : await job.imageLayers(m.fromImage!.diffIds);
      const view = layersSource(layers);
      const node = await view.lookup(m.source || '.', true);
      if (!node) throw new Error(`mount source "${m.source}" not found in stage or image`);
      if (node.type !== 'dir') throw new Error(`mount source "${m.source}" of a cache mount is not a directory`);
      await executeCopy({ upperDir: into, lowerDirs: [], source: view, items: [{ node }], heredocs: [], urls: [], dest: '/', unpack: false });
    },
  };
}

async function runContainer(job: RunJob, mounts: MountSpec[], out: Writable): Promise<number> {
  const result = await job.runner.run({
    rootfs: { lowerDirs: job.lowerDirs, upperDir: job.upperDir, workDir: job.workDir },
    args: job.action.argv,
    env: await withSecretEnv(withSshEnv(job.action.env, mounts, job.action.mounts), job.action.mounts),
    cwd: job.action.cwd,
    user: job.action.user,
    network: job.action.network,
    mounts,
    stdin: 'null',
    stdout: out,
    stderr: out,
    hostname: 'buildkitsandbox',
  }, { signal: job.signal });
  return result.exitCode;
}

async function runtimeMounts(job: RunJob, mounts: RunMount[]): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  for (const m of mounts) {
    switch (m.type) {
      case 'cache': {
        let dir = cacheDirOf(job, m);
        await makeCacheDir(dir, m, cacheSeed(job, m, out.length, ''));
        // sharing=private: a second concurrent user gets a fresh dir of its own, dropped afterwards.
        if (m.sharing === 'private' && !(await claim(job, `${dir}.inuse`))) {
          dir = path.join(path.dirname(job.upperDir), `cache-${out.length}`);
          await makeCacheDir(dir, m, cacheSeed(job, m, out.length, '-private'));
        }
        out.push({ type: 'bind', source: dir, destination: m.target, readonly: m.readonly });
        break;
      }
      case 'bind': {
        if (m.fromStage !== undefined || m.fromImage) {
          const layers = m.fromStage !== undefined ? await job.stageLayers(m.fromStage) : await job.imageLayers(m.fromImage!.diffIds);
          out.push({ type: 'bind', source: await materialize(job, layersSource(layers), m.source, out.length, 'stage or image'), destination: m.target, readonly: m.readonly });
          break;
        }
        const entry = job.context.resolve(m.source || '.');
        if (!entry) throw new Error(`mount source "${m.source}" not found in build context`);
        // rw: BuildKit discards what the step writes there; the context on the host is never
        // written. Where .dockerignore leaves something out, the host tree is not the context.
        const direct = m.readonly && (entry.type !== 'dir' || !job.context.hasIgnoredUnder(entry.path));
        const source = direct ? path.join(job.context.root, entry.path) : await materialize(job, contextSource(job.context), m.source, out.length, 'build context');
        out.push({ type: 'bind', source, destination: m.target, readonly: m.readonly });
        break;
      }
      case 'secret': {
        if (m.source === undefined || m.target === undefined) break;
        // A copy with the mount's owner and mode (0400 by default, as BuildKit's tmpfs file), in
        // the step's scratch dir (removed with it); never the host file itself.
        const file = path.join(path.dirname(job.upperDir), `secret-${out.length}`);
        await fs.writeFile(file, await secretValue(m.source), { mode: 0o600, flag: 'wx' });
        await fs.chown(file, m.uid, m.gid);
        await fs.chmod(file, m.mode);
        out.push({ type: 'bind', source: file, destination: m.target, readonly: true });
        break;
      }
      case 'ssh': {
        if (!job.ssh?.has(m.id)) {
          if (m.required) throw new Error(`no SSH key "${m.id}" forwarded from the client (strata build --ssh ${m.id}[=SOCKET|KEY])`);
          break;
        }
        const relay = await job.ssh.relay(m.id, m);
        job.closers.push(relay.close);
        out.push({ type: 'bind', source: relay.path, destination: m.target, readonly: false });
        break;
      }
      case 'tmpfs':
        // BuildKit's tmpfs mount: nosuid only (a build runs what it compiles in /tmp), its size if given.
        out.push({ type: 'tmpfs', destination: m.target, options: ['nosuid', ...(m.readonly ? ['ro'] : []), ...(m.size ? [`size=${m.size}`] : [])] });
        break;
      case 'inline': {
        const dir = path.join(path.dirname(job.upperDir), `inline-${out.length}`);
        await fs.mkdir(dir);
        await fs.writeFile(path.join(dir, m.name), m.content, { mode: 0o755 });
        await fs.chmod(path.join(dir, m.name), 0o755);
        out.push({ type: 'bind', source: dir, destination: m.target, readonly: true });
        break;
      }
    }
  }
  return out;
}

/**
 * A bind from a stage or image (its layers are not one directory), or a rw bind from the
 * context (whose writes are discarded): the selected path is copied into the step's scratch
 * space and bound from there.
 */
async function materialize(job: RunJob, view: TreeSource, source: string, n: number, where: string): Promise<string> {
  const node = await view.lookup(source || '.', true);
  if (!node) throw new Error(`mount source "${source}" not found in ${where}`);
  const dir = path.join(path.dirname(job.upperDir), `bind-${n}`);
  await fs.mkdir(dir, { recursive: true });
  const name = node.type === 'dir' ? '' : path.posix.basename(node.rel);
  await executeCopy({ upperDir: dir, lowerDirs: [], source: view, items: [{ node }], heredocs: [], urls: [], dest: name ? `/${name}` : '/', unpack: false });
  return name ? path.join(dir, name) : dir;
}

async function secretValue(source: SecretSource): Promise<Buffer> {
  if (typeof source !== 'string') return Buffer.from(source.value);
  try {
    return await fs.readFile(source);
  } catch (err) {
    throw new Error(`reading secret file "${source}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}

/** `RUN --mount=type=secret,env=NAME`: the secret's value as NAME (over the stage's own NAME). */
async function withSecretEnv(env: string[], mounts: RunMount[]): Promise<string[]> {
  const out = [...env];
  for (const m of mounts) {
    if (m.type !== 'secret' || !m.env || m.source === undefined) continue;
    const value = (await secretValue(m.source)).toString('utf8');
    const at = out.findIndex((e) => e.startsWith(`${m.env}=`));
    if (at >= 0) out.splice(at, 1);
    out.push(`${m.env}=${value}`);
  }
  return out;
}

/** SSH_AUTH_SOCK points at the first ssh mount made (unless the stage sets it). */
function withSshEnv(env: string[], made: MountSpec[], mounts: RunMount[]): string[] {
  const first = mounts.find((m) => m.type === 'ssh' && made.some((x) => x.destination === m.target));
  if (!first || env.some((e) => e.startsWith('SSH_AUTH_SOCK='))) return env;
  return [...env, `SSH_AUTH_SOCK=${first.target}`];
}

/** A file (or socket) bound onto a path the image lacks needs a file to mount on (runc would make a directory). */
async function createFileMountPoints(job: RunJob, mounts: MountSpec[]): Promise<void> {
  const lower = layersSource(job.lowerDirs);
  for (const m of mounts) {
    if (m.type !== 'bind' || (await fs.stat(m.source)).isDirectory()) continue;
    const rel = m.destination.split('/').filter(Boolean).join('/');
    if (await lower.lookup(rel, true)) continue;
    await fs.mkdir(path.join(job.upperDir, path.posix.dirname(rel)), { recursive: true });
    await fs.writeFile(path.join(job.upperDir, rel), '', { flag: 'a' });
  }
}

/**
 * The runtime creates missing mount points in the upper dir; those must not become part of
 * the layer. Empty stubs that the image did not have are removed, innermost first, each
 * parent's times kept as they were (BuildKit's MountStubsCleaner).
 */
async function removeMountStubs(job: RunJob, mounts: RunMount[]): Promise<void> {
  const lower = layersSource(job.lowerDirs);
  for (const m of mounts) {
    let rel = (m.target ?? '').split('/').filter(Boolean).join('/');
    while (rel) {
      if (await lower.lookup(rel, false)) break;
      const host = path.join(job.upperDir, rel);
      const st = await fs.lstat(host).catch(() => undefined);
      if (!st) break;
      if (st.isDirectory() ? (await fs.readdir(host)).length > 0 : !(st.isFile() && st.size === 0)) break;
      // The parent keeps its times: removing a stub is no change to it (BuildKit, reproducible builds).
      const parent = await fs.lstat(path.dirname(host));
      await (st.isDirectory() ? fs.rmdir(host) : fs.unlink(host));
      await fs.utimes(path.dirname(host), parent.atime, parent.mtime);
      rel = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    }
  }
}
