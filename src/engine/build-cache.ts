// The BuildCache service: the build cache interface (src/store/build-cache.ts) and its local
// implementation at a state root, with what users do to it beyond building: list, measure,
// prune. Prune decides which entries go (the policy of Docker's `builder prune`); the store's
// garbage collector then frees the layers nothing else holds.
import { readableImages } from './images-rules.js';
import { CacheIndex, openStore, type CacheEntry, type CachePrunePolicy, type CachePruneResult } from '../store/index.js';
import { compareBytes } from '../sort-order.js';

export type {
  BuildCache, CacheEntry, CachePrunePolicy, CachePruneResult, CacheQuery, KeyInputs, MissExplanation, NewCacheEntry,
} from '../store/index.js';

export interface CacheUsage {
  entries: number;
  /** Distinct layers (entries can share one: same content, different keys). */
  layers: number;
  /** Bytes of those layers, each counted once. */
  bytes: number;
}

/** The state root's own build cache: the local index, plus listing, usage and a prune that frees space. */
export class LocalBuildCache extends CacheIndex {
  constructor(readonly stateRoot: string) {
    super(stateRoot);
  }

  /** Entries, most recently used first. */
  override async list(): Promise<CacheEntry[]> {
    return (await super.list()).sort((a, b) => compareBytes(b.lastUsed, a.lastUsed));
  }

  async usage(): Promise<CacheUsage> {
    const entries = await super.list();
    const layers = new Map<string, number>();
    for (const e of entries) if (e.layer) layers.set(e.layer, e.size);
    return { entries: entries.length, layers: layers.size, bytes: [...layers.values()].reduce((n, s) => n + s, 0) };
  }

  /**
   * Drops the entries the policy selects (without `all`, only those whose layer no image
   * uses: the images' layers are found here when the policy does not name them), then lets
   * the store's GC free what no image, container or remaining entry holds.
   */
  override async prune(policy: CachePrunePolicy): Promise<CachePruneResult> {
    const store = await openStore(this.stateRoot);
    // A damaged image does not stop a prune: it holds no layer that could be told.
    const imageLayers = policy.imageLayers ?? new Set((await readableImages(store)).flatMap((i) => i.config.rootfs.diff_ids));
    const { removed } = await super.prune({ ...policy, imageLayers });
    // The one collector keeps what images, containers, remaining entries and builds in progress hold.
    const reclaimed = await store.collectGarbage();
    return { removed, reclaimed };
  }
}
