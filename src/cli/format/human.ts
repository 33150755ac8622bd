// Docker's human-readable sizes and durations (github.com/docker/go-units), reproduced exactly
// so columns read the same: "4.26MB", "2 minutes ago", "About an hour ago".

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision: decimal (1000-based) units, `precision` significant digits. */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${UNITS[i]}`;
}

/** Go's %.Ng for the ranges sizes take (0 <= x < 1000): no trailing zeros, no exponent. */
function formatG(x: number, precision: number): string {
  if (x === 0) return '0';
  const p = x.toPrecision(precision);
  const e = p.indexOf('e');
  if (e < 0) return String(Number(p));
  // Go writes the exponent with a sign and two digits: 999.999 -> "1e+03".
  const exp = Number(p.slice(e + 1));
  return `${Number(p.slice(0, e))}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "2 minutes ago" for a timestamp (ISO string or Date); "N/A" when unknown. */
export function timeAgo(when: string | Date | undefined, now: number = Date.now()): string {
  if (!when) return 'N/A';
  const t = typeof when === 'string' ? Date.parse(when) : when.getTime();
  if (Number.isNaN(t) || t <= 0) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** Go's time.Time.String() in UTC: "2024-01-01 00:00:00 +0000 UTC". */
export function goTime(when: string | Date | undefined): string {
  if (!when) return '';
  const d = typeof when === 'string' ? new Date(when) : when;
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`;
}

/** Go's time.RFC3339 of a Unix time in seconds (UTC, as goTime): "2024-01-01T00:00:00Z". */
export function rfc3339Seconds(when: string | undefined): string {
  const d = new Date(when ?? '');
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Docker's TruncateID: the first 12 hex digits, without "sha256:". */
export function shortId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.slice(0, 12);
}
