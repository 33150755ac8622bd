// The Volumes service: named and anonymous volumes of a state root — create, list, inspect,
// remove (refused while a container's mounts use the volume) and prune (anonymous ones, or
// every unused one with `all`), with Docker's rules.
import { mountRequestsOf, volumesOf } from '../runtime/index.js';
import {
  ContainerStore, createVolume, diskUsage, getVolume, listVolumes, removeVolume, stateRoot, type CreateVolumeOptions, type Volume,
} from '../store/index.js';

export type { CreateVolumeOptions, Volume } from '../store/index.js';

export interface VolumePruneResult {
  deleted: string[];
  reclaimed: number;
}

export class Volumes {
  readonly stateRoot: string;

  constructor(o: { stateRoot?: string } = {}) {
    this.stateRoot = o.stateRoot ?? stateRoot();
  }

  create(options: CreateVolumeOptions = {}): Volume {
    return createVolume(this.stateRoot, options);
  }

  list(): Volume[] {
    return listVolumes(this.stateRoot);
  }

  /** Docker's `volume inspect` object (without strata's own Anonymous flag). */
  inspect(name: string): Omit<Volume, 'Anonymous'> {
    const { Anonymous: _anonymous, ...rest } = getVolume(this.stateRoot, name);
    return rest;
  }

  /** Volume name → IDs of the containers whose mounts use it. */
  async users(): Promise<Map<string, string[]>> {
    const users = new Map<string, string[]>();
    for (const c of await new ContainerStore(this.stateRoot).list()) {
      for (const name of volumesOf(mountRequestsOf(c))) users.set(name, [...(users.get(name) ?? []), c.Id]);
    }
    return users;
  }

  /** Removes a volume no container uses (one-line StrataError otherwise, or when there is none). */
  async remove(name: string): Promise<void> {
    removeVolume(this.stateRoot, name, (await this.users()).get(name) ?? []);
  }

  /** Removes the anonymous volumes no container uses (every unused one with `all`). */
  async prune(options: { all?: boolean } = {}): Promise<VolumePruneResult> {
    const users = await this.users();
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if ((users.get(v.Name) ?? []).length || (!options.all && !v.Anonymous)) continue;
      const size = diskUsage(v.Mountpoint);
      removeVolume(this.stateRoot, v.Name);
      deleted.push(v.Name);
      reclaimed += size;
    }
    return { deleted, reclaimed };
  }
}
