// The limits `update` may change (memory, CPU, pids), applied to a container that runs, with
// `runc update`. Every such act happens under the container's record lock (ContainerStore
// withRecord/update), so it is ordered with every record change:
//
//   update   under the lock: reads the record, checks it, runs `runc update` when the runtime
//            status says a run is under way (starting, running, paused), then writes the record
//   a start  makes its spec from the record whenever it does (the CLI for a first start, the
//            shim for a restart); once its container exists in runc, under the lock, compares
//            the record's limits with those it started with and applies any difference
//            (applyRecordLimits: the shim does it in the locked record write that says the
//            container runs, so a start takes no extra lock; a foreground run, applyUpdatedLimits)
//
// Either the start's look comes after update's section (it sees the new record), or before it:
// then its container exists and its status says so (the shim's shim.json was "starting" since
// before runc ran; a foreground run's "running"), so update's `runc update` reaches it. An update
// whose `runc update` finds no running container (not yet created, or gone) leaves the record to
// the start. Two updates are ordered by the lock too: the cgroup ends as the last one's record.
import { spawnSync } from 'node:child_process';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import type { ContainerRecord, ContainerStore } from '../store/index.js';
import { limitsOf } from './container.js';
import { runcState } from './shim/state.js';
import type { RunSpec } from './types.js';

/** The limits `update` may change, as a run's spec carries them. */
export type LiveLimits = Pick<RunSpec, 'memoryBytes' | 'memoryMore' | 'cpu' | 'pidsLimit'>;

/** The kinds of limit `runc update` is given (runc keeps the rest as they are). */
export type LimitGroup = 'memory' | 'cpu' | 'pids';

/** linux.resources for `runc update`: the GROUPS of L. */
export function linuxResources(l: LiveLimits, groups: LimitGroup[]): Record<string, unknown> {
  return {
    ...(groups.includes('memory') ? { memory: { ...(l.memoryBytes ? { limit: l.memoryBytes } : {}), ...l.memoryMore } } : {}),
    ...(groups.includes('cpu') && l.cpu ? { cpu: l.cpu } : {}),
    // runc writes "max" for a limit of -1.
    ...(groups.includes('pids') ? { pids: { limit: l.pidsLimit ?? -1 } } : {}),
  };
}

/** JSON with sorted keys: the same limits compare equal whatever order their keys were made in. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/** The groups in which A and B differ. */
export function differingGroups(a: LiveLimits, b: LiveLimits): LimitGroup[] {
  return (['memory', 'cpu', 'pids'] as const).filter((g) => canonical(linuxResources(a, [g])) !== canonical(linuxResources(b, [g])));
}

/**
 * `runc update` of the container ID. False when runc has no live container by that ID (not yet
 * created, or exited meanwhile): its next run takes the record's limits. Throws runc's reason
 * (StrataError) when it refused them.
 */
export function runcUpdate(runcRoot: string, id: string, resources: Record<string, unknown>): boolean {
  const r = spawnSync('runc', ['--root', runcRoot, 'update', '--resources', '-', id], { input: JSON.stringify(resources), encoding: 'utf8' });
  if (r.status === 0) return true;
  failpoint('update.runc-refused');
  // runc had no such container when it was asked (not yet created: the start applies the record
  // once runc has it), even if it has one by now: looking again would take that one for a refusal.
  if (/container does not exist/.test(r.stderr ?? '')) return false;
  const state = runcState(runcRoot, id);
  if (!state || state.status === 'stopped') return false;
  const why = /msg="([^"]*)"/.exec(r.stderr ?? '')?.[1] ?? ((r.stderr ?? '').trim().split('\n').pop() || `runc exited with ${r.status}`);
  throw new StrataError(`Cannot update container ${id}: ${why}`);
}

/**
 * Called once a run's container exists in runc, with the container's lock held and RECORD read
 * under it: applies the limits an `update` wrote to the record after STARTEDWITH was read from
 * it (see the top of this file). Returns the groups it changed.
 */
export function applyRecordLimits(runcRoot: string, record: ContainerRecord, startedWith: LiveLimits): LimitGroup[] {
  const now = limitsOf(record);
  const groups = differingGroups(startedWith, now);
  if (groups.length === 0) return [];
  return runcUpdate(runcRoot, record.Id, linuxResources(now, groups)) ? groups : [];
}

/** applyRecordLimits() for the container ID, taking its lock. */
export async function applyUpdatedLimits(ctx: { containers: ContainerStore; runcRoot: string }, id: string, startedWith: LiveLimits): Promise<LimitGroup[]> {
  return ctx.containers.withRecord(id, (record) => applyRecordLimits(ctx.runcRoot, record, startedWith));
}
