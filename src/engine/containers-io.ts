// What reads or reaches into a container: exec, logs, top, stats, port bindings, diff, cp and
// export (its files as a tar).
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { describedFailure, StrataError } from '../errors.js';
import {
  bindingsOf, containerChanges, containerEntries, containerPids, copyFromContainer, copyTarToContainer, copyToContainer, execInContainer, isLive, logAttributes, logPath, lowerDirsOf,
  readLogs, readRuntimeStatus, readShimConfig, sampleStats, topProcesses, withContainerRoot,
  type Change, type ContainerContext, type ContainerStats, type CopyResult, type DockerPortMap, type LogConfig, type PortBinding, type ReadLogsOptions, type TopResult,
} from '../runtime/index.js';
import type { ContainerRecord } from '../store/index.js';
import { handleOf, requireRunning, whileFrozen, type LightContext } from './containers-ops.js';

export interface ExecRequest {
  command: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  privileged?: boolean;
}

/** Runs a process in the running container with our stdio; its exit code. */
export async function execIn(ctx: LightContext, record: ContainerRecord, request: ExecRequest): Promise<number> {
  requireRunning(ctx, record, 'exec');
  const handle = handleOf(ctx, record);
  const config = readShimConfig(handle.dir);
  return execInContainer({
    stateRoot: ctx.root,
    id: record.Id,
    runcRoot: handle.runcRoot,
    args: request.command,
    env: request.env,
    cwd: request.workdir,
    user: request.user,
    additionalGroups: record.HostConfig.GroupAdd,
    rootfs: config ? { lowerDirs: config.spec.rootfs.lowerDirs, upperDir: config.spec.rootfs.upperDir } : undefined,
    containerEnv: config?.spec.env,
    containerCwd: config?.spec.cwd,
    mountPoints: config?.mounts.map((m) => m.destination),
    interactive: request.interactive,
    tty: request.tty,
    detach: request.detach,
    privileged: request.privileged,
  });
}

/** The container's log entries; with `follow: true`, new ones while it runs. */
export async function logsOf(
  ctx: LightContext, record: ContainerRecord, options: Omit<ReadLogsOptions, 'follow' | 'details'> & { follow?: boolean; details?: boolean },
  sink: (stream: 'stdout' | 'stderr', text: string) => void,
): Promise<void> {
  const config = record.HostConfig.LogConfig as LogConfig | undefined;
  if (config?.Type === 'none') throw new StrataError('configured logging driver does not support reading');
  const handle = handleOf(ctx, record);
  const follow = options.follow ? () => isLive(readRuntimeStatus(handle.dir, handle.runcRoot, handle.id)) : undefined;
  // The attributes the entries were given (json-file's labels/env/tag options), from the record: they are fixed at create.
  const details = options.details
    ? logAttributes({ config, id: record.Id, name: record.Name, imageId: record.Image, imageName: record.Config.Image, labels: record.Config.Labels, env: record.Config.Env })
    : undefined;
  await readLogs(logPath(handle.dir, record.Id), { ...options, follow, details }, sink);
}

/** `top`: the container's processes, as `ps -ef` or with the given ps options. */
export async function topOf(ctx: LightContext, record: ContainerRecord, psArgs: string[] = []): Promise<TopResult> {
  requireRunning(ctx, record, 'top', { pausedOk: true });
  return topProcesses(await containerPids(ctx.runcRoot, record.Id), psArgs);
}

/** One `stats` sample of a running container (undefined when it is not running). */
export async function statsOf(ctx: LightContext, record: ContainerRecord): Promise<ContainerStats | undefined> {
  const handle = handleOf(ctx, record);
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
  if (!isLive(status) || !status?.pid) return undefined;
  return sampleStats(status.pid);
}

/** The ports it publishes: bound ones while it runs, else those it last had. */
export function portsOf(ctx: LightContext, record: ContainerRecord): PortBinding[] {
  const handle = handleOf(ctx, record);
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
  return isLive(status) ? status!.ports : bindingsOf((record as { NetworkSettings?: { Ports?: DockerPortMap } }).NetworkSettings?.Ports);
}

/** Changes of its files against its image (`diff`). */
export async function diffOf(ctx: ContainerContext, record: ContainerRecord): Promise<Change[]> {
  return containerChanges(ctx.containers.paths(record.Id).upper, await lowerDirsOf(record, ctx.images));
}

export interface CopyRequest {
  /** Follow a symlink given as the source (`-L`). */
  followLink?: boolean;
  /** Keep owners (`-a`). */
  keepOwners?: boolean;
}

/**
 * `cp CONTAINER:SRC DEST` (DEST "-": a tar to stdout). A running container is frozen while a
 * copy walks its files, either way (Docker's answer to CVE-2018-15664): its processes cannot
 * swap a directory the copy has resolved for a symlink out of its root before the copy uses it.
 */
export async function copyOut(ctx: ContainerContext, record: ContainerRecord, src: string, dest: string, request: CopyRequest = {}): Promise<CopyResult> {
  const container = record.Name.replace(/^\//, '');
  return whileFrozen(ctx, record, () =>
    withContainerRoot(ctx, record, 'read', (root) => copyFromContainer(root, src, dest, { followLink: Boolean(request.followLink), keepOwners: Boolean(request.keepOwners), container })));
}

/** `cp SRC CONTAINER:DEST`, SRC a host path or a tar stream (`cp - CONTAINER:DEST`); a running container frozen meanwhile. */
export async function copyIn(ctx: ContainerContext, record: ContainerRecord, src: string | Readable, dest: string, request: CopyRequest = {}): Promise<CopyResult> {
  const container = record.Name.replace(/^\//, '');
  return whileFrozen(ctx, record, () =>
    typeof src === 'string'
      ? withContainerRoot(ctx, record, 'write', (root) => copyToContainer(root, src, dest, { followLink: Boolean(request.followLink), keepOwners: Boolean(request.keepOwners), container }))
      : withContainerRoot(ctx, record, 'write', (root) => copyTarToContainer(root, src, dest, { container })));
}

/**
 * `export`: the container's files as a tar, to a stream or (whole or not at all) to a file. A
 * running container's upper dir is live under the overlay it is read through: it is read
 * anchored (runtime containerEntries), so a directory the container swaps for a symlink is
 * never followed out of it.
 */
export async function exportFiles(ctx: ContainerContext, record: ContainerRecord, to: { stream: NodeJS.WritableStream } | { file: string }): Promise<void> {
  const { atomicReplace, writeEntriesTar } = await import('../store/index.js');
  await withContainerRoot(ctx, record, 'read', async (root) => {
    const write = (out: NodeJS.WritableStream) => writeEntriesTar(containerEntries(root, '', { name: undefined, keepHardLinks: true }), out as Writable);
    if ('stream' in to) return void (await write(to.stream));
    // A file appears whole or not at all, as save's (its temp file noted for a sweep, as save's).
    const options = { durable: false, noteIn: path.join(ctx.root, 'tmp') };
    const output = to.file;
    await describedFailure(`writing "${output}"`, () => atomicReplace(path.resolve(output), (tmp) => write(fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 })).then(() => undefined), options));
  }, { layersOnly: true });
}
