// The filters of Docker's daemon (api/types/filters Args): grouped by key, Match for the listings
// whose name or ID filter Docker takes as a regular expression: `network ls`, `volume ls`; and
// the label test every listing shares.

/** The value itself, or a regular expression found anywhere in TEXT; an invalid expression matches nothing. */
export function filterMatches(value: string, text: string): boolean {
  if (value === text) return true;
  try {
    return new RegExp(value).test(text);
  } catch {
    return false;
  }
}

/** KEY=VALUE filter texts grouped by key (Go's filters.Args), each key's values in the order given. */
export function filterArgs(filters: readonly string[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    const [key, value] = eq < 0 ? [f, ''] : [f.slice(0, eq), f.slice(eq + 1)];
    byKey.set(key, [...(byKey.get(key) ?? []), value]);
  }
  return byKey;
}

/** A boolean filter value as the daemon takes one (true or 1, false or 0); undefined for anything else. */
export function filterBool(value: string): boolean | undefined {
  return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : undefined;
}

/** Docker's `label=KEY` (the key is set) or `label=KEY=VALUE` (it has that value) against a label map (own keys only). */
export function labelMatches(labels: Record<string, string> | null | undefined, want: string): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels ?? {}, want);
  const key = want.slice(0, eq);
  return Object.hasOwn(labels ?? {}, key) && labels![key] === want.slice(eq + 1);
}
