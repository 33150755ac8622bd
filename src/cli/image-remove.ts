// `rmi` and `image prune` with Docker's rules: removing one of several names only untags;
// the last name (or the ID) deletes the image; an image a container uses is refused unless
// -f, and even then kept (untagged) while the container exists; a running container's image
// cannot be deleted by ID at all.
import { StrataError } from '../errors.js';
import { ContainerStore, type ContainerRecord, familiarName, normalizeTag, type Store, type Image } from '../store/index.js';
import { shortId } from './format/human.js';

export async function containersOf(store: Store): Promise<ContainerRecord[]> {
  return new ContainerStore(store.root).list();
}

function layersInUse(containers: ContainerRecord[]): Set<string> {
  const keep = new Set<string>();
  for (const c of containers) for (const l of c.Strata?.layers ?? []) keep.add(l);
  return keep;
}

function nameIn(img: { names: string[] }, ref: string): string | undefined {
  try {
    const n = normalizeTag(ref);
    return img.names.includes(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

const conflict = (msg: string) => new StrataError(`conflict: ${msg}`, 1);

/**
 * Removes one image reference; returns Docker's "Untagged:"/"Deleted:" lines. Only the index is
 * read to name the image, so a damaged image (manifest or config) can be removed too.
 */
export async function removeImageRef(store: Store, ref: string, force: boolean, containers: ContainerRecord[]): Promise<string[]> {
  const found = await store.findImage(ref);
  const img = { ...found, id: found.id ?? (await store.resolveImage(ref)).id };
  const users = containers.filter((c) => c.Image === img.id);
  const running = users.filter((c) => c.State?.Running);
  const lines: string[] = [];
  const untag = async (name: string) => {
    if (await store.untag(name)) lines.push(`Untagged: ${familiarName(name)}`);
  };
  const name = nameIn(img, ref);
  if (name && img.names.length > 1) {
    await untag(name);
    return lines;
  }
  if (name) {
    if (users.length && !force) {
      throw conflict(`unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0].Id)} is using its referenced image ${shortId(img.id)}`);
    }
  } else {
    if (img.names.length > 1 && !force) throw conflict(`unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`);
    if (running.length) throw conflict(`unable to delete ${shortId(img.id)} (cannot be forced) - image is being used by running container ${shortId(running[0].Id)}`);
    if (users.length && !force) throw conflict(`unable to delete ${shortId(img.id)} (must be forced) - image is being used by stopped container ${shortId(users[0].Id)}`);
  }
  for (const n of [...img.names].sort()) await untag(n);
  if (users.length === 0) {
    await store.removeImage(img.id, { keepLayers: layersInUse(containers) });
    lines.push(`Deleted: ${img.id}`);
  }
  return lines;
}

export interface PruneResult {
  lines: string[];
  reclaimed: number;
}

/** Removes dangling images (all unused images with `all`), then every unreferenced blob. */
export async function pruneImages(store: Store, all: boolean): Promise<PruneResult> {
  const containers = await containersOf(store);
  const used = new Set(containers.map((c) => c.Image));
  const lines: string[] = [];
  let reclaimed = 0;
  for (const img of await store.listImages()) {
    if (used.has(img.id) || (!all && img.names.length > 0)) continue;
    for (const n of [...img.names].sort()) if (await store.untag(n)) lines.push(`untagged: ${familiarName(n)}`);
    await store.removeImage(img.id, { keepLayers: layersInUse(containers) });
    lines.push(`deleted: ${img.id}`);
    // As Docker: the space of the layers actually gone (shared ones stay with other images).
    const layers = img.manifest.layers.map((d, i) => ({ diffId: img.config.rootfs.diff_ids[i] ?? d.digest, size: d.size }));
    for (const l of layers) if (!(await store.hasLayer(l.diffId))) reclaimed += l.size;
  }
  reclaimed += await store.collectGarbage({ keepLayers: layersInUse(containers) });
  return { lines, reclaimed };
}
