// `strata cache prune --older-than DURATION REG/REPO` (or a layout directory): deletes the
// entries built longer ago than that, each by its manifest digest (its key tag and any
// pointer tag at it go with it). Entries are immutable, so age is the time the step was built.
import type { FoundEntry, RegistryOptions } from '../registry/index.js';
import type { CacheSpec } from './cache-spec.js';

export interface RemotePruneResult {
  removed: FoundEntry[];
  kept: number;
}

export async function pruneSharedCache(spec: CacheSpec, olderThanMs: number, o: RegistryOptions & { now?: number } = {}): Promise<RemotePruneResult> {
  // The registry client under it is loaded by the commands that prune a shared cache only.
  const { openStepCache } = await import('../registry/index.js');
  const cache = openStepCache(spec, o);
  const now = o.now ?? Date.now();
  const entries = await cache.list();
  const old = entries.filter((e) => now - Date.parse(e.created) > olderThanMs);
  // Pointer tags at an old entry go with it; several keys never share a manifest (the key is in it).
  for (const e of old) await cache.remove(e);
  return { removed: old, kept: entries.length - old.length };
}
