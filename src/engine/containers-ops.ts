// What changes a container's state: start, stop, kill, remove (with Docker's refusal of a
// running one unless forced), wait, rename. (Commit and prune are in containers-commit.ts and
// containers-list.ts, loaded when used: `run` does without them.)
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import {
  currentState, exitCodeFromShim, isLive, killContainer, notePause, pauseContainer, readRuntimeStatus, refuseWhileShmShared, removalGuard, removalRefused, removeContainer, renameEndpoints, startDetached, stopContainer, unpauseContainer, waitForExit,
  type ContainerContext, type ContainerHandle, type DetachedStartOptions,
} from '../runtime/index.js';
import type { ContainerRecord, ContainerState } from '../store/index.js';

/** What signals, waits and the freezer need: no image store. */
export type LightContext = Pick<ContainerContext, 'root' | 'containers' | 'runcRoot'>;

export function handleOf(ctx: LightContext, record: Pick<ContainerRecord, 'Id'>): ContainerHandle {
  return { id: record.Id, dir: ctx.containers.paths(record.Id).dir, runcRoot: ctx.runcRoot };
}

/**
 * The init pid of a running container; Docker's errors for a paused (unless PAUSEDOK: `top`
 * lists a frozen container's processes, as Docker's), restarting or stopped one (WHAT: "exec"...).
 */
export function requireRunning(ctx: LightContext, record: ContainerRecord, what: string, options: { pausedOk?: boolean } = {}): number {
  const handle = handleOf(ctx, record);
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
  if (status?.state === 'paused' && !options.pausedOk) throw new StrataError(`container "${record.Id.slice(0, 12)}" is paused, unpause the container before ${what}`);
  if (status?.state === 'restarting') throw new StrataError(`container "${record.Id.slice(0, 12)}" is restarting, wait until the container is running`);
  if (!isLive(status) || !status?.pid) throw new StrataError(`container "${record.Id.slice(0, 12)}" is not running`);
  return status.pid;
}

/**
 * Runs FN with the container frozen if it is running (a paused one stays as it is, a stopped one
 * has nothing to freeze), noted first so that a sweep thaws it if this process is killed
 * meanwhile; thawed after FN, also when FN fails.
 */
export async function whileFrozen<T>(ctx: LightContext, record: ContainerRecord, fn: () => Promise<T>): Promise<T> {
  if (currentState(ctx, record).Status !== 'running') return fn();
  const handle = handleOf(ctx, record);
  const forgetPause = await notePause(ctx.root, record.Id);
  try {
    pauseContainer(handle);
  } catch (err) {
    await forgetPause();
    throw err;
  }
  try {
    return await fn();
  } finally {
    // Killed while frozen (rm -f meanwhile): there is nothing left to thaw.
    if (readRuntimeStatus(handle.dir, handle.runcRoot, handle.id)?.state === 'paused') unpauseContainer(handle);
    await forgetPause();
  }
}

/** Docker's refusal to start a paused container (it runs, but `start` does not thaw it); the state otherwise. */
export function refusePaused(ctx: Pick<ContainerContext, 'containers' | 'runcRoot'>, record: ContainerRecord): ContainerState {
  const state = currentState(ctx, record);
  if (state.Paused) throw new StrataError('cannot start a paused container, try unpause instead');
  return state;
}

/** Starts a stopped container under its shim; a running one is left as it is, a paused one refused. */
export async function startContainer(ctx: ContainerContext, record: ContainerRecord, options: DetachedStartOptions = {}): Promise<void> {
  const state = refusePaused(ctx, record);
  if (!options.attach && state.Running) return;
  failpoint('start.looked-up');
  await startDetached(ctx, record, options);
}

/** Stops with the container's stop signal (or SIGNAL), SIGKILL after TIMEOUT seconds (its StopTimeout, else 10). */
export async function stopOne(ctx: LightContext, record: ContainerRecord, options: { timeout?: number; signal?: string; restart?: boolean } = {}): Promise<void> {
  const stopTimeout = (record.Config as { StopTimeout?: number }).StopTimeout;
  await stopContainer(handleOf(ctx, record), { signal: options.signal || record.Config.StopSignal || 'SIGTERM', timeoutSec: options.timeout ?? stopTimeout ?? 10, restart: options.restart });
}

/**
 * How long rm -f waits for a killed container to be gone: 10 s. STRATA_TEST_KILL_WAIT_MS shortens
 * it for the test of a container SIGKILL does not end (cli/remove-race.test.ts), which would
 * otherwise wait out the whole 10 s for nothing it checks.
 */
const KILL_WAIT_MS = Number(process.env.STRATA_TEST_KILL_WAIT_MS) || 10_000;

export async function killAndWait(ctx: LightContext, record: Pick<ContainerRecord, 'Id'>): Promise<void> {
  const handle = handleOf(ctx, record);
  await killContainer(handle, 'KILL');
  await waitForExit(handle, KILL_WAIT_MS);
}

/** `rm`: a running container only with FORCE (killed first), as Docker. */
export async function removeOne(ctx: ContainerContext, record: ContainerRecord, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const state = currentState(ctx, record);
  if (state.Running) {
    if (!options.force) {
      throw removalRefused(record.Name.slice(1), state.Status);
    }
    // Refused before the kill, not after it (removeContainer asks again at its last look).
    await refuseWhileShmShared(ctx, record);
    await killAndWait(ctx, record);
  }
  // Its files go only if it is not live at the removal's last look (a kill that did not take, a start meanwhile).
  await removeContainer(ctx, record, { volumes: Boolean(options.volumes), forced: state.Running });
}

/**
 * `rm` of the container ID whose record cannot be read (torn JSON): it is still the user's to
 * remove, as Docker's daemon lets a container it could not load go. Its runtime status (the
 * shim's, or runc's when the shim is gone) says whether it runs: a running one only with FORCE,
 * killed first. Its files go as any container's, and the name claims that name it. What the
 * record alone knew (its anonymous volumes, say) stays.
 */
export async function removeDamaged(ctx: LightContext, id: string, force: boolean): Promise<void> {
  const handle = handleOf(ctx, { Id: id });
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, id);
  if (isLive(status)) {
    if (!force) throw new StrataError(`cannot remove container "${id.slice(0, 12)}": its record is damaged and it is ${status!.state}: force remove (rm -f) to kill it`);
    await killAndWait(ctx, { Id: id });
  }
  await ctx.containers.remove(id, { guard: removalGuard(ctx, id, id.slice(0, 12), isLive(status)) });
}

/** Blocks until the container stops; its exit code. */
export async function waitOne(ctx: LightContext, record: ContainerRecord): Promise<number> {
  const handle = handleOf(ctx, record);
  // A --rm container's status is removed with it as soon as it exits: its shim tells the code.
  const told = record.HostConfig.AutoRemove ? await exitCodeFromShim(handle) : undefined;
  if (told !== undefined) return told;
  const status = await waitForExit(handle);
  return status && !isLive(status) ? status.exitCode ?? 0 : currentState(ctx, record).ExitCode;
}

export async function renameOne(ctx: LightContext, record: ContainerRecord, newName: string): Promise<void> {
  const name = newName.replace(/^\//, '');
  if (`/${name}` === record.Name) throw new StrataError('Renaming a container with the same name as its current name');
  await ctx.containers.rename(record.Id, name);
  await renameEndpoints(ctx.root, record.Id, name);
}
