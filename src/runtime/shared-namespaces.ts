// `--pid container:NAME` and `--ipc container:NAME`: another container's PID or IPC namespace,
// joined by path at each start (that container must be running then, as Docker requires), and
// with the IPC namespace its /dev/shm, as Docker's (moby getIPCContainer): only a donor that
// shares it (`--ipc shareable`, or `host`: the host's /dev/shm) can be joined.
//
// A container's own /dev/shm is a tmpfs runc mounts in the container's mount namespace, which
// no bind mount can reach from another (the kernel refuses a bind from another namespace's
// mount, /proc/PID/root paths included). So a shareable container's /dev/shm is instead its
// `shm` directory in the container's dir, made anew at each start and bound by it and by the
// containers that join it: nothing is mounted on the host, and the files go with the container.
// Unlike Docker's tmpfs, that directory lives on the state root's filesystem and --shm-size does
// not bound it. Nor does it outlive its container as a tmpfs outlives the mounts of the
// containers that joined it: so while one of them runs, a start of the donor keeps its files
// (shared again, not emptied), and a removal of the donor is refused (as podman refuses to remove
// a container others depend on): neither deletes what a running container uses.
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { removeTreeSync, type ContainerRecord, type ContainerStore } from '../store/index.js';
import { isLive } from './shim/control.js';
import { readRuntimeStatus } from './shim/state.js';
import type { RunSpec } from './types.js';

const KIND = { pid: 'PID', ipc: 'IPC' } as const;

type Ctx = { containers: Pick<ContainerStore, 'paths' | 'read' | 'list'>; runcRoot: string };

/**
 * What RECORD shares of other containers' and the host's: the namespaces it joins, and the host
 * directory bound at its /dev/shm (a shareable container's own is made anew here). Throws
 * (StrataError) when a container it joins does not run or does not share its IPC.
 */
export async function sharedNamespaces(ctx: Ctx, record: ContainerRecord): Promise<Pick<RunSpec, 'joinNamespaces' | 'shmSource'>> {
  const modes = { pid: record.HostConfig.PidMode as string | undefined, ipc: record.HostConfig.IpcMode as string | undefined };
  const join: NonNullable<RunSpec['joinNamespaces']> = {};
  for (const ns of ['pid', 'ipc'] as const) {
    const id = donorOf(modes[ns]);
    if (id === undefined) continue;
    const status = readRuntimeStatus(ctx.containers.paths(id).dir, ctx.runcRoot, id);
    const live = status?.pid && (status.state === 'running' || status.state === 'paused');
    if (!live) throw new StrataError(`cannot join ${KIND[ns]} of a non running container: ${id}`);
    join[ns] = `/proc/${status.pid}/ns/${ns}`;
  }
  const shmSource = await shmSourceOf(ctx, record, true);
  return { ...(Object.keys(join).length ? { joinNamespaces: join } : {}), ...(shmSource ? { shmSource } : {}) };
}

/**
 * The running containers that use the /dev/shm of DONOR, a shareable container: those that
 * joined its IPC (`--ipc container:DONOR`), directly or through one that did.
 */
export async function shmUsers(ctx: Ctx, donor: ContainerRecord): Promise<ContainerRecord[]> {
  if (donor.HostConfig.IpcMode !== 'shareable') return [];
  const records = await ctx.containers.list();
  const byId = new Map(records.map((r) => [r.Id, r]));
  const joins = (r: ContainerRecord): boolean => {
    const seen = new Set<string>();
    for (let id = donorOf(r.HostConfig.IpcMode as string | undefined); id !== undefined && !seen.has(id); id = donorOf(byId.get(id)?.HostConfig.IpcMode as string | undefined)) {
      if (id === donor.Id) return true;
      seen.add(id);
    }
    return false;
  };
  return records.filter((r) => r.Id !== donor.Id && joins(r) && isLive(readRuntimeStatus(ctx.containers.paths(r.Id).dir, ctx.runcRoot, r.Id)));
}

/** Refuses the removal of RECORD while a running container uses its /dev/shm (shmUsers). */
export async function refuseWhileShmShared(ctx: Ctx, record: ContainerRecord): Promise<void> {
  const users = await shmUsers(ctx, record);
  if (users.length === 0) return;
  const name = record.Name.replace(/^\//, '');
  throw new StrataError(`cannot remove container "${name}": container "${users[0]!.Name.replace(/^\//, '')}" uses its /dev/shm (--ipc container:${name}): stop it first`);
}

function donorOf(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/** The host directory at RECORD's /dev/shm, undefined for a tmpfs of its own (or none). */
async function shmSourceOf(ctx: Ctx, record: ContainerRecord, starting: boolean, seen = new Set<string>()): Promise<string | undefined> {
  const mode = (record.HostConfig.IpcMode as string | undefined) ?? '';
  if (mode === 'host') {
    if (!fs.existsSync('/dev/shm')) throw new StrataError('/dev/shm is not mounted, but must be for --ipc=host');
    return '/dev/shm';
  }
  if (mode === 'shareable') {
    const shm = ctx.containers.paths(record.Id).dir + '/shm';
    // Still bound by a container that joined it and runs: kept for it, and shared again.
    if (!starting || (fs.existsSync(shm) && (await shmUsers(ctx, record)).length > 0)) return shm;
    return freshShmDir(ctx.containers.paths(record.Id).dir);
  }
  const donorId = donorOf(mode);
  if (donorId === undefined) return undefined;
  const notShared = () => new StrataError(`failed to join IPC namespace: container ${donorId}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
  const donor = seen.has(donorId) ? undefined : await ctx.containers.read(donorId);
  if (!donor) throw notShared();
  seen.add(record.Id);
  // A donor that joined another shares that one's (Docker copies its ShmPath).
  const source = await shmSourceOf(ctx, donor, false, seen);
  if (!source || !fs.statSync(source, { throwIfNoEntry: false })?.isDirectory()) throw notShared();
  return source;
}

/**
 * An empty `shm` directory in DIR (mode 1777, a tmpfs's at /dev/shm): a start begins with no
 * files of the previous run's, as a new tmpfs would. Only strata's own dir is removed, never
 * through a mount in it (removeTreeSync).
 */
function freshShmDir(dir: string): string {
  const shm = path.join(dir, 'shm');
  if (fs.existsSync(shm)) {
    const old = path.join(dir, `shm.old-${process.pid}`);
    const refuse = (mounted: string[]) => {
      if (mounted.length) throw new StrataError(`"${mounted[mounted.length - 1]}" is a mount point in the container's /dev/shm: unmount it first`);
    };
    refuse(removeTreeSync(old));
    fs.renameSync(shm, old);
    refuse(removeTreeSync(old));
  }
  fs.mkdirSync(shm);
  fs.chmodSync(shm, 0o1777);
  return shm;
}
