// The cache a `--cache-from` / `--cache-to` spec names: a registry's, or an OCI layout on disk.
import { LayoutCache, RegistryCache, type RegistryOptions, type StepCacheStore } from '../registry/index.js';
import type { CacheSpec } from './cache-spec.js';

/** The cache a spec names. */
export function openCacheStore(spec: CacheSpec, o: RegistryOptions = {}): StepCacheStore {
  return spec.type === 'registry' ? new RegistryCache(spec.ref, o) : new LayoutCache(spec.dir);
}
