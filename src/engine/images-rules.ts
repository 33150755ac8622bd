// Docker's rules for removing images (daemon/images/image_delete.go), over the store:
// - a name of an image with several names: only that name goes ("Untagged:");
// - the last name: refused while a container uses the image, unless -f; with -f, or when the
//   image is the parent of another image (Docker's intermediate images), the name goes and the
//   image stays, untagged, for them;
// - by ID: refused when other images were built on it ("cannot be forced": deleting it would
//   take the child's history and cache with it), when a running container uses it ("cannot be
//   forced"), when it has several names or a stopped container uses it ("must be forced");
// - a digest reference (repo@sha256:..., recorded by pull and push as the image's RepoDigests):
//   untagged alone while the image has another reference, else the last name's rules; the
//   digests of a repository go with its last tag ("Untagged: busybox@sha256:..."), and all of
//   them with the image;
// - a deleted image's untagged parents that nothing else needs go too (Docker's prune of
//   parents; `rmi --no-prune` keeps them).
// Layers are never what a child loses: the store's collector keeps every layer an image,
// container, cache entry or build lease holds (src/store/gc.ts).
//
// A container being created (its image resolved, its record not yet written) uses its image
// through a lease (store/leases.ts use()): rmi and prune treat it as the container it is about
// to be. Its image's names may go (there is no container yet to name in a refusal, and Docker
// too untags then), but the image stays, untagged, as for a container: `rmi -f` says only
// "Untagged:", `image prune -a` passes it by. Whether an image is in use is decided again under
// the store lock as it is deleted, so a container or lease that came meanwhile still keeps it.
import { StrataError } from '../errors.js';
import { digestReferencedImages, familiarName, forgetRepoDigests, leasedImages, normalizeTag, parseReference, repoDigestsOf, repositoryName, type ContainerRecord, type Image, type Manifest, type Store } from '../store/index.js';
import { pruneFilter } from './filters.js';

/** One line of Docker's answer to a removal: a name untagged, or an image deleted. */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

export interface RemoveImageOptions {
  /** Untag a last name even though a container uses the image; delete an image with several names. */
  force?: boolean;
  /** Keep the deleted image's untagged parents (Docker's --no-prune). */
  noPrune?: boolean;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const conflict = (msg: string) => new StrataError(`conflict: ${msg}`, 1);
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const startsWith = (a: readonly unknown[], b: readonly unknown[]) => a.length <= b.length && a.every((x, i) => sameJson(x, b[i]));

/** `child` was built on `parent`: the parent's history is a strict prefix of the child's, and its layers a prefix of the child's. */
export function isParentImage(parent: Image, child: Image): boolean {
  const ph = parent.config.history ?? [];
  const ch = child.config.history ?? [];
  return child.id !== parent.id && ph.length > 0 && ph.length < ch.length && startsWith(ph, ch)
    && startsWith(parent.config.rootfs.diff_ids, child.config.rootfs.diff_ids);
}

/**
 * Untagged images other images were built on: Docker's intermediate images (`images -a` shows
 * them); one with a digest reference (`referenced`: pulled by digest) is no intermediate image.
 */
export function intermediateImages(images: Image[], referenced: Set<string> = new Set()): Set<string> {
  const out = new Set<string>();
  for (const p of images) if (p.names.length === 0 && !referenced.has(p.id) && images.some((c) => isParentImage(p, c))) out.add(p.id);
  return out;
}

/** Every image of the store that can be read; a damaged one is left out (it cannot be anyone's parent we could tell). */
export async function readableImages(store: Store): Promise<Image[]> {
  const ids = new Set<string>();
  for (const d of (await store.readIndex()).manifests) {
    const m = await store.blobs.readJson<Manifest>(d.digest).catch(() => undefined);
    if (typeof m?.config?.digest === 'string') ids.add(m.config.digest);
  }
  const out: Image[] = [];
  for (const id of ids) {
    const img = await store.resolveImage(id).catch(() => undefined);
    if (img) out.push(img);
  }
  return out;
}

function nameIn(img: { names: string[] }, ref: string): string | undefined {
  try {
    const n = normalizeTag(ref);
    return img.names.includes(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** "docker.io/library/busybox" of a full name. */
function repositoryOf(name: string): string | undefined {
  try {
    return repositoryName(parseReference(name, { defaultTag: false }));
  } catch {
    return undefined;
  }
}

/** The digest reference `ref` is, when the image has it among its repo digests. */
function digestRefIn(digests: string[], ref: string): { repository: string; digest: string; full: string } | undefined {
  try {
    const r = parseReference(ref, { defaultTag: false });
    if (!r.digest) return undefined;
    const full = `${repositoryName(r)}@${r.digest}`;
    return digests.includes(full) ? { repository: repositoryName(r), digest: r.digest, full } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes one image reference with Docker's rules (see the top of this file). Only the index
 * is needed to name the image, so a damaged image can be removed too.
 */
export async function removeImageRef(store: Store, ref: string, containers: ContainerRecord[], options: RemoveImageOptions = {}): Promise<ImageDeleteItem[]> {
  const found = await store.findImage(ref);
  const img = { ...found, id: found.id ?? (await store.resolveImage(ref)).id };
  const users = containers.filter((c) => c.Image === img.id);
  const running = users.filter((c) => c.State?.Running);
  const leased = await leasedImages(store.root);
  const items: ImageDeleteItem[] = [];
  const digests = await repoDigestsOf(store, img.id);
  const forget = async (repository?: string, digest?: string) => {
    for (const d of await forgetRepoDigests(store, img.id, repository, digest)) items.push({ Untagged: familiarName(d) });
  };
  let left = [...img.names];
  // A name gone: the digests of its repository go with the last name of that repository (Docker's digest references).
  const nameGone = async (name: string) => {
    left = left.filter((n) => n !== name);
    const repo = repositoryOf(name);
    if (repo && !left.some((n) => repositoryOf(n) === repo)) await forget(repo);
  };
  const untag = async (name: string) => {
    if (await store.untag(name)) items.push({ Untagged: familiarName(name) });
    await nameGone(name);
  };
  // A digest reference the image has (pulled or pushed by that name): untagged alone while the
  // image has another reference, as Docker's; the image's last reference is a name's rules.
  const digestRef = digestRefIn(digests, ref);
  if (digestRef && (img.names.length > 0 || digests.length > 1)) {
    await forget(digestRef.repository, digestRef.digest);
    return items;
  }
  const name = nameIn(img, ref) ?? digestRef?.full;
  // Another name, or a digest in another repository (which the name's untagging leaves), keeps the image.
  if (name && (img.names.length > 1 || digests.some((d) => repositoryOf(d) !== repositoryOf(name)))) {
    await untag(name);
    return items;
  }
  const all = await readableImages(store);
  const self = all.find((i) => i.id === img.id);
  const children = self ? all.filter((c) => isParentImage(self, c)) : [];
  if (name) {
    if (users.length && !options.force) {
      throw conflict(`unable to remove repository reference "${ref}" (must force) - container ${short(users[0].Id)} is using its referenced image ${short(img.id)}`);
    }
  } else {
    if (children.length) throw conflict(`unable to delete ${short(img.id)} (cannot be forced) - image has dependent child images`);
    if (img.names.length > 1 && !options.force) throw conflict(`unable to delete ${short(img.id)} (must be forced) - image is referenced in multiple repositories`);
    if (running.length) throw conflict(`unable to delete ${short(img.id)} (cannot be forced) - image is being used by running container ${short(running[0].Id)}`);
    if (users.length && !options.force) throw conflict(`unable to delete ${short(img.id)} (must be forced) - image is being used by stopped container ${short(users[0].Id)}`);
  }
  const names = [...img.names].sort();
  // Kept, untagged, for its containers, a container being created, or the images built on it.
  const keep = async () => {
    for (const n of names) await untag(n);
    await forget();
    return items;
  };
  if (users.length || children.length || leased.has(img.id)) return keep();
  // Its names go with it, in the same write of the index.
  if (!(await store.removeImage(img.id, { unlessInUse: true }))) return keep();
  for (const n of names) {
    items.push({ Untagged: familiarName(n) });
    await nameGone(n);
  }
  await forget();
  items.push({ Deleted: img.id });
  if (!options.noPrune && self) await pruneParents(store, self, all.filter((i) => i.id !== img.id), containers, leased, items);
  return items;
}

/** Deletes `img`'s untagged parents that no other image, no container needs (Docker's quiet prune of parents). */
async function pruneParents(store: Store, img: Image, rest: Image[], containers: ContainerRecord[], leased: Set<string>, items: ImageDeleteItem[]): Promise<void> {
  const used = new Set([...containers.map((c) => c.Image), ...leased]);
  // A parent pulled by digest has a reference (Docker's digest reference): kept, as a named one.
  for (const id of await digestReferencedImages(store)) used.add(id);
  // Nearest parent first: the one with the longest history.
  const parents = rest.filter((p) => isParentImage(p, img)).sort((a, b) => (b.config.history?.length ?? 0) - (a.config.history?.length ?? 0));
  let remaining = rest;
  for (const p of parents) {
    if (p.names.length || used.has(p.id) || remaining.some((c) => isParentImage(p, c))) return;
    if (!(await store.removeImage(p.id, { unlessInUse: true }))) return;
    items.push({ Deleted: p.id });
    remaining = remaining.filter((i) => i.id !== p.id);
  }
}

export interface ImagePruneResult {
  items: ImageDeleteItem[];
  /** Bytes of the layers actually gone, and of the blobs the collection freed. */
  reclaimed: number;
}

/**
 * `image prune`: dangling images (no name, no digest reference, no image built on them), or with `all` every image
 * no container uses; children go before their parents, and a parent stays while an image
 * built on it does. Then the collector frees what nothing holds.
 */
/** `image prune --filter` (filters.ts), TIME read by `parseTime`. */
export function imagePruneFilter(filters: string[], parseTime: (text: string) => bigint): (img: Image) => boolean {
  return pruneFilter('image', filters, parseTime, (img: Image) => ({ created: img.config.created, labels: img.config.config?.Labels }));
}

export async function pruneImages(store: Store, all: boolean, containers: ContainerRecord[], accept: (img: Image) => boolean = () => true): Promise<ImagePruneResult> {
  const used = new Set([...containers.map((c) => c.Image), ...(await leasedImages(store.root))]);
  // An image with a digest reference (pulled by digest) is not dangling, as Docker's.
  const digested = await digestReferencedImages(store);
  const items: ImageDeleteItem[] = [];
  let reclaimed = 0;
  let remaining = await readableImages(store);
  const order = [...remaining].sort((a, b) => (b.config.history?.length ?? 0) - (a.config.history?.length ?? 0));
  for (const img of order) {
    if (used.has(img.id) || (!all && (img.names.length > 0 || digested.has(img.id))) || !accept(img)) continue;
    if (remaining.some((c) => isParentImage(img, c))) continue;
    // Its names go with it, in the same write of the index; in use by now (decided under the lock): passed by.
    if (!(await store.removeImage(img.id, { unlessInUse: true }))) continue;
    for (const n of [...img.names].sort()) items.push({ Untagged: familiarName(n) });
    for (const d of await forgetRepoDigests(store, img.id)) items.push({ Untagged: familiarName(d) });
    items.push({ Deleted: img.id });
    remaining = remaining.filter((i) => i.id !== img.id);
    // As Docker: the space of the layers actually gone (shared ones stay with other images).
    const layers = img.manifest.layers.map((d, i) => ({ diffId: img.config.rootfs.diff_ids[i] ?? d.digest, size: d.size }));
    for (const l of layers) if (!(await store.hasLayer(l.diffId))) reclaimed += l.size;
  }
  reclaimed += await store.collectGarbage();
  return { items, reclaimed };
}
