// `network prune --filter` (also `system prune`'s networks): Docker's prune filters on a
// network record. Apart from filters.ts, which the image and volume listings load without the
// runtime (its time parser is the logs' one).
import { parseSince } from '../runtime/index.js';
import type { NetworkRecord } from '../store/index.js';
import { pruneFilter } from './filters.js';

/** until=TIME (created before it), label=K[=V], label!=K[=V]. */
export function networkPruneFilter(filters: string[], nowNs?: bigint): (net: NetworkRecord) => boolean {
  return pruneFilter('network', filters, (text) => parseSince(text, nowNs, 'until'), (n: NetworkRecord) => ({ created: n.Created, labels: n.Labels }));
}
