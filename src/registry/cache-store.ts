// Where build-cache entries live outside the state root: a registry repository or an OCI
// layout on disk. Both hold the same entries (cache-format.ts), tagged by cache key; this is
// what the engine's shared cache asks of either.
import type { Store } from '../store/index.js';
import type { FoundEntry, StepConfig, StepEntry } from './cache-format.js';

export interface EntryToWrite {
  store: Store;
  entry: Omit<StepEntry, 'layer'>;
  config: StepConfig;
  /** The step's layer (none for a step that made none). */
  layer?: {
    diffId: string;
    tarSize: number;
    /** The layer's compressed blob when the store keeps one (a layer fetched from a cache). */
    blob?: { digest: string; size: number; mediaType: string };
    /** The entry it was found in elsewhere, when its layer is not local: mounted from there if possible. */
    from?: { cache: StepCacheStore; entry: FoundEntry };
    /** Brings the layer into the store (when it cannot be mounted). */
    ensureLocal(): Promise<void>;
  };
  /** Pointer tags moved to the entry (see pointerTag). */
  pointers: string[];
}

/** A layer being received ahead of need into a temp file, verified as it arrives. */
export interface LayerAhead {
  /** Waits for it and keeps it in the store as fetchLayer would have; rejects when it failed. */
  keep(): Promise<void>;
  /** Stops it (if under way) and removes what it wrote. */
  discard(): Promise<void>;
}

export interface StepCacheStore {
  /** "127.0.0.1:5000/app-cache", or the layout's directory. */
  readonly name: string;
  /** The keys among `keys` that have an entry (asked all at once). */
  present(keys: readonly string[]): Promise<Set<string>>;
  /** The entry a key or pointer tag names, if any. */
  entry(tag: string): Promise<FoundEntry | undefined>;
  /** The entry's config blob: its key inputs and config change. */
  config(e: FoundEntry): Promise<StepConfig>;
  /** Downloads the entry's layer into the store (and keeps its blob there). */
  fetchLayer(store: Store, e: FoundEntry): Promise<void>;
  /**
   * Starts receiving the entry's layer before it is known to be needed (a cache that can:
   * a registry's gzip'ed blob); nothing reaches the store unless it is kept.
   */
  fetchAhead?(store: Store, e: FoundEntry): LayerAhead | undefined;
  /** Writes an entry unless its key has one already (entries are never replaced); then moves the pointers to it. */
  write(w: EntryToWrite): Promise<'written' | 'present'>;
  /** After an export's writes: a cache named with a tag points the tag at the entries written or found. */
  exported?(): Promise<void>;
  /** Every entry (by its key tag). */
  list(): Promise<FoundEntry[]>;
  /** Deletes an entry by its manifest digest (its tags go with it). */
  remove(e: FoundEntry): Promise<void>;
}

/** Runs `fn` over items, at most `limit` at once. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}
