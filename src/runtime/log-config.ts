// `--log-driver` and `--log-opt` as Docker's HostConfig.LogConfig, and the limits of a
// container's json-file log that follow from it: json-file (Docker's default, unbounded unless
// max-size is given), local (Docker's local driver keeps 5 files of 20 MB by default; strata
// keeps them in json-file's format) and none (nothing kept; `logs` has nothing to read).
import { StrataError } from '../errors.js';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

/** How the shim keeps a container's output. */
export interface LogLimits {
  /** Rotate the file when it would pass this many bytes (undefined: never). */
  maxSize?: number;
  /** Files kept, the current one included (1: the file is truncated instead; without maxSize, moot: Docker takes it and never rotates). */
  maxFiles: number;
}

const DRIVERS = ['json-file', 'local', 'none'];
const OPTIONS: Record<string, string[]> = { 'json-file': ['max-size', 'max-file'], local: ['max-size', 'max-file'], none: [] };
// Docker reads max-size with go-units' FromHumanSize: decimal units (10k is 10000 bytes).
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

function size(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new StrataError(`invalid value for log opt 'max-size': "${text}"`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** Docker's LogConfig from the flags (`--log-opt KEY=VALUE`...), checked as the drivers check theirs. */
export function parseLogConfig(driver: string | undefined, opts: string[]): LogConfig {
  const type = driver ?? 'json-file';
  if (!DRIVERS.includes(type)) throw new StrataError(`logging driver "${type}" is not supported: strata supports ${DRIVERS.join(', ')}`);
  const config: Record<string, string> = {};
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    if (eq <= 0) throw new StrataError(`invalid log opt "${opt}": it is KEY=VALUE`);
    const key = opt.slice(0, eq);
    if (!OPTIONS[type]!.includes(key)) throw new StrataError(`unknown log opt '${key}' for ${type} log driver`);
    config[key] = opt.slice(eq + 1);
  }
  logLimits({ Type: type, Config: config });
  return { Type: type, Config: config };
}

/** The limits of a container's log (undefined: the driver keeps none). */
export function logLimits(config: LogConfig | undefined): LogLimits | undefined {
  const type = config?.Type ?? 'json-file';
  if (type === 'none') return undefined;
  const opts = config?.Config ?? {};
  const local = type === 'local';
  const maxSize = opts['max-size'] !== undefined ? size(opts['max-size']) : local ? 20 * 1024 ** 2 : undefined;
  let maxFiles = local ? 5 : 1;
  if (opts['max-file'] !== undefined) {
    if (!/^\d+$/.test(opts['max-file']) || Number(opts['max-file']) < 1) throw new StrataError(`invalid value for log opt 'max-file': "${opts['max-file']}": at least 1`);
    maxFiles = Number(opts['max-file']);
  }
  if (maxSize !== undefined && maxSize <= 0) throw new StrataError(`invalid value for log opt 'max-size': "${opts['max-size']}": more than 0`);
  return { maxSize, maxFiles };
}
