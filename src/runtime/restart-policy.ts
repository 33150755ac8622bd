// A container's restart policy. Its one home is HostConfig.RestartPolicy, in Docker's inspect
// shape ({Name, MaximumRetryCount}): `create` and `update --restart` write it there, and the
// starter, the shim (at each exit) and `inspect` read it through restartPolicyOf(). Records
// written by earlier versions may hold only the --restart text in Strata.restart (or both, the
// text then possibly stale): that text is read only when HostConfig.RestartPolicy is missing.
import { StrataError } from '../errors.js';
import type { ContainerRecord } from '../store/index.js';
import type { RestartPolicy } from './shim/state.js';

const NAMES: ReadonlyArray<RestartPolicy['name']> = ['no', 'always', 'unless-stopped', 'on-failure'];

const NONE: RestartPolicy = { name: 'no', maximumRetryCount: 0 };

/** `--restart no|always|unless-stopped|on-failure[:N]` as a policy; throws Docker's message for a bad one. */
export function parseRestart(text: string): RestartPolicy {
  const [name = 'no', count = '0'] = text.split(':');
  if (!(NAMES as string[]).includes(name) || !/^\d+$/.test(count)) throw new StrataError(`invalid restart policy "${text}"`);
  if (name !== 'on-failure' && count !== '0') throw new StrataError(`maximum retry count cannot be used with restart policy "${name}"`);
  return { name: name as RestartPolicy['name'], maximumRetryCount: Number(count) };
}

/** The policy as HostConfig.RestartPolicy keeps it. */
export function dockerRestartPolicy(policy: RestartPolicy): { Name: string; MaximumRetryCount: number } {
  return { Name: policy.name, MaximumRetryCount: policy.maximumRetryCount };
}

/**
 * The record's restart policy. A policy strata could not have written (an unknown name, a
 * malformed old text) reads as "no": a container is never restarted by a guess.
 */
export function restartPolicyOf(record: ContainerRecord): RestartPolicy {
  const kept = record.HostConfig.RestartPolicy as { Name?: unknown; MaximumRetryCount?: unknown } | null | undefined;
  if (kept && typeof kept === 'object') {
    // Docker writes "" for no policy.
    const name = kept.Name === '' || kept.Name === undefined ? 'no' : kept.Name;
    if (typeof name !== 'string' || !(NAMES as string[]).includes(name)) return NONE;
    const count = kept.MaximumRetryCount;
    const retries = name === 'on-failure' && typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 0;
    return { name: name as RestartPolicy['name'], maximumRetryCount: retries };
  }
  try {
    return parseRestart(String(record.Strata.restart ?? 'no'));
  } catch {
    return NONE;
  }
}
