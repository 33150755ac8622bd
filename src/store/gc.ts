// The store's one garbage collector: what is live is computed here, once, for every command
// that frees space (rmi, image prune, cache prune, system prune). Live is what any of these
// holds:
//   - the index's images (tags and untagged entries): manifests, configs, layer blobs, diff_ids;
//   - the build cache's entries: their layers;
//   - containers: their image (config) and the layers their root is made of;
//   - leases of commands in progress (a build's base images and layers; what a load, pull or
//     commit imports, fetches or reuses until the index names its image; leases.ts);
//   - what the caller names in `keep`;
//   - a live layer that is still packed (layer-packed.ts): its compressed blob.
// Whatever else is in blobs/ or layers/ is garbage, except what was written or reused within
// `minAgeMs` (a load or pull in progress writes blobs before the index names them).
import fs from 'node:fs/promises';
import type { BlobStore } from './blobs.js';
import { cachedLayers } from './cache-index.js';
import { ContainerStore } from './containers.js';
import { isDigest } from './digest.js';
import type { OciIndex } from './index-file.js';
import type { LayerStore } from './layers.js';
import { leasedDigests, leasedImages, leasesDir } from './leases.js';
import { removeDeadTemps } from './leftovers.js';
import type { Digest, ImageConfig, Manifest } from './types.js';

/** What the collector works on: the store's parts (store.ts passes itself). */
export interface GcTarget {
  readonly root: string;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
}

export interface GcOptions {
  /** Digests to keep besides what is live (e.g. an image being removed while it is read). */
  keepLayers?: Iterable<Digest>;
  /**
   * removeImage only: leave the image as it is when it is in use (imagesInUse), decided under
   * the store lock, so that a container or lease that appeared since the caller looked still
   * finds its image (rmi, prune).
   */
  unlessInUse?: boolean;
  /** collectGarbage spares blobs and layers written or reused more recently than this (default 1 hour). */
  minAgeMs?: number;
}

/**
 * Every blob and layer the index's images refer to: manifests, configs, the manifests' layer
 * blobs (a pulled image's compressed ones) and the configs' diff_ids (layers).
 */
export async function referencedBlobs(blobs: BlobStore, idx: OciIndex): Promise<Set<Digest>> {
  const used = new Set<Digest>();
  for (const d of idx.manifests) {
    if (used.has(d.digest)) continue;
    used.add(d.digest);
    const m = await blobs.readJson<Manifest>(d.digest).catch(() => undefined);
    if (!m) continue;
    for (const l of m.layers ?? []) if (isDigest(l.digest)) used.add(l.digest);
    if (!isDigest(m.config?.digest)) continue;
    used.add(m.config.digest);
    const cfg = await blobs.readJson<ImageConfig>(m.config.digest).catch(() => undefined);
    for (const diffId of cfg?.rootfs?.diff_ids ?? []) if (isDigest(diffId)) used.add(diffId);
  }
  return used;
}

/**
 * Digests that containers hold: their image's config and their root's layers. A record that
 * cannot be read throws (DamagedError): what it holds is unknown, so nothing may be collected.
 */
export async function containerDigests(root: string): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  for (const c of await new ContainerStore(root).list()) {
    if (isDigest(c.Image)) out.add(c.Image);
    for (const l of c.Strata?.layers ?? []) if (isDigest(l)) out.add(l);
  }
  return out;
}

/**
 * The images in use: each container's image, and each image a lease uses as a container does
 * (a container being created: leases.ts use()). rmi and prune keep these images, untagged at
 * most (Docker keeps a container's image). A record that cannot be read throws, as above.
 */
export async function imagesInUse(root: string): Promise<Set<Digest>> {
  const out = await leasedImages(root);
  for (const c of await new ContainerStore(root).list()) if (isDigest(c.Image)) out.add(c.Image);
  return out;
}

/**
 * Every digest (blob or layer) that is live in the store whose index is `idx`. Call it under
 * the store lock, so that no lease or image is added between this and the removals.
 */
export async function liveDigests(target: GcTarget, idx: OciIndex, keep: Iterable<Digest> = []): Promise<Set<Digest>> {
  const live = await referencedBlobs(target.blobs, idx);
  const add = (ds: Iterable<Digest>) => {
    for (const d of ds) live.add(d);
  };
  add(keep);
  add(await cachedLayers(target.root));
  add(await containerDigests(target.root));
  add(await leasedDigests(target.root));
  await removeDeadTemps(leasesDir(target.root));
  // A packed layer's compressed blob is its only copy: live with the layer.
  for (const [diffId, blob] of await target.layers.packedSources()) if (live.has(diffId)) live.add(blob);
  return live;
}

/**
 * Removes every blob and layer that is not live and not young. Returns the bytes freed. The
 * caller holds the store lock and passes the index it read under it.
 */
export async function sweep(target: GcTarget, idx: OciIndex, options: GcOptions = {}): Promise<number> {
  const live = await liveDigests(target, idx, options.keepLayers);
  const cutoff = Date.now() - (options.minAgeMs ?? 3_600_000);
  const young = async (p: string) => ((await fs.lstat(p).catch(() => undefined))?.mtimeMs ?? 0) > cutoff;
  let freed = 0;
  for (const d of await target.blobs.list()) {
    if (live.has(d) || (await young(target.blobs.path(d)))) continue;
    freed += await target.blobs.size(d).catch(() => 0);
    await target.blobs.remove(d);
  }
  for (const d of await target.layers.list()) {
    if (live.has(d) || (await target.layers.mtimeMs(d)) > cutoff) continue;
    freed += await target.layers.size(d).catch(() => 0);
    await target.layers.remove(d);
  }
  return freed;
}
