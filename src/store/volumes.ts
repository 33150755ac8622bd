// Named and anonymous volumes: <root>/volumes/<name>/_data holds the content (what containers
// mount), <root>/volumes/<name>/volume.json what `volume inspect` shows. A volume appears
// atomically (built under a temp name `.tmp-NAME-OWNER-RANDOM`, then renamed), so a crash never
// leaves half of one (a dead owner's temp is swept, volume-asides.ts); its removal is in
// volume-asides.ts.
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { randomBytes } from '../random.js';
import { ownerStamp } from './owner.js';
import { checkVolumeOptions, volumeKind } from './volume-options.js';
import { compareNatural } from '../sort-order.js';

export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: 'local';
  /** Created for an image VOLUME or a bare `-v /path`: removed by `rm -v` and by `volume prune`. */
  Anonymous: boolean;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The prefix of a volume being created (a volume name never starts with "."). */
export const VOLUME_TEMP = '.tmp-';

export function volumesDir(root: string): string {
  return path.join(root, 'volumes');
}

/** volumes/NAME; throws on a name that is not a volume's. */
export function volumeDir(root: string, name: string): string {
  if (!NAME.test(name)) throw new StrataError(`invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters`);
  return path.join(volumesDir(root), name);
}

export function isVolumeName(text: string): boolean {
  return NAME.test(text);
}

/**
 * The volume kept in `dir`. Its name and data dir are where it is, whatever its volume.json says:
 * a record copied with a state root (or damaged) must not send a container's mount, or the
 * copy-up into it, to another root's data.
 */
function readMeta(dir: string): Volume | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'volume.json'), 'utf8')) as Volume | null;
    if (meta === null || typeof meta !== 'object') return undefined;
    return { ...meta, Name: path.basename(dir), Mountpoint: path.join(dir, '_data') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The volume NAME, or undefined. */
export function findVolume(root: string, name: string): Volume | undefined {
  return readMeta(volumeDir(root, name));
}

export function getVolume(root: string, name: string): Volume {
  const v = findVolume(root, name);
  if (!v) throw new StrataError(`no such volume: "${name}"`);
  return v;
}

/** The label Docker puts on anonymous volumes. */
export const ANONYMOUS_VOLUME_LABEL = 'com.docker.volume.anonymous';

export interface CreateVolumeOptions {
  /** Omitted: a random 64-hex name (an anonymous volume). */
  name?: string;
  /** Kept as given, `{}` too (`volume create` without --label, as Docker's); none (null) for a volume a container makes. */
  labels?: Record<string, string>;
  /** The local driver's options (volume-options.ts); kept as given, `{}` too (`volume create` without --opt, as Docker's). */
  options?: Record<string, string>;
  anonymous?: boolean;
}

/**
 * Creates a volume; an existing one of that name is returned unchanged (its options too), as
 * Docker does. A bind volume's device need not exist yet (Docker finds out when it mounts it),
 * but one that is there must be a directory.
 */
export function createVolume(root: string, options: CreateVolumeOptions = {}): Volume {
  const name = options.name ?? randomBytes(32).toString('hex');
  const dir = volumeDir(root, name);
  const existing = readMeta(dir);
  if (existing) return existing;
  let opts: Record<string, string> | null = null;
  let kind: ReturnType<typeof volumeKind>;
  try {
    opts = options.options ? checkVolumeOptions(options.options) : null;
    kind = volumeKind(opts);
  } catch (err) {
    throw new StrataError(`creating volume "${name}": ${(err as Error).message}`);
  }
  if (kind.kind === 'bind') {
    const st = fs.statSync(kind.device, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw new StrataError(`creating volume "${name}": device "${kind.device}" is not a directory`);
  }
  fs.mkdirSync(volumesDir(root), { recursive: true, mode: 0o700 });
  const tmp = path.join(volumesDir(root), `${VOLUME_TEMP}${name}-${ownerStamp()}-${randomBytes(4).toString('hex')}`);
  const anonymous = options.anonymous ?? options.name === undefined;
  const volume: Volume = {
    Name: name,
    Driver: 'local',
    Mountpoint: path.join(dir, '_data'),
    CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    // Docker 23+ labels a container's anonymous volume so (`volume ls --filter`, prune's default set).
    Labels: anonymous ? { ...options.labels, [ANONYMOUS_VOLUME_LABEL]: '' } : options.labels ?? null,
    Options: opts,
    Scope: 'local',
    Anonymous: anonymous,
  };
  try {
    fs.mkdirSync(path.join(tmp, '_data'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(tmp, 'volume.json'), `${JSON.stringify(volume, null, 2)}\n`);
    failpoint('volume.create-tmp');
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another process created it first: theirs wins.
    const raced = readMeta(dir);
    if (raced) return raced;
    throw new StrataError(`creating volume "${name}": ${(err as Error).message}`);
  }
  return volume;
}

export function listVolumes(root: string): Volume[] {
  let names: string[];
  try {
    names = fs.readdirSync(volumesDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => NAME.test(n)).flatMap((n) => readMeta(path.join(volumesDir(root), n)) ?? []).sort((a, b) => compareNatural(a.Name, b.Name));
}

/** The refusal of a volume that containers use (Docker refuses even with -f). */
export function volumeInUse(name: string, usedBy: string[]): StrataError {
  return new StrataError(`removing volume "${name}": volume is in use by container ${usedBy.map((c) => `"${c.slice(0, 12)}"`).join(', ')}`, 125);
}

/** Bytes under a directory (regular files, not following symlinks). */
export function diskUsage(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.lstatSync(p).size;
    }
  };
  try {
    walk(dir);
  } catch {
    // Unreadable or vanished: counted as far as it went.
  }
  return total;
}
