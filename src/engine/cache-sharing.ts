// What `--cache-from` / `--cache-to` add to a build, in one place for the Builder: the shared
// cache the build looks steps up in, the store view that fetches imported layers when they are
// needed, and after the build the warnings about caches that could not be used and the export.
import type { BuildEvent, PreparedStage } from '../builder/index.js';
import type { RegistryOptions } from '../registry/index.js';
import type { Store } from '../store/index.js';
import type { LocalBuildCache } from './build-cache.js';
import { exportCache, stepSlots } from './cache-export.js';
import { openCacheStore, type CacheSpec } from './cache-spec.js';
import { SharedBuildCache } from './shared-cache.js';

export interface CacheSharingRequest {
  /** Caches to import steps from, asked in order after the local one. */
  cacheFrom?: CacheSpec[];
  /** Caches to export the build's steps to (mode=min unless said). */
  cacheTo?: CacheSpec[];
  /** How registries are reached (config, TLS, credentials). */
  registry?: RegistryOptions;
}

export class CacheSharing {
  private stages: PreparedStage[] = [];

  private constructor(readonly cache: SharedBuildCache, private readonly request: CacheSharingRequest, private readonly store: Store) {}

  /** Undefined when the request shares nothing. Bad specs fail here, before any work. */
  static open(request: CacheSharingRequest, local: LocalBuildCache, store: Store): CacheSharing | undefined {
    if (!request.cacheFrom?.length && !request.cacheTo?.length) return undefined;
    const sources = (request.cacheFrom ?? []).map((s) => openCacheStore(s, request.registry));
    for (const s of request.cacheTo ?? []) openCacheStore(s, request.registry);
    return new CacheSharing(new SharedBuildCache(local, sources, store), request, store);
  }

  /** The build's steps, once prepared (before any executes). */
  prepared(stages: PreparedStage[], dockerfileName: string): void {
    this.stages = stages;
    this.cache.steps = stepSlots(stages, dockerfileName);
  }

  /** After the image is written: warnings, then each --cache-to written. */
  async finish(onEvent: (e: BuildEvent) => void): Promise<void> {
    for (const w of this.cache.warnings) onEvent({ type: 'warning', message: w });
    const targets = (this.request.cacheTo ?? []).map((s) => ({ cache: openCacheStore(s, this.request.registry), mode: s.mode ?? 'min' as const }));
    if (!targets.length) return;
    const results = await exportCache({ targets, stages: this.stages, shared: this.cache, store: this.store, slots: this.cache.steps });
    for (const r of results) onEvent({ type: 'info', message: `exporting cache to ${r.cache}: ${r.written} written, ${r.present} already there` });
  }
}
