// The build cache's boundary (types only): what a builder asks of a cache, whatever keeps it.
// The local index (cache-index.ts) is one implementation; a registry (one small manifest per
// step, tagged by its key) or an OCI layout on disk are others, plugged in without the
// builder changing. A cache deals in keys, entries and the inputs each key hashes: it never
// parses a Dockerfile, but it keeps the inputs so that a miss is explained wherever it lives.
import type { Digest } from './types.js';

/**
 * The inputs a step's cache key hashes (the canonical JSON of this object, sorted keys, with
 * `files` as the digest of its own canonical JSON: builder/cache-key.ts): recorded with the
 * entry, compared field by field to explain a miss.
 */
export interface KeyInputs {
  /** What kind of step: "RUN", "COPY", "ADD", "WORKDIR". */
  type: string;
  /** The previous step's key ("image:<id>" for the first step on an image, "scratch"). */
  parent: string;
  /** The instruction with its variables expanded. */
  instruction: string;
  /** Build args visible to the step (name -> value). */
  args?: Record<string, string>;
  /** The stage's environment at the step ("K=V"). */
  env?: string[];
  /** Other settings that change the result: user, workdir, shell, network, mounts... */
  settings?: Record<string, string>;
  /** Files the step reads from the context: path -> "sha256 mode" ("dir mode", "link -> target"). */
  files?: Record<string, string>;
  /** Keys or image IDs of other stages and images the step reads (COPY --from, mounts). */
  sources?: Record<string, string>;
}

/** A cached step. */
export interface CacheEntry {
  /** The cache key (sha256 hex of the canonical inputs). */
  key: string;
  /** The key of the step it was built on (its inputs' parent); absent in entries of older indexes. */
  parent?: string;
  /** Groups entries of "the same step" across builds (context, Dockerfile, stage, position). */
  slot: string;
  /** Stage name or index, for listings. */
  stage: string;
  /** The instruction, as shown in progress output. */
  step: string;
  /** The layer's diff_id; absent for steps that make no layer. */
  layer?: Digest;
  /** The layer blob's digest where it differs from the diff_id (a compressed blob in a registry). */
  layerDigest?: Digest;
  /** The layer blob's media type where it is not an uncompressed OCI layer. */
  layerMediaType?: string;
  /** Bytes of the layer. */
  size: number;
  /** Image config fields the step set, for a cache that carries them (the local one derives them from the Dockerfile). */
  config?: Record<string, unknown>;
  /** ISO time the step was built; reused as its history time so a warm build gives the same image. */
  created: string;
  lastUsed: string;
  hits: number;
}

/** What record() is given: the entry without its usage counters. */
export type NewCacheEntry = Omit<CacheEntry, 'hits' | 'lastUsed'>;

/** A step as it asks the cache why it missed. */
export interface CacheQuery {
  key: string;
  inputs: KeyInputs;
  slot: string;
  /** The instruction as shown ("RUN make"). */
  step: string;
  /** What the parent stands for when it is not a step: "base image busybox", "stage build". */
  base?: string;
}

/** Why a step missed, and the entry it was compared with (what a COPY may reuse files from). */
export interface MissExplanation {
  reason: string;
  previous?: { entry: CacheEntry; inputs: KeyInputs };
}

/** Which entries prune drops. */
export interface CachePrunePolicy {
  /** Also entries whose layer an image uses (otherwise only those no image needs). */
  all: boolean;
  /** Least recently used first, until what is left takes at most this many bytes. */
  keepStorage?: number;
  /** Only entries not used for this long (ms). */
  until?: number;
  /** Layers some image uses (none when not given). */
  imageLayers?: ReadonlySet<Digest>;
  now?: number;
}

export interface CachePruneResult {
  removed: CacheEntry[];
  /** Bytes freed: by the backend itself, or by the store's GC once the entries are gone. */
  reclaimed: number;
}

export interface BuildCache {
  /** Where the entries live, for messages ("local", "registry.example/app-cache"). */
  readonly name: string;
  /** Entries of many keys at once (a backend may look them up in parallel); a key not found is absent. */
  lookup(keys: readonly string[]): Promise<Map<string, CacheEntry>>;
  /**
   * Why `query` missed: compared with the entry the last build of the same step used (one on
   * the same parent key when there is one, else the nearest), naming the first difference.
   */
  explain(query: CacheQuery): Promise<MissExplanation>;
  /** The inputs a key hashes, as recorded. */
  inputs(key: string): Promise<KeyInputs | undefined>;
  /**
   * Starts storing a key's inputs before its layer exists (e.g. while the layer is packed);
   * record() waits for it. Storing inputs that no entry names yet is harmless.
   */
  recordInputs?(key: string, inputs: KeyInputs): Promise<void>;
  /** Records a built step once its layer is stored; it becomes what the next build of the slot compares with. */
  record(entry: NewCacheEntry, inputs: KeyInputs): Promise<CacheEntry>;
  /** The steps a build reused: hit counts, last-used times, and the entries explain() compares with next. */
  used(steps: readonly { key: string; slot: string }[]): Promise<void>;
  list(): Promise<CacheEntry[]>;
  /** Drops the entries the policy selects (freeing local layers is the store's GC, which may run after). */
  prune(policy: CachePrunePolicy): Promise<CachePruneResult>;
}
