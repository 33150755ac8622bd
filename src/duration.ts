// Go's duration text (time.ParseDuration: "1m30s", "500ms"), as Docker's flags and HEALTHCHECK's
// options take it.

/** Go duration text ("1m30s", "500ms") to nanoseconds. */
export function parseDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let rest = text;
  if (rest === '0') return 0;
  while (rest) {
    const m = /^([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`invalid duration for --${flag}: "${text}"`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}
