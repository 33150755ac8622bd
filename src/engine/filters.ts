// Docker's --filter values shared by several listings: a label filter (go-filters.ts, where the
// runtime's listings take it too), and the prune filters.
import { StrataError } from '../errors.js';
import { labelMatches } from '../go-filters.js';

export { labelMatches } from '../go-filters.js';

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
