// Which build cache entries a prune drops (Docker's `builder prune` policy): without --all
// only those whose layer no image uses; with until=D only those unused for D; with
// --keep-storage the least recently used first, until what is left fits.
import type { CacheEntry, CachePrunePolicy } from './build-cache.js';
import { compareBytes } from '../sort-order.js';

export function selectPrunable(entries: CacheEntry[], o: CachePrunePolicy): CacheEntry[] {
  const now = o.now ?? Date.now();
  let candidates = entries.filter((e) => o.all || !e.layer || !o.imageLayers?.has(e.layer));
  if (o.until !== undefined) candidates = candidates.filter((e) => now - Date.parse(e.lastUsed) >= o.until!);
  if (o.keepStorage === undefined) return candidates;
  let total = entries.reduce((n, e) => n + e.size, 0);
  const chosen: CacheEntry[] = [];
  for (const e of [...candidates].sort((a, b) => compareBytes(a.lastUsed, b.lastUsed))) {
    if (total <= o.keepStorage) break;
    chosen.push(e);
    total -= e.size;
  }
  return chosen;
}
