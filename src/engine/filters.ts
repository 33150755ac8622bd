// Docker's --filter values shared by several listings: a label filter, and the prune filters.
import { StrataError } from '../errors.js';
import { parseSince } from '../runtime/index.js';
import type { NetworkRecord } from '../store/index.js';

/** Docker's `label=KEY` (the key is set) or `label=KEY=VALUE` (it has that value) against a label map. */
export function labelMatches(labels: Record<string, string> | null | undefined, want: string): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels ?? {}, want);
  const key = want.slice(0, eq);
  return Object.hasOwn(labels ?? {}, key) && labels![key] === want.slice(eq + 1);
}

/** What a prune filter looks at in an item. */
export interface PruneSubject {
  created: string | undefined;
  labels: Record<string, string> | null | undefined;
}

/**
 * `COMMAND prune --filter`: until=TIME (created before it; TIME read by `parseTime`, the logs'
 * --since rules), label=K[=V] and label!=K[=V]; all must hold.
 */
export function pruneFilter<T>(command: string, filters: string[], parseTime: (text: string) => bigint, subject: (item: T) => PruneSubject): (item: T) => boolean {
  const tests = filters.map((f): ((item: T) => boolean) => {
    const m = /^(until|label!?)=(.*)$/.exec(f);
    if (!m) throw new StrataError(`invalid filter "${f.split('=')[0]}": ${command} prune supports until, label, label!`);
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'until') {
      const cutoff = parseTime(value);
      return (item) => BigInt(Date.parse(subject(item).created ?? '') || 0) * 1_000_000n < cutoff;
    }
    const has = (item: T) => labelMatches(subject(item).labels, value);
    return key === 'label' ? has : (item) => !has(item);
  });
  return (item) => tests.every((t) => t(item));
}

/** `network prune --filter`: until=TIME (created before it), label=K[=V], label!=K[=V]. */
export function networkPruneFilter(filters: string[], nowNs?: bigint): (net: NetworkRecord) => boolean {
  return pruneFilter('network', filters, (text) => parseSince(text, nowNs, 'until'), (n: NetworkRecord) => ({ created: n.Created, labels: n.Labels }));
}
