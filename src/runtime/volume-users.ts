// Which containers use which volumes (from their records' mount requests), and the removal of
// a removed container's anonymous volumes (`rm -v`, `--rm`): a volume another container still
// mounts (through --volumes-from, or -v with the anonymous volume's name) is kept, as Docker
// keeps it. The rule lives here once; `volume rm` and `volume prune` ask the same question.
import { ContainerStore, removeVolume } from '../store/index.js';
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
 * Removes the named volumes (a removed container's anonymous ones) that no container uses.
 * Call it once the container's record is gone, so that only the others count. When the users
 * cannot be told (a damaged record), every volume is kept.
 */
export async function removeAnonymousVolumes(root: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const users = await volumeUsers(root).catch(() => undefined);
  if (!users) return;
  for (const name of names) {
    try {
      removeVolume(root, name, users.get(name) ?? []);
    } catch {
      // Already gone, or used by another container: kept, as Docker does.
    }
  }
}
