// `network ls --filter`, as Docker's daemon filters its network list (daemon/network/filter.go):
// values of one key are alternatives, keys all hold; name and id match as Go's filters.Args.Match
// (the value itself, or a regular expression found anywhere in it), label as MatchKVList (every
// label given), driver and scope exactly, type builtin|custom, dangling true|false.
import { StrataError } from '../../errors.js';
import { filterArgs, filterBool, filterMatches, labelMatches } from '../../go-filters.js';

/** What a network ls filter looks at: a row of the listing and whether containers use it. */
export interface FilterableNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Labels: Record<string, string>;
}

/** Docker's predefined networks (runconfig.IsPreDefinedNetwork): `type=builtin`, never dangling. */
const PREDEFINED = new Set(['bridge', 'host', 'none']);

const KEYS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];

/**
 * The test FILTERS (KEY=VALUE each) make, checked before any work: an unknown key or a bad
 * value is refused with Docker's words. INUSE says whether a running container uses a network
 * (asked only for `dangling`).
 */
export function networkListFilter(filters: string[], inUse: (id: string) => boolean): (n: FilterableNetwork) => boolean {
  const byKey = filterArgs(filters);
  for (const key of byKey.keys()) if (!KEYS.includes(key)) throw new StrataError(`invalid filter "${key}": strata supports ${KEYS.join(', ')}`);
  const tests: ((n: FilterableNetwork) => boolean)[] = [];
  const any = (key: string, test: (value: string, n: FilterableNetwork) => boolean) => {
    const values = byKey.get(key);
    if (values) tests.push((n) => values.some((v) => test(v, n)));
  };
  any('driver', (v, n) => n.Driver === v);
  any('name', (v, n) => filterMatches(v, n.Name));
  any('id', (v, n) => filterMatches(v, n.Id));
  any('scope', (v, n) => n.Scope === v);
  const labels = byKey.get('label');
  if (labels) {
    tests.push((n) => labels.every((v) => labelMatches(n.Labels, v)));
  }
  const dangling = byKey.get('dangling');
  if (dangling) {
    if (dangling.length > 1) throw new StrataError('got more than one value for filter key "dangling"');
    const only = filterBool(dangling[0]!);
    if (only === undefined) throw new StrataError('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    tests.push((n) => (only ? !PREDEFINED.has(n.Name) && !inUse(n.Id) : PREDEFINED.has(n.Name) || inUse(n.Id)));
  }
  const types = byKey.get('type');
  if (types) {
    const bad = types.find((t) => t !== 'builtin' && t !== 'custom');
    if (bad !== undefined) throw new StrataError(`invalid filter: 'type'='${bad}'`);
    tests.push((n) => types.includes(PREDEFINED.has(n.Name) ? 'builtin' : 'custom'));
  }
  return (n) => tests.every((t) => t(n));
}
