// Reaching a container's files from the host, for `cp` and `export`: a running container's
// root through /proc/<pid>/root; a stopped one's through an overlay we mount for the occasion
// (read-only of its layers and upper dir, or read-write with its upper dir to copy into it),
// unmounted in `finally`. The stopped container's volumes, bind mounts and /etc/hosts,
// hostname and resolv.conf are mounted on that root too (cp sees and writes them as in a
// running container; `export` leaves them out).
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFile as run } from '../run-file.js';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { Anchor, fdPath, makeTempDir, type ContainerRecord } from '../store/index.js';
import { lowerDirsOf } from './container.js';
import { currentState, mountRequestsOf, type ContainerContext } from './foreground.js';
import { dirView, resolveInRoot } from './resolve.js';
import { toMountSpecs } from './shim/mounts.js';
import { runcState } from './shim/state.js';
import type { MountSpec } from './types.js';
import { distinctLayers } from './union.js';


export type RootMode = 'read' | 'write';

/** mount(8)'s complaint without the temporary directory it names ("mount: /tmp/strata-root-x/m: ..."). */
export function mountFailure(err: unknown, temp: string): string {
  const text = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
  return text.split(temp).join('').replace(/^mount: [^:]*: /, '');
}

async function mountOverlay(dir: string, stack: string[], upper: { upper: string; work: string } | undefined): Promise<string> {
  const layers = distinctLayers(stack);
  // Short relative links keep the mount data under one page however many layers there are.
  const links = path.join(dir, 'l');
  const target = path.join(dir, 'm');
  await Promise.all([fs.mkdir(links), fs.mkdir(target)]);
  await Promise.all(layers.map((l, i) => fs.symlink(l, path.join(links, String(i)))));
  const lower = layers.map((_, i) => `l/${i}`).reverse().join(':');
  const opts = upper ? `lowerdir=${lower},upperdir=${upper.upper},workdir=${upper.work}` : `lowerdir=${lower}`;
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', upper ? opts : `ro,${opts}`, 'm'], { cwd: dir });
  } catch (err) {
    throw new StrataError(`mounting the container's filesystem: ${mountFailure(err, dir)}`);
  }
  return target;
}

/**
 * Mounts the container's volumes and bind mounts on `target` (its root), shallowest first, each
 * destination resolved inside the root. A missing destination is made in a writable root (runc
 * makes it at the next start anyway) and skipped in a read-only one; tmpfs mounts hold nothing
 * while the container is stopped.
 */
async function mountVolumes(ctx: ContainerContext, record: ContainerRecord, target: string, mode: RootMode): Promise<void> {
  const bundle = ctx.containers.paths(record.Id).bundle;
  // The files the container's /etc/hostname, /etc/hosts and /etc/resolv.conf are (Docker's network mounts, which its cp mounts too).
  const etc: MountSpec[] = [['hostname', 'hostname'], ['hosts', 'hosts'], ['resolv.conf', 'resolv.conf']]
    .map(([file, name]) => ({ type: 'bind', source: path.join(bundle, file!), destination: `/etc/${name}`, readonly: false }));
  const specs = [...etc, ...toMountSpecs(ctx.root, mountRequestsOf(record))].filter((m): m is Extract<MountSpec, { type: 'bind' }> => m.type === 'bind');
  specs.sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
  // A running container sharing a volume with this one may change the tree meanwhile: each
  // destination is reached below open directories and mounted on a descriptor of its own
  // (store Anchor), never on a path mount(8) would walk again and could follow out of the root.
  const anchor = new Anchor(target, '', (rel) => `/${rel}`);
  try {
    for (const m of specs) {
      const source = await fs.stat(m.source).catch(() => undefined);
      if (!source) continue;
      const found = await resolveInRoot(dirView(target), m.destination, { followLast: true }).catch(() => undefined);
      if (!found || found.rel === '') continue;
      failpoint('rootfs.volume-resolved');
      const isDir = source.isDirectory();
      if (!found.stat) {
        if (mode === 'read') continue;
        const at = anchor.at(found.rel);
        if (isDir) fsSync.mkdirSync(at, { mode: 0o755 });
        else fsSync.closeSync(fsSync.openSync(at, fsSync.constants.O_WRONLY | fsSync.constants.O_CREAT | fsSync.constants.O_EXCL | fsSync.constants.O_NOFOLLOW, 0o644));
      } else if (found.stat.isDirectory() !== isDir) {
        continue;
      }
      try {
        await bindOnto(anchor, found.rel, isDir, m.source, mode === 'read' || m.readonly);
      } catch (err) {
        if (err instanceof StrataError) throw err;
        throw new StrataError(`mounting the container's volume at "${m.destination}": ${mountFailure(err, target)}`);
      }
    }
  } finally {
    anchor.close();
  }
}

/**
 * Binds SOURCE onto REL (below ANCHOR), read-only when RO: mount(8) is given the target's own
 * descriptor, not canonicalized (-c); a read-only bind is remounted through a descriptor of the
 * new mount, opened after it (the first one still names what is under it).
 */
async function bindOnto(anchor: Anchor, rel: string, isDir: boolean, source: string, ro: boolean): Promise<void> {
  const onto = async (args: string[]) => {
    const fd = anchor.pin(rel, isDir);
    try {
      await run('mount', ['-c', ...args, fdPath(fd)]);
    } finally {
      fsSync.closeSync(fd);
    }
  };
  await onto(['--bind', source]);
  if (ro) await onto(['-o', 'remount,bind,ro']);
}

/**
 * Runs `fn` with a host directory that is the container's root filesystem. A running
 * container is reached through /proc/<pid>/root (its mounts included, as `cp` wants) unless
 * `layersOnly` (what `export` wants: its filesystem without /proc, /sys or volumes).
 */
export async function withContainerRoot<T>(ctx: ContainerContext, record: ContainerRecord, mode: RootMode, fn: (root: string) => Promise<T>, options: { layersOnly?: boolean } = {}): Promise<T> {
  const state = currentState(ctx, record);
  if (state.Running && !options.layersOnly) {
    const pid = runcState(ctx.runcRoot, record.Id)?.pid;
    if (pid) return fn(`/proc/${pid}/root`);
  }
  const paths = ctx.containers.paths(record.Id);
  const lowers = await lowerDirsOf(record, ctx.images);
  const init = path.join(paths.bundle, 'init');
  const withInit = (await fs.stat(init).catch(() => undefined)) ? [...lowers, init] : lowers;
  // In the state root, so that a sweep unmounts and removes what a killed `cp` or `export` left.
  const dir = await makeTempDir(ctx.root, '.root');
  let mounted: string | undefined;
  try {
    if (withInit.length === 0) {
      // overlayfs needs a lower dir: an image without layers, never started, gets an empty one.
      await fs.mkdir(path.join(dir, 'empty'));
      withInit.push(path.join(dir, 'empty'));
    }
    mounted = mode === 'write'
      ? await mountOverlay(dir, withInit, { upper: paths.upper, work: paths.work })
      : await mountOverlay(dir, [...withInit, paths.upper], undefined);
    if (!options.layersOnly) await mountVolumes(ctx, record, mounted, mode);
    failpoint('rootfs.mounted');
    return await fn(mounted);
  } finally {
    if (mounted) await run('umount', ['-R', mounted]).catch(() => run('umount', ['-R', '-l', mounted!]));
    await fs.rm(dir, { recursive: true, force: true });
  }
}
