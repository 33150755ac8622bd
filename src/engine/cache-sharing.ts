// What `--cache-from` / `--cache-to` add to a build, in one place for the Builder: the shared
// cache the build looks steps up in, the store view that fetches imported layers when they are
// needed, and after the build the warnings about caches that could not be used and the export.
import type { BuildEvent, PreparedStage, StepParent } from '../builder/index.js';
import { openStepCache, push, pushAssembled, type RegistryOptions } from '../registry/index.js';
import type { Image, Store } from '../store/index.js';
import type { LocalBuildCache } from './build-cache.js';
import { exportCache, stepSlots } from './cache-export.js';
import type { CacheSpec } from './cache-spec.js';
import { CacheAhead } from './cache-ahead.js';
import { SharedBuildCache } from './shared-cache.js';

export interface CacheSharingRequest {
  tags?: string[];
  /** Caches to import steps from, asked in order after the local one. */
  cacheFrom?: CacheSpec[];
  /** Caches to export the build's steps to (mode=min unless said). */
  cacheTo?: CacheSpec[];
  /**
   * Push the image to its names after the build (and the cache export). With a shared cache, an
   * image whose layers are partly only in an imported registry cache is pushed without being
   * written to the store, those layers mounted from the cache: nothing is downloaded; without
   * one, the Builder pushes it as an image output (type=image,push=true).
   */
  push?: boolean;
  /** How registries are reached (config, TLS, credentials). */
  registry?: RegistryOptions;
}

export class CacheSharing {
  private stages: PreparedStage[] = [];

  private constructor(readonly cache: SharedBuildCache, private readonly request: CacheSharingRequest, private readonly store: Store) {}

  /** Undefined when the request shares nothing. Bad specs fail here, before any work. */
  static open(request: CacheSharingRequest, local: LocalBuildCache, store: Store): CacheSharing | undefined {
    if (!request.cacheFrom?.length && !request.cacheTo?.length) return undefined;
    const sources = (request.cacheFrom ?? []).map((s) => openStepCache(s, request.registry));
    for (const s of request.cacheTo ?? []) openStepCache(s, request.registry);
    const cache = new SharedBuildCache(local, sources, store);
    cache.pushOnly = !!request.push;
    return new CacheSharing(cache, request, store);
  }

  /**
   * What to tell of each step's parent while the build prepares its steps: the layers an
   * imported cache likely holds for them start downloading then (cache-ahead.ts). Not with
   * --push, which downloads nothing.
   */
  stepParents(dockerfileName: string): ((p: StepParent) => void) | undefined {
    if (this.request.push || !this.cache.sources.length) return undefined;
    const ahead = new CacheAhead(this.cache.sources, this.store, dockerfileName);
    this.cache.ahead = ahead;
    return (p) => ahead.stepParent(p);
  }

  /** The build's steps, once prepared (before any executes). */
  prepared(stages: PreparedStage[], dockerfileName: string): void {
    this.stages = stages;
    this.cache.steps = stepSlots(stages, dockerfileName);
    this.cache.ahead?.keysKnown(new Set(this.cache.steps.keys()));
  }

  /** After the build, whether it succeeded or not: what was fetched ahead and not used is removed. */
  async close(): Promise<void> {
    await this.cache.ahead?.close();
  }

  /** After the image is written: where steps were found, warnings, then each --cache-to written. */
  async finish(onEvent: (e: BuildEvent) => void): Promise<void> {
    const hits = new Map<string, number>();
    for (const key of this.cache.steps.keys()) {
      const name = this.cache.foundElsewhere(key)?.cache.name;
      if (name) hits.set(name, (hits.get(name) ?? 0) + 1);
    }
    for (const [name, n] of hits) onEvent({ type: 'info', message: `imported cache from ${name}: ${n} step${n === 1 ? '' : 's'} found there` });
    for (const w of this.cache.warnings) onEvent({ type: 'warning', message: w });
    const targets = (this.request.cacheTo ?? []).map((s) => ({ cache: openStepCache(s, this.request.registry), mode: s.mode ?? 'min' as const }));
    if (!targets.length) return;
    const results = await exportCache({ targets, stages: this.stages, shared: this.cache, store: this.store, slots: this.cache.steps });
    for (const r of results) onEvent({ type: 'info', message: `exporting cache to ${r.cache}: ${r.written} written, ${r.present} already there` });
  }

  /** `push`: the image to each of its names (after the export, so that its layers can be mounted from the cache). */
  async push(image: Image, onEvent: (e: BuildEvent) => void): Promise<void> {
    if (!this.request.push) return;
    const o = { ...this.request.registry, store: this.store };
    const assembled = this.cache.assembled?.image.id === image.id ? this.cache.assembled : undefined;
    for (const name of image.names) {
      if (assembled) {
        const r = await pushAssembled(name, assembled.parts, o);
        onEvent({ type: 'info', message: `pushed ${r.reference}: digest: ${r.digest} (${r.mounted} layers mounted; the image is not loaded here)` });
      } else {
        const r = await push(name, o);
        onEvent({ type: 'info', message: `pushed ${r.reference}: digest: ${r.digest}` });
      }
    }
  }
}
