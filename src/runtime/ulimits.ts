// `--ulimit NAME=SOFT[:HARD]` as Docker parses it (go-units' ParseUlimit: its names, -1 for
// unlimited, soft <= hard), and the rlimits a container's spec carries: our defaults (see
// bundle.ts: RLIMIT_NOFILE) with the user's limits replacing them by name.
import { StrataError } from '../errors.js';

/** One `--ulimit`, in Docker's HostConfig.Ulimits shape. */
export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/**
 * RLIM_INFINITY (Docker's -1, as uint64): 2^64-1 has no exact JS number, so the spec holds this
 * marker and `specJson` writes the exact digits.
 */
export const RLIM_INFINITY = 'RLIM_INFINITY';

/** An OCI runtime-spec process rlimit. */
export interface Rlimit {
  type: string;
  soft: number | typeof RLIM_INFINITY;
  hard: number | typeof RLIM_INFINITY;
}

/** JSON text of a runtime spec, with RLIM_INFINITY markers as the exact uint64. */
export function specJson(spec: object): string {
  const text = JSON.stringify(spec);
  return text.includes(`"${RLIM_INFINITY}"`) ? text.replaceAll(`"${RLIM_INFINITY}"`, '18446744073709551615') : text;
}

/** Parses a runtime spec's JSON text, the exact uint64 of RLIM_INFINITY back to its marker (specJson's inverse). */
export function parseSpecJson(text: string): unknown {
  return JSON.parse(text.replace(/(?<=[:,[]\s*)18446744073709551615(?=\s*[,}\]])/g, `"${RLIM_INFINITY}"`));
}

/** The names Docker accepts (go-units' ulimitNameMapping). */
export const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

function invalid(text: string, why: string): StrataError {
  return new StrataError(`invalid argument "${text}" for "--ulimit" flag: ${why}`);
}

function limit(text: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw invalid(text, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(text, `strconv.ParseInt: parsing "${value}": value out of range`);
  return n;
}

/** Parses `NAME=SOFT[:HARD]` (the hard limit defaults to the soft one). */
export function parseUlimit(text: string): Ulimit {
  const eq = text.indexOf('=');
  if (eq < 0) throw invalid(text, `invalid ulimit argument: ${text}`);
  const name = text.slice(0, eq);
  if (!ULIMIT_NAMES.includes(name)) throw invalid(text, `invalid ulimit type: ${name}`);
  const values = text.slice(eq + 1).split(':');
  if (values.length > 2) throw invalid(text, `too many limit value arguments - ${text.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const soft = limit(text, values[0]!);
  const hard = values.length === 2 ? limit(text, values[1]!) : soft;
  if (hard !== -1 && soft > hard) throw invalid(text, `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Hard: hard, Soft: soft };
}

/** Several `--ulimit` flags: a later one for the same name replaces the earlier, as Docker's. */
export function parseUlimits(texts: string[]): Ulimit[] {
  const byName = new Map<string, Ulimit>();
  for (const t of texts) {
    const u = parseUlimit(t);
    byName.set(u.Name, u);
  }
  return [...byName.values()];
}

const asRlimit = (v: number): Rlimit['soft'] => (v < 0 ? RLIM_INFINITY : v);

/** The spec's rlimits: `defaults`, each replaced by the user's limit of the same type, then the user's others. */
export function mergeRlimits(defaults: Rlimit[], ulimits: Ulimit[] = []): Rlimit[] {
  const user = ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: asRlimit(u.Soft), hard: asRlimit(u.Hard) }));
  const types = new Set(user.map((r) => r.type));
  return [...defaults.filter((d) => !types.has(d.type)), ...user];
}
