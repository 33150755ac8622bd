// Running a container attached to the CLI (`run` without -d, `start -a`): this process plays
// the shim's part for it, recording the runtime state in the container's shim.json (the format
// the detached shim writes, see shim/state.ts), so `ps`, `wait`, `stop` and `kill` treat both
// alike, and a CLI killed mid-run is reconciled from runc by the next command.
import { sharedNamespaces } from './shared-namespaces.js';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { ZERO_TIME, type ContainerRecord, type ContainerState, type ContainerStore, type ImageStore } from '../store/index.js';
import { lowerDirsOf, runSpecOf } from './container.js';
import { networkForRun } from './net-run.js';
import { releaseContainer } from './net/endpoints.js';
import { RuncRunner } from './runc.js';
import { removeAnonymousVolumes } from './volume-users.js';
import { mountRequestsOf, populateVolumes, toMountSpecs, volumesOf } from './shim/mounts.js';
import { failedStartState, processStartTime, readRuntimeStatus, writeShimStatus, type ShimStatus } from './shim/state.js';
import type { InputSource, OutputTarget, RunOptions, RunSpec } from './types.js';
import type { PortRequest } from './ports.js';
import { timing } from '../timing.js';
import { failpoint } from '../failpoint.js';
import { applyUpdatedLimits } from './live-limits.js';
import { claimStart, removalGuard } from './start-claim.js';

/** What container commands work with: the state root, its containers and images, runc's state dir. */
export interface ContainerContext {
  root: string;
  containers: ContainerStore;
  images: ImageStore;
  runcRoot: string;
}

export function runcRootOf(root: string): string {
  return path.join(root, 'runc');
}

export { mountRequestsOf };

/** The ports a container publishes (`-p`, and `-P` for every EXPOSEd port). */
export async function portRequestsOf(record: ContainerRecord): Promise<PortRequest[]> {
  const publish = (record.Strata.publish as string[] | undefined) ?? [];
  if (publish.length === 0 && !record.Strata.publishAll) return [];
  const ports = await import('./ports.js');
  const explicit = publish.flatMap((p) => ports.parsePortSpec(p));
  const all = record.Strata.publishAll ? ports.exposedPortRequests(record.Config.ExposedPorts) : [];
  return ports.mergeRequests(explicit, all);
}

/** Docker's State object for the container as it is now (reconciled with runc when its supervisor died). */
export function currentState(ctx: Pick<ContainerContext, 'containers' | 'runcRoot'>, record: ContainerRecord): ContainerState {
  const status = readRuntimeStatus(ctx.containers.paths(record.Id).dir, ctx.runcRoot, record.Id);
  return status ? stateFromStatus(status) : record.State;
}

/** Docker's State object from a runtime status (shim.json). */
export function stateFromStatus(status: ShimStatus): ContainerState {
  const live = status.state === 'running' || status.state === 'starting' || status.state === 'paused' || status.state === 'restarting';
  return {
    Status: status.state === 'starting' ? 'running' : status.state,
    Running: live,
    Paused: status.state === 'paused',
    Restarting: status.state === 'restarting',
    OOMKilled: false,
    Dead: status.state === 'dead',
    Pid: live ? status.pid ?? 0 : 0,
    ExitCode: status.exitCode ?? 0,
    Error: status.error ?? '',
    StartedAt: status.startedAt ?? ZERO_TIME,
    FinishedAt: live && status.state !== 'restarting' ? ZERO_TIME : status.finishedAt ?? ZERO_TIME,
    ...(status.health ? { Health: status.health } : {}),
  };
}

export interface AttachedIo {
  stdin: InputSource;
  stdout: OutputTarget;
  stderr: OutputTarget;
  /** Overrides the container's Tty setting (false when we have no terminal to relay). */
  terminal?: boolean;
}

/**
 * Removes a container and its anonymous volumes (`--rm`, `rm -v`, prune). The caller has found
 * it stopped (or killed it: FORCED); a start since then makes the removal throw, with nothing
 * removed (start-claim.ts).
 */
export async function removeContainer(ctx: ContainerContext, record: ContainerRecord, options: { volumes: boolean; background?: boolean; forced?: boolean }): Promise<void> {
  failpoint('container.remove-checked');
  const state = currentState(ctx, record);
  await ctx.containers.remove(record.Id, { background: options.background, state, guard: removalGuard(ctx, record.Id, record.Name.slice(1), options.forced) });
  // What a killed owner left on its networks (a clean stop has released it already).
  if (!options.background) releaseContainer(ctx.root, record.Id);
  if (options.volumes) await removeAnonymousVolumes(ctx.root, volumesOf(mountRequestsOf(record), 'anonymous'));
}

/**
 * Starts the container and waits for it; returns its exit code. Start failures throw
 * (125/126/127). Containers that publish ports run under their shim instead (it owns the
 * forwarder): the CLI routes them there (lifecycle.ts).
 */
export async function runAttached(ctx: ContainerContext, record: ContainerRecord, io: AttachedIo, options: Pick<RunOptions, 'signal' | 'onSpawn'> = {}): Promise<number> {
  const paths = ctx.containers.paths(record.Id);
  // This process supervises it: claimed in its name, so a removal leaves it be (start-claim.ts).
  const claim = await claimStart(ctx, record.Id, process.pid);
  if (claim.running) throw new StrataError(`container "${record.Name.slice(1)}" is already running`);
  const previous = claim.previous;
  const requests = mountRequestsOf(record);
  let network: Awaited<ReturnType<typeof networkForRun>> | undefined;
  let spec: RunSpec;
  try {
    const lowerDirs = await lowerDirsOf(record, ctx.images);
    populateVolumes(ctx.root, requests, lowerDirs);
    // Its namespace is plumbed meanwhile; runc waits for it (beforeStart).
    network = await networkForRun(ctx, record);
    timing('network requested');
    // Joining another container's namespaces throws when that one does not run.
    spec = { ...runSpecOf(record, paths, lowerDirs, toMountSpecs(ctx.root, requests)), ...(await sharedNamespaces(ctx, record)), ...network.spec, ...io };
  } catch (err) {
    // Not started: the claim goes (a removal, --rm's among them, must not take it for a start).
    await network?.release();
    claim.undo();
    throw err;
  }
  const status: ShimStatus = {
    state: 'running',
    shimPid: process.pid,
    shimStart: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
    ports: [],
    restartCount: 0,
  };
  // shim.json is written before runc starts; the record's mirror of it (for readers of
  // config.json: inspect, rmi) is updated meanwhile, in order, and awaited before returning.
  let mirror: Promise<unknown> = Promise.resolve();
  const save = (next: ShimStatus) => {
    try {
      writeShimStatus(paths.dir, next);
    } catch (err) {
      // `rm -f` from another process may have removed the container while it ran.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (record.HostConfig.AutoRemove && next.state !== 'running') return; // about to be removed
    const update = () => ctx.containers.update(record.Id, (r) => void (r.State = stateFromStatus(next)), { durable: false }).catch(() => undefined);
    mirror = mirror.then(update);
  };
  // Limits an `update` wrote to the record after the spec was made: applied once runc has the
  // container (live-limits.ts).
  let limits: Promise<unknown> | undefined;
  const onStarted = () => void (limits ??= applyUpdatedLimits(ctx, record.Id, spec).catch(() => undefined));
  try {
    save(status);
    timing('status saved');
    failpoint('run.status-saved');
    const { exitCode } = await new RuncRunner({ runcRoot: ctx.runcRoot }).run(spec, { ...options, forwardSignals: true, beforeStart: network.ready, onStarted, launch: network.launch });
    await network.release();
    await limits;
    save({ ...status, state: 'exited', exitCode, finishedAt: new Date().toISOString() });
    await mirror;
    return exitCode;
  } catch (err) {
    await network.release();
    await limits;
    // As Docker: a container that could not start stays "Created", with the code and the error,
    // or "Exited" with its last run's times when it ran before.
    const exitCode = err instanceof StrataError ? err.exitCode : 125;
    save({ ...status, ...failedStartState(previous), exitCode, error: (err as Error).message });
    await mirror;
    throw err;
  }
}
