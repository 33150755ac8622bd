// Go's duration text (time.ParseDuration: "1m30s", "500ms"), as Docker's flags and HEALTHCHECK's
// options take it.

/** Go duration text ("1m30s", "500ms") to nanoseconds. */
export function parseDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  // Go takes the micro sign (U+00B5) and the Greek mu (U+03BC) for microseconds; written as
  // escapes, so the bundles stay ASCII (scripts/bundle-cli.mjs).
  const units: Record<string, number> = { ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let rest = text;
  if (rest === '0') return 0;
  while (rest) {
    const m = /^([0-9]*\.?[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`invalid duration for --${flag}: "${text}"`);
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** What Go's time.ParseDuration says of TEXT it refuses (its units are each whole run of letters). */
function durationProblem(text: string): string {
  let rest = text.replace(/^[-+]/, '');
  while (rest) {
    const m = /^(\d*\.?\d*)([^\d.]*)/.exec(rest)!;
    if (!/\d/.test(m[1]!)) break;
    if (!m[2]) return `time: missing unit in duration "${text}"`;
    if (!/^(ns|us|\u00b5s|\u03bcs|ms|s|m|h)$/.test(m[2])) return `time: unknown unit "${m[2]}" in duration "${text}"`;
    rest = rest.slice(m[0].length);
  }
  return `time: invalid duration "${text}"`;
}

/** Go's time.ParseDuration: signed nanoseconds; what it refuses throws its own words (`time: invalid duration "x"`). */
export function parseGoDuration(text: string): number {
  const sign = /^[-+]/.test(text) ? text[0] : '';
  let ns: number | undefined;
  try {
    if (text.length > sign.length) ns = parseDuration(text.slice(sign.length), 'duration');
  } catch {
    // worded below
  }
  if (ns === undefined) throw new Error(durationProblem(text));
  return sign === '-' ? -ns : ns;
}

/** Go's time.Duration.String of NS nanoseconds: "0s", "500ms", "1.5µs", "2s", "1m30s", "1h0m0.5s". */
export function formatDuration(ns: number): string {
  const neg = ns < 0;
  let u = BigInt(Math.round(Math.abs(ns)));
  // The last PREC digits of U as a fraction without its trailing zeros ("" when all are zero), and U without them.
  const frac = (prec: number): string => {
    let digits = '';
    for (let i = 0; i < prec; i++) {
      const d = u % 10n;
      if (digits || d !== 0n) digits = `${d}${digits}`;
      u /= 10n;
    }
    return digits ? `.${digits}` : '';
  };
  // Under a second: one unit with a fraction; else hours, minutes and seconds (with a fraction).
  const unit = (prec: number, name: string): string => {
    const f = frac(prec);
    return `${u}${f}${name}`;
  };
  let text: string;
  if (u === 0n) text = '0s';
  else if (u < 1_000n) text = `${u}ns`;
  else if (u < 1_000_000n) text = unit(3, 'µs');
  else if (u < 1_000_000_000n) text = unit(6, 'ms');
  else {
    const f = frac(9); // u: whole seconds now
    const sec = `${u % 60n}${f}s`;
    const [m, h] = [(u / 60n) % 60n, u / 3600n];
    text = h > 0n ? `${h}h${m}m${sec}` : m > 0n ? `${m}m${sec}` : sec;
  }
  return neg ? `-${text}` : text;
}
