// The Volumes service: named and anonymous volumes of a state root — create, list, inspect,
// remove (refused while a container's mounts use the volume) and prune (anonymous ones, or
// every unused one with `all`), with Docker's rules. Each instance first finishes the volume
// removals that killed processes left (store/volume-asides.ts), so it never misses a volume.
import { StrataError } from '../errors.js';
import { removeUnusedVolume, volumeUsers } from '../runtime/index.js';
import {
  ANONYMOUS_VOLUME_LABEL, createVolume, diskUsage, getVolume, listVolumes, stateRoot, sweepVolumeAsides, volumeInUse, type CreateVolumeOptions, type Volume,
} from '../store/index.js';

import { filterArgs, filterBool, filterMatches } from '../go-filters.js';
import { labelMatches } from './filters.js';

export type { CreateVolumeOptions, Volume } from '../store/index.js';

export interface VolumePruneResult {
  deleted: string[];
  reclaimed: number;
}

export class Volumes {
  readonly stateRoot: string;
  #swept = false;

  constructor(o: { stateRoot?: string } = {}) {
    this.stateRoot = o.stateRoot ?? stateRoot();
  }

  /** The root's volumes dir as the last removals left it: once per instance (a readdir when nothing is left). */
  #sweep(): void {
    if (this.#swept) return;
    this.#swept = true;
    sweepVolumeAsides(this.stateRoot);
  }

  create(options: CreateVolumeOptions = {}): Volume {
    this.#sweep();
    return createVolume(this.stateRoot, options);
  }

  list(): Volume[] {
    this.#sweep();
    return listVolumes(this.stateRoot);
  }

  /** Docker's `volume inspect` object, its keys in moby's order (without strata's own Anonymous flag). */
  inspect(name: string): Omit<Volume, 'Anonymous'> {
    this.#sweep();
    const v = getVolume(this.stateRoot, name);
    return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: v.Scope };
  }

  /** Volume name → IDs of the containers whose mounts use it. */
  async users(): Promise<Map<string, string[]>> {
    return volumeUsers(this.stateRoot);
  }

  /** Removes a volume no container uses (one-line StrataError otherwise, or when there is none). */
  async remove(name: string): Promise<void> {
    this.#sweep();
    const users = await removeUnusedVolume(this.stateRoot, name);
    if (users.length) throw volumeInUse(name, users);
  }

  /** Removes the anonymous volumes no container uses (every unused one with `all`). */
  /** Unused volumes: anonymous ones, or all with `all`; FILTERS as `volume prune --filter` (volumePruneFilter). */
  async prune(options: { all?: boolean; filters?: string[] } = {}): Promise<VolumePruneResult> {
    const filter = volumePruneFilter(options.filters ?? []);
    const all = filter.all ?? options.all;
    const users = await this.users();
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if ((users.get(v.Name) ?? []).length || (!all && !v.Anonymous && !(v.Labels && ANONYMOUS_VOLUME_LABEL in v.Labels)) || !filter.matches(v)) continue;
      const size = diskUsage(v.Mountpoint);
      if ((await removeUnusedVolume(this.stateRoot, v.Name)).length) continue; // used since the look above
      deleted.push(v.Name);
      reclaimed += size;
    }
    return { deleted, reclaimed };
  }
}

/**
 * `volume prune --filter`, Docker's three: label=K[=V] and label!=K[=V] (all must hold), and
 * all=true|false, which says what -a does (a filter's word wins over the flag, as the API's).
 */
export function volumePruneFilter(filters: string[]): { all?: boolean; matches: (v: Volume) => boolean } {
  let all: boolean | undefined;
  const tests: ((v: Volume) => boolean)[] = [];
  for (const f of filters) {
    const m = /^(label!?|all)=(.*)$/.exec(f);
    if (!m) throw new StrataError(`invalid filter "${f.split('=')[0]}": volume prune supports label, label!, all`);
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'all') {
      all = filterBool(value);
      if (all === undefined) throw new StrataError(`invalid filter "all=${value}": expected true or false`);
    } else tests.push(key === 'label' ? (v) => labelMatches(v.Labels, value) : (v) => !labelMatches(v.Labels, value));
  }
  return { all, matches: (v) => tests.every((t) => t(v)) };
}

/**
 * `volume ls --filter`, as Docker's volume service: the values of one key are alternatives (name
 * as Go's filters.Args.Match: the value, or an expression found in the name; driver exactly),
 * every label given must match, dangling: used by no container or used.
 */
export function filterVolumes(vols: Volume[], filters: string[], users: Map<string, string[]>): Volume[] {
  const byKey = filterArgs(filters);
  for (const [key, values] of byKey) {
    if (!['name', 'label', 'driver', 'dangling'].includes(key)) throw new StrataError(`invalid filter "${key}": strata supports name, label, driver, dangling`);
    const bad = key === 'dangling' ? values.find((v) => filterBool(v) === undefined) : undefined;
    if (bad !== undefined) throw new StrataError(`invalid filter "dangling=${bad}": expected true or false`);
  }
  const names = byKey.get('name');
  const drivers = byKey.get('driver');
  const labels = byKey.get('label') ?? [];
  const dangling = byKey.get('dangling')?.map((v) => filterBool(v));
  return vols.filter((v) => (!names || names.some((n) => filterMatches(n, v.Name)))
    && (!drivers || drivers.includes(v.Driver))
    && labels.every((l) => labelMatches(v.Labels, l))
    && (!dangling || dangling.every((d) => !(users.get(v.Name)?.length) === d)));
}
