// A start's claim on its container, and a removal's last look, under the container's lock
// (ContainerStore.locked): the two cannot interleave, so a removal never takes the files of a
// container that a start is bringing up, and a start never runs a container whose files a
// removal has taken (Docker refuses one side the same way). The claim is shim.json saying
// "starting", owned by the process that will supervise the container (the shim, or this
// process for a foreground run): live while that process lives, so every reader (rm, prune,
// ps) sees it as running; should that process die before the container runs, readRuntimeStatus
// sees the owner gone and puts the status before the claim back (ShimStatus.claimedOver). No
// spawn and no fsync: `run -d` pays a lock file and one small write.
import { StrataError } from '../errors.js';
import type { ContainerStore } from '../store/index.js';
import { refuseWhileShmShared } from './shared-namespaces.js';
import { isLive } from './shim/control.js';
import { processStartTime, readRuntimeStatus, revertClaim, runcState, STOP_MARKER, writeShimStatus, type ShimStatus } from './shim/state.js';
import fs from 'node:fs';
import path from 'node:path';

interface ClaimContext {
  containers: ContainerStore;
  runcRoot: string;
}

export type StartClaim =
  /** It runs (or starts) already, by another process's start. */
  | { running: true }
  /** Claimed: PREVIOUS is the status before; UNDO puts it back should the start fail before its owner runs. */
  | { running: false; previous: ShimStatus | undefined; undo: () => void };

/**
 * Claims the container ID for a start whose supervisor is OWNER (a pid). Throws "no such
 * container" when a removal has taken it.
 */
export async function claimStart(ctx: ClaimContext, id: string, owner: number): Promise<StartClaim> {
  const { dir } = ctx.containers.paths(id);
  return ctx.containers.locked(id, () => {
    const previous = readRuntimeStatus(dir, ctx.runcRoot, id);
    if (isLive(previous)) return { running: true as const };
    const { claimedOver: _, ...before } = previous ?? { claimedOver: undefined };
    // A new start forgets an earlier stop; a `stop` from now on (it waits for the claim to
    // settle, shim/control.ts) leaves its marker for this start's restart policy to see.
    fs.rmSync(path.join(dir, STOP_MARKER), { force: true });
    writeShimStatus(dir, {
      // A start by the user counts its policy's restarts from zero again, as Docker's (ResetRestartManager).
      state: 'starting', shimPid: owner, shimStart: processStartTime(owner), ports: [], restartCount: 0,
      claimedOver: previous ? (before as ShimStatus) : null,
    });
    return { running: false as const, previous, undo: () => void revertClaim(dir, previous ?? null) };
  });
}

/** Docker's daemon's refusal to remove a live container without -f (a paused one must be unpaused first). */
export function removalRefused(name: string, state: string): StrataError {
  if (state === 'paused') return new StrataError(`cannot remove container "${name}": container is paused and must be unpaused first`);
  return new StrataError(`cannot remove container "${name}": container is ${state === 'starting' ? 'running' : state}: stop the container before removing or force remove`);
}

/**
 * A removal's last look, run under the container's lock just before its files are moved away
 * (ContainerStore.remove's guard): throws while the container is live, as a start may have
 * claimed it since the caller's first look, or while a running container uses its /dev/shm
 * (a shareable one's, shared-namespaces.ts). FORCED: the caller killed it already (rm -f), so a
 * container still live did not die of SIGKILL (a frozen cgroup, a process in uninterruptible
 * sleep) and still uses its files.
 */
export function removalGuard(ctx: ClaimContext, id: string, name: string, forced = false): () => Promise<void> {
  return async () => {
    const status = readRuntimeStatus(ctx.containers.paths(id).dir, ctx.runcRoot, id);
    if (isLive(status)) {
      // Killed already: what counts is whether runc still has its processes, not whether its
      // supervisor has written the exit yet (a foreground CLI may be stuck or slow to notice).
      if (forced && runcState(ctx.runcRoot, id)) throw new StrataError(`cannot remove container "${name}": it is still ${status!.state} after SIGKILL (frozen, or in uninterruptible sleep): the container and its files are kept`);
      if (!forced) throw removalRefused(name, status!.state);
    }
    // A record that cannot be read (a damaged one's removal) shares nothing anyone could have joined.
    const record = await ctx.containers.read(id).catch(() => undefined);
    if (record) await refuseWhileShmShared(ctx, record);
  };
}
