// `rmi` and `image prune` output: Docker's "Untagged:" / "Deleted:" lines over the Images
// service, whose rules (src/engine/images-rules.ts) decide what goes.
import { Images, type ImageDeleteItem } from '../engine/index.js';
import { ContainerStore, type ContainerRecord, type Store } from '../store/index.js';

export async function containersOf(store: Store): Promise<ContainerRecord[]> {
  return new ContainerStore(store.root).list();
}

/** "Untagged: NAME" / "Deleted: ID" (prune's lines are lowercase, as Docker's). */
export function deleteLine(item: ImageDeleteItem, lowercase = false): string {
  const [label, value] = 'Untagged' in item ? ['Untagged', item.Untagged] : ['Deleted', item.Deleted];
  return `${lowercase ? label.toLowerCase() : label}: ${value}`;
}

/**
 * Removes one image reference; returns Docker's lines. The containers the rules look at are
 * the store's own (read again by the service); `_containers` is kept for callers that read them first.
 */
export async function removeImageRef(store: Store, ref: string, force: boolean, _containers?: ContainerRecord[], noPrune = false): Promise<string[]> {
  return (await new Images({ store }).remove(ref, { force, noPrune })).map((i) => deleteLine(i));
}

export interface PruneResult {
  lines: string[];
  reclaimed: number;
}

/** Removes dangling images (all unused images with `all`), then every unreferenced blob. */
export async function pruneImages(store: Store, all: boolean, filters: string[] = []): Promise<PruneResult> {
  const r = await new Images({ store }).prune({ all, filters });
  return { lines: r.items.map((i) => deleteLine(i, true)), reclaimed: r.reclaimed };
}
