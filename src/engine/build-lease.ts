// What a build holds while it runs: its base images (their config, manifest, layer blobs and
// layers) and the layers of the cache entries it reuses or records, in a lease of the store
// (src/store/leases.ts). An `rmi -f` of the base image, an `image prune -a` or a `cache prune
// -a` during the build then untags and drops index entries, but the collector leaves what the
// build stands on; the finished image refers to it, and what nothing refers to goes at the next
// collection. The lease dies with the build's process, even a killed one.
import { StrataError } from '../errors.js';
import { isDigest, Lease, type BuildCache, type CacheEntry, type Image, type Store } from '../store/index.js';

/** The digests an image is made of: what a build using it needs to keep. */
export function imageDigests(image: Image): string[] {
  return [image.id, image.manifestDigest, ...image.manifest.layers.map((l) => l.digest), ...image.config.rootfs.diff_ids].filter(isDigest);
}

/** Leases `image` for the build; fails in one line if it was removed before the lease held it. */
export async function leaseImage(lease: Lease, store: Store, ref: string, image: Image): Promise<Image> {
  const missing = await lease.add(imageDigests(image), async () => {
    for (const [i, d] of image.config.rootfs.diff_ids.entries()) {
      if (!(await store.hasLayer(d))) return d;
      const blob = image.manifest.layers[i]?.digest;
      if (blob && blob !== d && !(await store.blobs.has(blob))) return blob;
    }
    return undefined;
  });
  if (missing) throw new StrataError(`image "${ref}" was removed while the build started (layer "${missing}" is gone): build again`);
  return image;
}

/** `cache` with every entry it finds or records leased (their layers stay while the build runs). */
export function leasedCache(cache: BuildCache, lease: Lease): BuildCache {
  const hold = async (entries: Iterable<CacheEntry>) => {
    const layers = [...entries].map((e) => e.layer).filter((l): l is string => !!l && isDigest(l));
    if (layers.length) await lease.add(layers);
  };
  return {
    name: cache.name,
    async lookup(keys) {
      const found = await cache.lookup(keys);
      // A layer removed before the lease held it is seen missing by the step, which rebuilds it.
      await hold(found.values());
      return found;
    },
    explain: (query) => cache.explain(query),
    inputs: (key) => cache.inputs(key),
    recordInputs: cache.recordInputs ? (key, inputs) => cache.recordInputs!(key, inputs) : undefined,
    async record(entry, inputs) {
      const recorded = await cache.record(entry, inputs);
      await hold([recorded]);
      return recorded;
    },
    used: (steps) => cache.used(steps),
    list: () => cache.list(),
    prune: (policy) => cache.prune(policy),
  };
}
