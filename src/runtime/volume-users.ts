// Which containers use which volumes (from their records' mount requests), and the removal of
// a volume only while none does: `volume rm`, `volume prune`, and a removed container's
// anonymous volumes (`rm -v`, `--rm`), which another container may still mount (through
// --volumes-from, or -v with the volume's name): Docker keeps such a volume. The rule lives
// here once.
import { failpoint } from '../failpoint.js';
import { ContainerStore, dropVolume, moveVolumeAside, restoreVolume, volumeInUse } from '../store/index.js';
import { mountRequestsOf, volumesOf } from './shim/mounts.js';

/** Volume name → IDs of the containers whose mounts use it. */
export async function volumeUsers(root: string): Promise<Map<string, string[]>> {
  const users = new Map<string, string[]>();
  for (const c of await new ContainerStore(root).list()) {
    for (const name of volumesOf(mountRequestsOf(c))) users.set(name, [...(users.get(name) ?? []), c.Id]);
  }
  return users;
}

/**
 * Removes the volume NAME unless a container uses it: then it stays and its users are returned
 * (empty: removed). Throws when there is no such volume or something is mounted in it.
 *
 * A container's record names its volumes before it mounts one, so the users are read twice:
 * before the volume is moved out of reach, and after, when a container created meanwhile is
 * seen (the volume is put back) and one created later can only make a new volume.
 */
export async function removeUnusedVolume(root: string, name: string): Promise<string[]> {
  const before = (await volumeUsers(root)).get(name) ?? [];
  if (before.length) return before;
  failpoint('volume.users-read');
  const aside = moveVolumeAside(root, name);
  failpoint('volume.moved-aside');
  // Users that cannot be told (a damaged record): the volume is kept, as if used.
  const after = await volumeUsers(root).then((u) => u.get(name) ?? [], () => ['(unknown)']);
  if (after.length) {
    if (!restoreVolume(root, name, aside)) throw volumeInUse(name, after); // a new volume took the name: the old one stays aside, whole
    return after;
  }
  dropVolume(name, aside);
  return [];
}

/**
 * Removes the named volumes (a removed container's anonymous ones) that no container uses.
 * Call it once the container's record is gone, so that only the others count.
 */
export async function removeAnonymousVolumes(root: string, names: string[]): Promise<void> {
  for (const name of names) {
    try {
      await removeUnusedVolume(root, name);
    } catch {
      // Already gone, users unknown, or a mount in it: kept.
    }
  }
}
