// Container mounts from the user's flags: `-v`, `--mount`, `--volumes-from` and the image's
// VOLUMEs become plain-data MountRequests, saved with the container at creation, and turned
// into runtime MountSpecs at every start (named volumes to their _data dirs, bind sources
// re-verified, anonymous volumes filled from the image on first use as Docker does).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StrataError } from '../../errors.js';
import { checkVolumeOptions, createVolume, findVolume, makeTempDirSync, sweepVolumeAsides, type ContainerRecord } from '../../store/index.js';
import type { MountSpec } from '../types.js';
import { copyUpTarget, csvFields, verifyNoSymlinks, volumeMountSpec } from './volume-mounts.js';

export type MountRequest =
  | { type: 'bind'; source: string; destination: string; readonly: boolean }
  | {
    type: 'volume'; name: string; destination: string; readonly: boolean; anonymous: boolean; copy: boolean;
    /** --mount's volume-opt and volume-label: what the volume is made with when there is none of that name (Docker's). */
    driverOptions?: Record<string, string>; labels?: Record<string, string>;
  }
  | { type: 'tmpfs'; destination: string; options: string[] };

function destinationOf(spec: string, dst: string | undefined): string {
  if (!dst) throw new StrataError(`invalid mount spec "${spec}": no container path`);
  if (!path.isAbsolute(dst)) throw new StrataError(`invalid mount spec "${spec}": container path "${dst}" is not absolute`);
  const clean = path.posix.normalize(dst);
  if (clean === '/') throw new StrataError(`invalid mount spec "${spec}": cannot mount over "/"`);
  return clean.replace(/\/$/, '');
}

/**
 * Resolves a bind source on the host once, at creation: component by component with lstat
 * (each symlink followed explicitly), so the saved path has no symlink left in it.
 */
export function resolveBindSource(spec: string, source: string, options: { create: boolean; cwd: string }): string {
  const abs = path.resolve(options.cwd, source);
  if (!fs.existsSync(abs)) {
    if (!options.create) throw new StrataError(`invalid mount spec "${spec}": bind source path does not exist: ${abs}`);
    fs.mkdirSync(abs, { recursive: true, mode: 0o755 });
  }
  const real = fs.realpathSync(abs);
  verifyNoSymlinks(real);
  return real;
}

function readonlyOpt(spec: string, opts: string[]): boolean {
  let ro = false;
  for (const o of opts) {
    if (o === 'ro') ro = true;
    else if (o === 'rw' || o === 'z' || o === 'Z' || o === 'nocopy' || o === '') continue;
    else throw new StrataError(`invalid mount spec "${spec}": unknown option "${o}"`);
  }
  return ro;
}

/** `-v /host:/ctr[:ro]`, `-v name:/ctr[:ro]`, `-v /ctr` (anonymous). */
export function parseVolumeFlag(spec: string, cwd: string): MountRequest {
  const parts = spec.split(':');
  if (parts.length === 1) return { type: 'volume', name: '', destination: destinationOf(spec, parts[0]), readonly: false, anonymous: true, copy: true };
  if (parts.length > 3) throw new StrataError(`invalid mount spec "${spec}": too many colons`);
  const [src, dst, opt = ''] = parts as [string, string, string?];
  const opts = opt.split(',');
  const readonly = readonlyOpt(spec, opts);
  const destination = destinationOf(spec, dst);
  if (!src) throw new StrataError(`invalid mount spec "${spec}": empty source`);
  if (src.startsWith('/') || src.startsWith('.') || src.startsWith('~')) {
    return { type: 'bind', source: resolveBindSource(spec, src.replace(/^~(?=\/|$)/, os.homedir()), { create: true, cwd }), destination, readonly };
  }
  return { type: 'volume', name: src, destination, readonly, anonymous: false, copy: !opts.includes('nocopy') };
}

/** The keys of Docker's --mount (docker/cli opts/mount.go); `true` for those strata does. */
const MOUNT_KEYS: Record<string, boolean> = {
  type: true, src: true, source: true, dst: true, destination: true, target: true, readonly: true, ro: true,
  // Docker ignores it on Linux (a macOS file-sharing hint), so do we.
  consistency: true,
  'volume-nocopy': true, 'tmpfs-size': true, 'tmpfs-mode': true,
  'bind-propagation': false, 'bind-nonrecursive': false, 'bind-recursive': false,
  'volume-driver': true, 'volume-label': true, 'volume-opt': true,
  'volume-subpath': false, 'image-subpath': false,
};
/** Keys that may stand alone, meaning "true" (Docker's bool options). */
const BOOL_KEYS = new Set(['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive']);

/** Go's strconv.ParseBool, which Docker reads these options with. */
function mountBool(spec: string, key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new StrataError(`invalid mount spec "${spec}": invalid value for "${key}": "${value}"`);
}

/** KEY=VALUE (a bare KEY is KEY=""), as docker/cli reads volume-label and volume-opt. */
function keyValue(field: string): [string, string] {
  const eq = field.indexOf('=');
  return eq < 0 ? [field, ''] : [field.slice(0, eq), field.slice(eq + 1)];
}

/** The key=value fields of a --mount (CSV, as docker/cli reads it), checked against Docker's keys; volume-label and volume-opt gathered. */
function mountFields(spec: string): { kv: Map<string, string>; labels: Record<string, string>; options: Record<string, string> } {
  const kv = new Map<string, string>();
  const labels: Record<string, string> = {};
  const options: Record<string, string> = {};
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (!(key in MOUNT_KEYS)) throw new StrataError(`invalid mount spec "${spec}": unexpected key "${key}"`);
    if (!MOUNT_KEYS[key]) throw new StrataError(`invalid mount spec "${spec}": "${key}" is not supported`);
    if (eq < 0 && !BOOL_KEYS.has(key)) throw new StrataError(`invalid mount spec "${spec}": field "${field}" must be a key=value pair`);
    const value = eq < 0 ? 'true' : field.slice(eq + 1);
    if (key === 'volume-label' || key === 'volume-opt') {
      const [k, v] = keyValue(value);
      (key === 'volume-label' ? labels : options)[k] = v;
    }
    kv.set(key, value);
  }
  return { kv, labels, options };
}

/** `--mount type=bind|volume|tmpfs,src=...,dst=...,readonly[,tmpfs-size=...,tmpfs-mode=...,volume-nocopy]`. */
export function parseMountFlag(spec: string, cwd: string): MountRequest {
  const { kv, labels, options: driverOptions } = mountFields(spec);
  const get = (...keys: string[]) => keys.map((k) => kv.get(k)).find((v) => v !== undefined);
  const type = get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new StrataError(`invalid mount spec "${spec}": unknown type "${type}"`);
  // Docker's validateMountOptions: another type's options are an error, not ignored.
  for (const other of ['volume', 'tmpfs'] as const) {
    if (other !== type && [...kv.keys()].some((k) => k.startsWith(`${other}-`))) {
      throw new StrataError(`invalid mount spec "${spec}": cannot mix "${other}-*" options with mount type "${type}"`);
    }
  }
  const ro = kv.has('readonly') ? 'readonly' : kv.has('ro') ? 'ro' : undefined;
  const readonly = ro !== undefined && mountBool(spec, ro, kv.get(ro)!);
  const destination = destinationOf(spec, get('dst', 'destination', 'target'));
  const source = get('src', 'source');
  if (type === 'bind') {
    if (!source) throw new StrataError(`invalid mount spec "${spec}": a bind mount needs a source`);
    return { type: 'bind', source: resolveBindSource(spec, source, { create: false, cwd }), destination, readonly };
  }
  if (type === 'volume') {
    const nocopy = kv.get('volume-nocopy');
    const copy = nocopy === undefined || !mountBool(spec, 'volume-nocopy', nocopy);
    const driver = kv.get('volume-driver');
    if (driver !== undefined && driver !== 'local') throw new StrataError(`invalid mount spec "${spec}": volume driver "${driver}" is not supported: only "local"`);
    const extra = {
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(Object.keys(driverOptions).length ? { driverOptions: checkedOptions(spec, driverOptions) } : {}),
    };
    return { type: 'volume', name: source ?? '', destination, readonly, anonymous: !source, copy, ...extra };
  }
  if (source) throw new StrataError(`invalid mount spec "${spec}": a tmpfs mount takes no source`);
  // Docker mounts every tmpfs noexec,nosuid,nodev (oci_linux.go withMounts), --mount's too.
  const options: string[] = ['noexec', 'nosuid', 'nodev'];
  const size = kv.get('tmpfs-size');
  if (size !== undefined) options.push(`size=${tmpfsSize(spec, size)}`);
  const mode = kv.get('tmpfs-mode');
  if (mode !== undefined) {
    // Docker reads it as octal (strconv.ParseUint(value, 8, 32)) and mounts with mode=%o.
    if (!/^[0-7]{1,11}$/.test(mode)) throw new StrataError(`invalid mount spec "${spec}": invalid value for "tmpfs-mode": "${mode}"`);
    options.push(`mode=${parseInt(mode, 8).toString(8)}`);
  }
  if (readonly) options.push('ro');
  return { type: 'tmpfs', destination, options };
}

/** A --mount's volume-opt values, checked as `volume create --opt` checks them (before any volume is made). */
function checkedOptions(spec: string, options: Record<string, string>): Record<string, string> {
  try {
    return checkVolumeOptions(options);
  } catch (err) {
    throw new StrataError(`invalid mount spec "${spec}": ${(err as Error).message}`);
  }
}

/** tmpfs-size in bytes, as Docker's units.RAMInBytes reads it ("64m", "1.5g", "2GiB"): the kernel takes neither "1.5g" nor "2GiB". */
function tmpfsSize(spec: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(text);
  if (!m) throw new StrataError(`invalid mount spec "${spec}": invalid value for "tmpfs-size": "${text}"`);
  return Math.floor(Number(m[1]) * 1024 ** 'bkmgtp'.indexOf(m[2]!.toLowerCase() || 'b'));
}

/** `--volumes-from CONTAINER[:ro|rw]`: that container's volume and bind mounts (tmpfs excluded, as Docker). */
export function inheritMounts(spec: string, theirs: MountRequest[]): MountRequest[] {
  const mode = spec.includes(':') ? spec.slice(spec.lastIndexOf(':') + 1) : '';
  if (mode && mode !== 'ro' && mode !== 'rw') throw new StrataError(`invalid --volumes-from "${spec}": mode must be "ro" or "rw"`);
  return theirs
    .filter((m) => m.type !== 'tmpfs')
    .map((m) => ({ ...m, ...(mode ? { readonly: mode === 'ro' } : {}), ...(m.type === 'volume' ? { anonymous: false, copy: false } : {}) }) as MountRequest);
}

export interface ContainerMountInput {
  root: string;
  cwd: string;
  volumes?: string[];
  mounts?: string[];
  /** Already inherited requests from --volumes-from (see inheritMounts). */
  inherited?: MountRequest[];
  /** The image's VOLUME paths. */
  imageVolumes?: string[];
}

/**
 * Every mount of a new container, with named volumes created and anonymous ones given their
 * random names. Later flags win over earlier ones and over image VOLUMEs for the same path.
 */
export function resolveContainerMounts(input: ContainerMountInput): MountRequest[] {
  const byDest = new Map<string, MountRequest>();
  for (const dst of input.imageVolumes ?? []) {
    byDest.set(destinationOf(dst, dst), { type: 'volume', name: '', destination: destinationOf(dst, dst), readonly: false, anonymous: true, copy: true });
  }
  for (const m of input.inherited ?? []) byDest.set(m.destination, m);
  for (const v of input.volumes ?? []) {
    const m = parseVolumeFlag(v, input.cwd);
    byDest.set(m.destination, m);
  }
  for (const v of input.mounts ?? []) {
    const m = parseMountFlag(v, input.cwd);
    byDest.set(m.destination, m);
  }
  return [...byDest.values()].map((m) => {
    if (m.type !== 'volume') return m;
    const volume = m.anonymous ? createVolume(input.root, { anonymous: true, ...volumeOptionsOf(m) }) : namedVolume(input.root, m.name, m);
    return { ...m, name: volume.Name };
  });
}

/**
 * The volume NAME: the one there is, else the one a killed `volume rm` left aside (the sweep puts
 * it back; `run`'s own sweep comes only once runc runs, after the mounts), else a new one.
 */
function namedVolume(root: string, name: string, request: VolumeRequest) {
  const found = findVolume(root, name);
  if (found) return found;
  sweepVolumeAsides(root);
  return findVolume(root, name) ?? createVolume(root, { name, ...volumeOptionsOf(request) });
}

type VolumeRequest = Extract<MountRequest, { type: 'volume' }>;

/** What a new volume for REQUEST is made with (--mount's volume-opt, volume-label). */
function volumeOptionsOf(request: VolumeRequest): { options?: Record<string, string>; labels?: Record<string, string> } {
  return { ...(request.driverOptions ? { options: request.driverOptions } : {}), ...(request.labels ? { labels: request.labels } : {}) };
}

/** The mount requests a container's record keeps (resolved at create: volumes named). */
export function mountRequestsOf(record: ContainerRecord): MountRequest[] {
  return (record.Strata.mounts as MountRequest[] | undefined) ?? [];
}

/** Volume names a container's mounts use (for `volume rm` refusal and `rm -v`). */
export function volumesOf(requests: MountRequest[], which: 'all' | 'anonymous' = 'all'): string[] {
  return requests.flatMap((m) => (m.type === 'volume' && (which === 'all' || m.anonymous) ? [m.name] : []));
}

/** Runtime mounts for a start: volumes mapped to their data dirs, bind sources re-verified. */
export function toMountSpecs(root: string, requests: MountRequest[]): MountSpec[] {
  return requests.map((m): MountSpec => {
    if (m.type === 'tmpfs') return { type: 'tmpfs', destination: m.destination, options: m.options };
    if (m.type === 'bind') {
      verifyNoSymlinks(m.source);
      return { type: 'bind', source: m.source, destination: m.destination, readonly: m.readonly };
    }
    const volume = m.anonymous ? findVolume(root, m.name) ?? createVolume(root, { name: m.name, anonymous: true, ...volumeOptionsOf(m) }) : namedVolume(root, m.name, m);
    return volumeMountSpec(volume, m.destination, m.readonly);
  });
}

/**
 * Docker's copy-up: an empty volume mounted where the image has content gets a copy of that
 * content, once. LOWERDIRS are the image's layer snapshots (top last); they are merged with a
 * read-only overlay so whiteouts are honoured, and the path is resolved inside that root.
 */
export function populateVolumes(root: string, requests: MountRequest[], lowerDirs: string[]): void {
  const todo = requests.filter((m): m is VolumeRequest => m.type === 'volume' && m.copy);
  const pending = todo.flatMap((m) => {
    const v = findVolume(root, m.name);
    if (!v || fs.existsSync(path.join(path.dirname(v.Mountpoint), '.populated'))) return [];
    const target = copyUpTarget(v);
    return target && fs.readdirSync(target).length === 0 ? [{ m, v, target }] : [];
  });
  if (pending.length === 0 || lowerDirs.length === 0) return;
  const tmp = makeTempDirSync(root, '.copyup');
  const merged = path.join(tmp, 'merged');
  let mounted = false;
  try {
    let source = lowerDirs[0]!;
    if (lowerDirs.length > 1) {
      // Short relative names for the layers (mount options are limited to one page), resolved
      // from mount's working directory, as the runtime's bundle does for the root.
      fs.mkdirSync(merged);
      lowerDirs.forEach((dir, i) => fs.symlinkSync(dir, path.join(tmp, String(i))));
      const lower = lowerDirs.map((_, i) => String(i)).reverse().join(':');
      execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lower}`, 'merged'], { stdio: 'ignore', cwd: tmp });
      mounted = true;
      source = merged;
    }
    for (const { m, v, target } of pending) {
      const src = resolveInRoot(source, m.destination);
      if (src && fs.lstatSync(src).isDirectory()) execFileSync('cp', ['-a', `${src}/.`, `${target}/`], { stdio: 'ignore' });
      fs.writeFileSync(path.join(path.dirname(v.Mountpoint), '.populated'), '');
    }
  } finally {
    if (mounted) execFileSync('umount', [merged], { stdio: 'ignore' });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Resolves PATH inside ROOT as the container would see it (symlinks followed within ROOT); undefined when missing. */
export function resolveInRoot(root: string, target: string): string | undefined {
  let cur = root;
  const parts = target.split('/').filter(Boolean);
  for (let hops = 0; parts.length; ) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      if (cur !== root) cur = path.dirname(cur);
      continue;
    }
    const next = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const link = fs.readlinkSync(next);
      parts.unshift(...link.split('/').filter(Boolean));
      if (link.startsWith('/')) cur = root;
      continue;
    }
    cur = next;
  }
  return cur;
}
