// The step cache a `--cache-from` / `--cache-to` value names: a registry repository's, or an
// OCI image layout directory's.
import { LayoutCache } from './cache-layout.js';
import { RegistryCache } from './cache-registry.js';
import type { StepCacheStore } from './cache-store.js';
import type { RegistryOptions } from './endpoints.js';

/** What names a step cache (the engine's CacheSpec is one). */
export type StepCacheSpec = { type: 'registry'; ref: string } | { type: 'local'; dir: string };

/** The cache `spec` names; an invalid registry reference throws a StrataError at once. */
export function openStepCache(spec: StepCacheSpec, o: RegistryOptions = {}): StepCacheStore {
  return spec.type === 'registry' ? new RegistryCache(spec.ref, o) : new LayoutCache(spec.dir);
}
