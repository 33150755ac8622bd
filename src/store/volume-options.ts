// The local driver's options (`volume create --opt`, `--mount volume-opt=`), as Docker's
// (moby volume/local/local_unix.go): keys type, o, device (size, a quota, is refused as on a
// daemon without quota support); type and device go together, o needs both. strata takes two
// kinds: o=bind|rbind with an absolute device, a host directory bound in place of the volume's
// _data (type=none by convention: mount(2) ignores the type of a bind), and type=tmpfs (o =
// tmpfs's mount options). Nothing is ever mounted on the host: runc mounts the device, or a
// tmpfs, in the container (see src/runtime/README.md).
import path from 'node:path';
import { StrataError } from '../errors.js';

/** What a volume's options make of it when a container mounts it. */
export type VolumeKind =
  | { kind: 'data' }
  | { kind: 'bind'; device: string; recursive: boolean; readonly: boolean }
  | { kind: 'tmpfs'; options: string[] };

const VALID = ['type', 'o', 'device', 'size'];
const MANDATORY: Array<[string, string[]]> = [['device', ['type']], ['type', ['device']], ['o', ['device', 'type']]];
const SUPPORTED = 'strata\'s local volumes take type=none with o=bind and device=/a/host/dir, or type=tmpfs with device=tmpfs';

// tmpfs's own options (mm/shmem.c) and the generic mount flags runc turns into MS_* flags.
const TMPFS_FLAGS = new Set(['ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'async', 'atime', 'noatime',
  'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'dirsync', 'mand', 'nomand']);
const TMPFS_VALUES: Record<string, RegExp> = {
  size: /^\d+[kmgtpe%]?$/i,
  nr_blocks: /^\d+[kmgtpe%]?$/i,
  nr_inodes: /^\d+[kmgtpe%]?$/i,
  mode: /^[0-7]{1,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  huge: /^(never|always|within_size|advise)$/,
};
const BIND_FLAGS = new Set(['bind', 'rbind', 'ro', 'rw']);

function invalid(message: string): StrataError {
  return new StrataError(message, 125);
}

/**
 * Checks a volume's driver options as Docker's local driver does at create, and what strata can
 * mount; returns them as they are kept (Docker shows them unchanged in `volume inspect`).
 */
export function checkVolumeOptions(opts: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(opts)) if (!VALID.includes(key)) throw invalid(`invalid option: "${key}"`);
  if (opts.size !== undefined) throw invalid('quota size requested but no quota support');
  for (const [key, needs] of MANDATORY) {
    if (opts[key] === undefined) continue;
    for (const need of needs) if (opts[need] === undefined) throw invalid(`missing required option: "${need}"`);
  }
  if (Object.keys(opts).length) volumeKind(opts);
  // Sorted, as Go writes a map in `volume inspect`.
  return Object.fromEntries(Object.entries(opts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What OPTS (checked) make of a volume; throws a one-line error for what strata does not mount. */
export function volumeKind(opts: Record<string, string> | null | undefined): VolumeKind {
  if (!opts || opts.type === undefined) return { kind: 'data' };
  const o = (opts.o ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  // With MS_BIND the kernel ignores the filesystem type: Docker's type=none is a convention.
  const bind = o.includes('bind') || o.includes('rbind');
  if (opts.type === 'tmpfs' && !bind) {
    if (!opts.device) throw invalid('missing device in volume options');
    for (const opt of o) {
      const eq = opt.indexOf('=');
      const ok = eq < 0 ? TMPFS_FLAGS.has(opt) : TMPFS_VALUES[opt.slice(0, eq)]?.test(opt.slice(eq + 1));
      if (!ok) throw invalid(`volume option o: "${opt}" is not a tmpfs mount option`);
    }
    return { kind: 'tmpfs', options: o };
  }
  if (opts.type === 'none' || bind) {
    if (!bind) throw invalid(`volume option type=none needs o=bind: ${SUPPORTED}`);
    const other = o.find((opt) => !BIND_FLAGS.has(opt));
    if (other !== undefined) throw invalid(`volume option o: "${other}" is not supported with type=none: strata takes bind, rbind, ro, rw`);
    const device = opts.device ?? '';
    if (!path.isAbsolute(device)) throw invalid(`volume option device: "${device}" is not an absolute path`);
    // The last of ro and rw wins, as mount(8) reads them.
    const last = o.filter((opt) => opt === 'ro' || opt === 'rw').pop();
    return { kind: 'bind', device: path.normalize(device), recursive: o.includes('rbind'), readonly: last === 'ro' };
  }
  throw invalid(`volume type "${opts.type}" is not supported: ${SUPPORTED}`);
}
