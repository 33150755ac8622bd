// The build cache a build with --cache-from sees: the state root's own index first, then each
// imported cache (a registry repository, an OCI layout) in the order given. Every key is known
// before a step runs, so a lookup asks each cache for all the keys still missing at once. A
// step found elsewhere is a hit whose layer stays where it is until a later step must run on it
// (or the image is written): the store handed to the build fetches it then. A miss is
// explained against the entry the imported cache holds for the same parent (or the same step
// of the Dockerfile), in the same words as a local one, naming where that entry lives.
import { createHash } from 'node:crypto';
import { explainMiss, normalizeTag, type BuildCache, type CacheEntry, type CachePrunePolicy, type CachePruneResult, type CacheQuery, type Digest, type Image, type ImageConfig, type ImageStore, type KeyInputs, type LayerInfo, type MissExplanation, type NewCacheEntry, type Store } from '../store/index.js';
import { pointerTag, RegistryCache, type AssembledImage, type FoundEntry, type StepCacheStore } from '../registry/index.js';
import { sha256Digest } from '../hash/index.js';
import { timing } from '../timing.js';
import type { LocalBuildCache } from './build-cache.js';
import { parentPointer, type CacheAhead } from './cache-ahead.js';

/** A step of this build, as the shared cache needs to name it. */
export interface StepSlot {
  slot: string;
  /** The same step of the same Dockerfile on any machine (the slot names local paths). */
  portable: string;
}

interface Found { cache: StepCacheStore; entry: FoundEntry }

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/**
 * The pointer tags an entry moves to itself, in the order a miss looks for the entry to compare
 * with (as the local index's): the same step of the Dockerfile on the same parent, a step of the
 * same kind on that parent, the same step of the Dockerfile on whatever parent.
 */
export function entryPointers(inputs: KeyInputs, portable: string | undefined): string[] {
  const out: string[] = [];
  if (portable) out.push(parentPointer(inputs.parent, portable));
  out.push(pointerTag('k', sha(`${inputs.parent}\0${inputs.type}`)));
  if (portable) out.push(pointerTag('s', portable));
  return out;
}

export class SharedBuildCache implements BuildCache {
  readonly name: string;
  /** Keys found only in an imported cache. */
  private readonly remote = new Map<string, Found>();
  private readonly fetching = new Map<string, Promise<void>>();
  /** This build's steps by key (known once the build is prepared). */
  steps = new Map<string, StepSlot>();
  /**
   * `build --push`: an image with layers only an imported cache holds is not written to the
   * store (that would download them) but assembled here, to be pushed with those layers mounted.
   */
  pushOnly = false;
  assembled?: { image: Image; parts: AssembledImage };
  /** Layers being fetched ahead of the lookup (a build that writes its image here). */
  ahead?: CacheAhead;
  /** What went wrong with an imported cache (it is then skipped, as BuildKit's importers are). */
  readonly warnings: string[] = [];

  constructor(readonly local: LocalBuildCache, readonly sources: readonly StepCacheStore[], private readonly store: Store) {
    this.name = ['local', ...sources.map((s) => s.name)].join(', ');
  }

  async lookup(keys: readonly string[]): Promise<Map<string, CacheEntry>> {
    const found = await this.local.lookup(keys);
    // A local entry whose layer left the store is no hit here: an imported cache may have it
    // (if none has, the entry stays, and the executor says its layer was removed).
    const stale = new Map<string, CacheEntry>();
    for (const [k, e] of found) {
      if (e.layer && !(await this.store.hasLayer(e.layer))) {
        stale.set(k, e);
        found.delete(k);
      }
    }
    let missing = keys.filter((k) => !found.has(k));
    for (const cache of this.sources) {
      if (missing.length === 0) break;
      try {
        const present = [...(await cache.present(missing))];
        const entries = await Promise.all(present.map((k) => cache.entry(k)));
        for (const [i, e] of entries.entries()) {
          // An entry must be the one its tag names: a key is never taken from another's manifest.
          if (!e || e.key !== present[i]) continue;
          this.remote.set(e.key, { cache, entry: e });
          found.set(e.key, asCacheEntry(e, this.steps.get(e.key)?.slot ?? ''));
        }
      } catch (err) {
        // Once per cache, however many lookups it failed (a missing tag fails each).
        const w = `cache ${cache.name} not used: ${(err as Error).message}`;
        if (!this.warnings.includes(w)) this.warnings.push(w);
      }
      missing = missing.filter((k) => !found.has(k));
    }
    for (const [k, e] of stale) if (!found.has(k)) found.set(k, e);
    return found;
  }

  /** The entry an imported cache holds for a key this build hit there. */
  foundElsewhere(key: string): Found | undefined {
    return this.remote.get(key);
  }

  async explain(query: CacheQuery): Promise<MissExplanation> {
    const local = await this.local.explain(query).catch(() => undefined);
    if (local?.previous && local.previous.inputs.parent === query.inputs.parent) return local;
    // A local entry of the slot on another parent is as good as a remote one on another parent.
    const tags = entryPointers(query.inputs, this.steps.get(query.key)?.portable).filter((t) => !local?.previous || !t.startsWith('s-'));
    for (const tag of tags) {
      for (const cache of this.sources) {
        try {
          const e = await cache.entry(tag);
          if (!e || e.key === query.key) continue;
          const cfg = await cache.config(e);
          const reason = explainMiss(query.inputs, cfg.inputs, { step: cfg.step, base: query.base });
          // No layer: a COPY must not reuse files from a layer that is not here.
          return { reason: `${reason} since the entry in ${cache.name}`, previous: { entry: { ...asCacheEntry(e, query.slot), layer: undefined }, inputs: cfg.inputs } };
        } catch {
          // An unreadable pointer explains nothing; the next one may.
        }
      }
    }
    return local ?? { reason: explainMiss(query.inputs, undefined) };
  }

  async inputs(key: string): Promise<KeyInputs | undefined> {
    const mine = await this.local.inputs(key);
    if (mine) return mine;
    const r = this.remote.get(key);
    return r ? (await r.cache.config(r.entry)).inputs : undefined;
  }

  recordInputs(key: string, inputs: KeyInputs): Promise<void> {
    return this.local.recordInputs(key, inputs);
  }

  record(entry: NewCacheEntry, inputs: KeyInputs): Promise<CacheEntry> {
    return this.local.record(entry, inputs);
  }

  async used(steps: readonly { key: string; slot: string }[]): Promise<void> {
    // Entries only an imported cache holds (their layer never came here) are not the local index's.
    const local: { key: string; slot: string }[] = [];
    for (const s of steps) if (!this.remote.has(s.key) || this.fetching.has(s.key)) local.push(s);
    await this.local.used(local);
  }

  list(): Promise<CacheEntry[]> {
    return this.local.list();
  }

  prune(policy: CachePrunePolicy): Promise<CachePruneResult> {
    return this.local.prune(policy);
  }

  /** Is the layer one an imported cache holds for this build (so not missing, only not here yet)? */
  holdsLayer(diffId: string): boolean {
    return !!this.foundByLayer(diffId);
  }

  foundByLayer(diffId: string): Found | undefined {
    for (const r of this.remote.values()) if (r.entry.layer?.diffId === diffId) return r;
    return undefined;
  }

  /**
   * Brings a layer an imported cache holds into the store (once, however many ask), and
   * records its entry in the local index, so that the next build finds it here.
   */
  async ensureLayer(diffId: string): Promise<void> {
    if (await this.store.hasLayer(diffId as Digest)) return;
    const r = this.foundByLayer(diffId);
    if (!r) return; // not ours: the store answers for it
    let p = this.fetching.get(r.entry.key);
    if (!p) {
      p = (async () => {
        timing(`shared cache: fetching ${diffId.slice(7, 19)} from ${r.cache.name}`);
        const ahead = await this.ahead?.take(r.cache, r.entry);
        // Fetched ahead is kept if it came through; else (a failed download) fetched as usual.
        if (await ahead?.keep().then(() => true, () => false)) timing(`shared cache: kept ${diffId.slice(7, 19)} fetched ahead`);
        else await r.cache.fetchLayer(this.store, r.entry);
        timing(`shared cache: fetched ${diffId.slice(7, 19)}`);
        const cfg = await r.cache.config(r.entry);
        const e = asCacheEntry(r.entry, this.steps.get(r.entry.key)?.slot ?? '');
        await this.local.record({ key: e.key, parent: e.parent, slot: e.slot, stage: e.stage, step: e.step, layer: e.layer, layerDigest: e.layerDigest, layerMediaType: e.layerMediaType, size: e.size, created: e.created }, cfg.inputs);
      })();
      this.fetching.set(r.entry.key, p);
    }
    await p;
  }

  /** The image as the store would write it (same config bytes: same ID), kept in memory for the push. */
  assemble(config: ImageConfig, layers: LayerInfo[], tags: string[]): Image {
    const cfg: ImageConfig = { ...config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
    const configBytes = Buffer.from(JSON.stringify(cfg));
    const id = sha256Digest(configBytes) as Digest;
    const manifest = {
      schemaVersion: 2 as const, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: configBytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const parts: AssembledImage = {
      configBytes,
      layers: layers.map((l) => {
        const from = this.foundByLayer(l.diffId);
        const mountFrom = from?.cache instanceof RegistryCache ? { registry: from.cache.registry, repository: from.cache.path } : undefined;
        return { ...l, mountFrom, ensureLocal: () => this.ensureLayer(l.diffId) };
      }),
    };
    const image: Image = { id, manifestDigest: sha256Digest(Buffer.from(JSON.stringify(manifest))) as Digest, manifest: manifest as Image['manifest'], config: cfg, names: tags.map(normalizeTag), size: layers.reduce((n, l) => n + l.size, 0) };
    this.assembled = { image, parts };
    return image;
  }

  /**
   * The store as the build sees it: a layer an imported cache holds counts as present, and
   * is fetched when a step must run on it (its path is asked) or the image is written.
   */
  storeView(): ImageStore & { hasLayer(diffId: Digest): Promise<boolean> } {
    const s = this.store;
    return {
      root: s.root,
      resolveImage: (ref) => s.resolveImage(ref),
      listImages: () => s.listImages(),
      findImage: (ref) => s.findImage(ref),
      tag: (id, ref) => s.tag(id, ref),
      untag: (ref) => s.untag(ref),
      removeImage: (id, o) => s.removeImage(id, o),
      createLayerFromDir: (dir, o) => s.createLayerFromDir(dir, o),
      hasLayer: async (d) => this.holdsLayer(d) || s.hasLayer(d),
      layerPath: async (d) => {
        await this.ensureLayer(d);
        return s.layerPath(d);
      },
      layerSize: (d) => s.layerSize(d),
      writeImage: async (config, layers: LayerInfo[], o) => {
        if (this.pushOnly && (await Promise.all(layers.map((l) => s.hasLayer(l.diffId)))).includes(false)) return this.assemble(config, layers, o?.tags ?? []);
        await Promise.all(layers.map((l) => this.ensureLayer(l.diffId)));
        return s.writeImage(config, layers, o);
      },
    };
  }
}

/** An imported entry as the executor reuses it: the layer's blob as that cache keeps it. */
function asCacheEntry(e: FoundEntry, slot: string): CacheEntry {
  return {
    key: e.key, parent: e.parent, slot, stage: e.stage, step: e.step, created: e.created, lastUsed: e.created, hits: 0,
    layer: e.layer?.diffId as Digest | undefined, layerDigest: e.layer?.digest as Digest | undefined, layerMediaType: e.layer?.mediaType,
    size: e.layer?.size ?? 0,
  };
}
