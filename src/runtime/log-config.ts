// `--log-driver` and `--log-opt` as Docker's HostConfig.LogConfig, and the limits of a
// container's json-file log that follow from it: json-file (Docker's default, unbounded unless
// max-size is given; `compress` gzips the rotated files), local (Docker's local driver keeps 5 files of 20 MB by default,
// its rotated files compressed unless `compress=false`; strata keeps them in json-file's format) and none (nothing kept;
// `logs` has nothing to read).
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
  /** `compress` (json-file's, local's by default): each rotated file gzipped (FILE.1.gz ...). */
  compress?: boolean;
}

const DRIVERS = ['json-file', 'local', 'none'];
// json-file's attributes options (labels, env, tag: what `logs --details` shows) as Docker's json-file driver's.
const OPTIONS: Record<string, string[]> = { 'json-file': ['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'], local: ['max-size', 'max-file', 'compress'], none: [] };
// Docker reads max-size with go-units' FromHumanSize: decimal units (10k is 10000 bytes).
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

function size(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new StrataError(`invalid size: '${text}'`);
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
    if (key.endsWith('-regex')) {
      try {
        new RegExp(config[key]!);
      } catch {
        throw new StrataError(`invalid value for log opt '${key}': "${config[key]}" is not a regular expression`);
      }
    }
  }
  logLimits({ Type: type, Config: config });
  return { Type: type, Config: config };
}

/** Go's strconv.ParseBool. */
function parseBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new StrataError(`strconv.ParseBool: parsing "${text}": invalid syntax`);
}

/** The limits of a container's log (undefined: the driver keeps none), checked with the words of moby's json-file driver (jsonfilelog.New). */
export function logLimits(config: LogConfig | undefined): LogLimits | undefined {
  const type = config?.Type ?? 'json-file';
  if (type === 'none') return undefined;
  const opts = config?.Config ?? {};
  const local = type === 'local';
  const maxSize = opts['max-size'] !== undefined ? size(opts['max-size']) : local ? 20 * 1024 ** 2 : undefined;
  if (maxSize !== undefined && maxSize <= 0) throw new StrataError('max-size must be a positive number');
  let maxFiles = local ? 5 : 1;
  if (opts['max-file'] !== undefined) {
    if (!/^[-+]?\d+$/.test(opts['max-file'])) throw new StrataError(`strconv.Atoi: parsing "${opts['max-file']}": invalid syntax`);
    maxFiles = Number(opts['max-file']);
    if (maxFiles < 1) throw new StrataError('max-file cannot be less than 1');
  }
  // Docker's local driver compresses by default (its words when that cannot be: local/config.go).
  const compress = opts.compress !== undefined ? parseBool(opts.compress) : local;
  if (local && compress && maxFiles <= 1) throw new StrataError('compression cannot be enabled when max file count is 1');
  if (compress && (maxFiles === 1 || maxSize === undefined)) throw new StrataError('compress cannot be true when max-file is less than 2 or max-size is not set');
  return compress ? { maxSize, maxFiles, compress } : { maxSize, maxFiles };
}

/** What a container's log attributes are made of (Docker's logger.Info). */
export interface LogInfo {
  config: LogConfig | undefined;
  id: string;
  /** With or without Docker's leading slash. */
  name: string;
  /** "sha256:..." */
  imageId: string;
  imageName: string;
  labels: Record<string, string> | null | undefined;
  env: string[] | null | undefined;
}

/**
 * The extra attributes of each log entry, as Docker's json-file driver records them
 * (logger.Info.ExtraAttributes, plus `tag` when given): the labels named by `labels` or matched
 * by `labels-regex`, the environment variables named by `env` or matched by `env-regex`.
 * `logs --details` prints them before each line.
 */
export function logAttributes(info: LogInfo): Record<string, string> {
  const opts = info.config?.Type === undefined || info.config.Type === 'json-file' ? info.config?.Config ?? {} : {};
  const out: Record<string, string> = {};
  const labels = info.labels ?? {};
  for (const key of (opts.labels ?? '').split(',')) if (key && Object.hasOwn(labels, key)) out[key] = labels[key]!;
  if (opts['labels-regex']) {
    const re = new RegExp(opts['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) out[k] = v;
  }
  const env = new Map<string, string>();
  for (const e of info.env ?? []) {
    const eq = e.indexOf('=');
    if (eq >= 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  for (const key of (opts.env ?? '').split(',')) if (key && env.has(key)) out[key] = env.get(key)!;
  if (opts['env-regex']) {
    const re = new RegExp(opts['env-regex']);
    for (const [k, v] of env) if (re.test(k)) out[k] = v;
  }
  if (opts.tag) out.tag = logTag(opts.tag, info);
  return out;
}

/** The `tag` option's template with logger.Info's fields ({{.ID}}, {{.Name}}, ...) filled in. */
function logTag(template: string, info: LogInfo): string {
  const fields: Record<string, string> = {
    ID: info.id.slice(0, 12), FullID: info.id, Name: info.name.replace(/^\//, ''),
    ImageID: info.imageId.replace(/^sha256:/, '').slice(0, 12), ImageFullID: info.imageId, ImageName: info.imageName, DaemonName: 'strata',
  };
  return template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (whole, field: string) => fields[field] ?? whole);
}
