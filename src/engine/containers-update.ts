// `update`: a container's resource limits and restart policy changed after its creation, as
// Docker's (container.UpdateContainer): every value is checked against the record's others
// first; a running container's cgroup is changed by `runc update` before the record, so a
// refused change leaves both as they were, all under the container's lock. A running
// container's shim reads the restart policy from the record when its container exits
// (shim.ts), so a new one applies at once.
import os from 'node:os';
import { StrataError } from '../errors.js';
import {
  currentState, dockerRestartPolicy, limitsOf, linuxResources, parseCpuShares, parseCpus, parseCpuset, parseMemoryBytes, parsePidsLimit, parseRestart, runcUpdate,
  type ContainerContext, type LimitGroup,
} from '../runtime/index.js';
import type { ContainerRecord } from '../store/index.js';

/** The flags of `update`, as typed. */
export interface UpdateRequest {
  cpus?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  pidsLimit?: string;
  restart?: string;
}

type Resources = {
  NanoCpus?: number; CpuShares?: number; CpusetCpus?: string; Memory?: number; MemorySwap?: number; MemoryReservation?: number; PidsLimit?: number | null;
};

const MIN_MEMORY = 6 * 1024 * 1024;

/** The request's values, parsed (what does not depend on the container: refused before any is touched). */
export interface ParsedUpdate {
  resources: Resources;
  restart?: ReturnType<typeof parseRestart>;
}

/** Parses the flags' values; throws Docker's message for a malformed one, or for none at all. */
export function parseUpdateRequest(r: UpdateRequest): ParsedUpdate {
  if (Object.values(r).every((v) => v === undefined)) throw new StrataError('you must provide one or more flags when using this command');
  // As Docker's: a zero (or empty) value leaves the setting as it is.
  const nonZero = (n: number) => (n !== 0 ? n : undefined);
  const out: Resources = {};
  if (r.cpus !== undefined) out.NanoCpus = nonZero(parseCpus(r.cpus, os.cpus().length));
  if (r.cpuShares !== undefined) out.CpuShares = nonZero(parseCpuShares(r.cpuShares));
  if (r.cpusetCpus !== undefined) out.CpusetCpus = parseCpuset(r.cpusetCpus);
  if (r.pidsLimit !== undefined) out.PidsLimit = parsePidsLimit(r.pidsLimit);
  if (r.memoryReservation !== undefined) out.MemoryReservation = nonZero(parseMemoryBytes('--memory-reservation', r.memoryReservation));
  if (r.memorySwap !== undefined) out.MemorySwap = nonZero(r.memorySwap.trim() === '-1' ? -1 : parseMemoryBytes('--memory-swap', r.memorySwap));
  if (r.memory !== undefined) {
    const memory = parseMemoryBytes('--memory', r.memory);
    if (memory !== 0 && memory < MIN_MEMORY) throw new StrataError('Minimum memory limit allowed is 6MB');
    out.Memory = nonZero(memory);
  }
  for (const key of Object.keys(out) as Array<keyof Resources>) if (out[key] === undefined) delete out[key];
  return { resources: out, ...(r.restart !== undefined ? { restart: parseRestart(r.restart) } : {}) };
}

/** The parsed change checked against the record's current settings, as Docker's daemon does. */
function checkAgainst(record: ContainerRecord, change: Resources): void {
  const now = record.HostConfig as Resources;
  // Docker's rule, word for word: a new limit above the swap already set needs a new swap too.
  if (change.Memory !== undefined && change.MemorySwap === undefined && change.Memory > (now.MemorySwap ?? 0)) {
    throw new StrataError('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const memory = change.Memory ?? now.Memory ?? 0;
  const swap = change.MemorySwap ?? now.MemorySwap ?? 0;
  const reservation = change.MemoryReservation ?? now.MemoryReservation ?? 0;
  if (change.MemorySwap !== undefined && swap > 0 && memory === 0) throw new StrataError('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap > 0 && swap < memory) throw new StrataError('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation > 0 && reservation < MIN_MEMORY) throw new StrataError('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw new StrataError('Minimum memory limit can not be less than memory reservation limit, see usage');
}

/** The kinds of limit the change touches, for `runc update` (runc keeps the rest). */
function groupsOf(c: Resources): LimitGroup[] {
  const changed = (keys: Array<keyof Resources>) => keys.some((k) => k in c);
  return [
    ...(changed(['Memory', 'MemorySwap', 'MemoryReservation']) ? ['memory' as const] : []),
    ...(changed(['NanoCpus', 'CpuShares', 'CpusetCpus']) ? ['cpu' as const] : []),
    ...(changed(['PidsLimit']) ? ['pids' as const] : []),
  ];
}

/**
 * Applies REQUEST to the container (its cgroup too, when it runs). All of it happens under the
 * container's lock, on the record as it is then: a start under way either reads the new record
 * or finds its limits changed once it runs (src/runtime/live-limits.ts tells why nothing falls
 * between the two), and the shim's own record writes wait their turn.
 */
export async function updateOne(ctx: ContainerContext, record: ContainerRecord, request: UpdateRequest): Promise<void> {
  const { resources: changed, restart } = parseUpdateRequest(request);
  await ctx.containers.update(record.Id, (r) => {
    checkAgainst(r, changed);
    if (restart && restart.name !== 'no' && r.HostConfig.AutoRemove) {
      throw new StrataError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    const resources = linuxResources(limitsOf({ ...r, HostConfig: { ...r.HostConfig, ...changed } }), groupsOf(changed));
    // As Docker's: a restarting container (between two runs of its policy) has no cgroup to
    // change; its next run takes the limits from the record. A refusal throws before the
    // record is written: both stay as they were.
    const state = currentState(ctx, r);
    if (Object.keys(resources).length > 0 && state.Running && !state.Restarting) runcUpdate(ctx.runcRoot, r.Id, resources);
    Object.assign(r.HostConfig, changed);
    if (restart) {
      r.HostConfig.RestartPolicy = dockerRestartPolicy(restart);
      // An earlier version's copy of the --restart text: HostConfig.RestartPolicy is the policy now.
      delete r.Strata.restart;
    }
  });
}
