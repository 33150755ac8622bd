// A volume's removal in steps that a kill -9 at any point cannot turn into a loss. The volume is
// first renamed out of reach to `.rm-NAME-OWNER-RANDOM` (undecided: runtime/volume-users.ts
// reads its users again), then either put back under NAME or, once the removal has decided to
// delete it, renamed to `.drop-NAME-OWNER-RANDOM` (the decision, fsynced) and deleted. OWNER is
// the remover's pid and start time (owner.ts). A volume name never starts with ".", so neither
// form is ever taken for a volume. sweepVolumeAsides finishes what a dead owner left: an
// undecided aside goes back under its name when that is free (else it stays, whole, and
// `system check` names it); a decided one is deleted, never through a mount. It also deletes
// the half-made volumes (`.tmp-NAME-OWNER-RANDOM`, volumes.ts createVolume) of dead creators:
// never renamed into place, they hold nothing anyone has seen.
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { randomBytes } from '../random.js';
import { ownerGone, ownerStamp, parseOwner, type Owner } from './owner.js';
import { mountsInside, removeTreeSync } from './remove-tree.js';
import { findVolume, isVolumeName, VOLUME_TEMP, volumeDir, volumesDir } from './volumes.js';

const UNDECIDED = '.rm-';
const DECIDED = '.drop-';
// NAME may hold "-": the owner ("PID.START", or "PID" in names written before start times were
// recorded) and the 8 hex digits are the last two fields.
const ASIDE = /^\.(rm|drop)-(.+)-(\d+(?:\.\d+)?)-([0-9a-f]{8})$/;
// A volume being created: the same fields (a pid alone in names written before start times).
const CREATING = /^\.tmp-(.+)-(\d+(?:\.\d+)?)-([0-9a-f]{8})$/;

export interface VolumeAside {
  path: string;
  /** The volume's name before it was moved aside. */
  name: string;
  /** The removal had decided to delete it (`.drop-…`). */
  decided: boolean;
  owner: Owner;
}

/** The aside that `entry` (a name in volumes/) is, if it is one. */
export function parseAside(dir: string, entry: string): VolumeAside | undefined {
  const m = ASIDE.exec(entry);
  const owner = m ? parseOwner(m[3]!) : undefined;
  if (!m || !owner || !isVolumeName(m[2]!)) return undefined;
  return { path: path.join(dir, entry), name: m[2]!, decided: m[1] === 'drop', owner };
}

function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A removal's first step: the volume is renamed out of reach, so a half-deleted volume is never
 * visible and a container started from now on finds no volume of that name and makes a new one.
 * Returns where it went; throws when there is no such volume or something is mounted in it.
 */
export function moveVolumeAside(root: string, name: string): string {
  const dir = volumeDir(root, name);
  if (!findVolume(root, name)) throw new StrataError(`no such volume: "${name}"`);
  // Something mounted in it (a bind mount on _data, say) is not the volume's: a removal would
  // go through the mount and unlink what it shows.
  const mounted = mountsInside(dir);
  if (mounted.length) throw new StrataError(`removing volume "${name}": "${mounted[mounted.length - 1]}" is a mount point: unmount it first`, 125);
  const aside = path.join(volumesDir(root), `${UNDECIDED}${name}-${ownerStamp()}-${randomBytes(4).toString('hex')}`);
  fs.renameSync(dir, aside);
  return aside;
}

/** Undoes moveVolumeAside; false when a new volume has taken the name meanwhile (`aside` then stays). */
export function restoreVolume(root: string, name: string, aside: string): boolean {
  try {
    fs.renameSync(aside, volumeDir(root, name));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return false;
    throw err;
  }
}

function mountedMeanwhile(name: string, kept: boolean): StrataError {
  const where = kept ? 'it is back under its name' : "its files are kept aside in the state root's volumes/";
  return new StrataError(`removing volume "${name}": something was mounted in it meanwhile: nothing was deleted (${where})`, 125);
}

/**
 * A removal's last step: the volume moved aside is marked decided (renamed to `.drop-…`, which
 * a sweep deletes if this process dies now), then deleted, never through a mount made meanwhile
 * (then nothing is deleted and the volume goes back under its name if that is free).
 */
export function dropVolume(name: string, aside: string): void {
  const dir = path.dirname(aside);
  const root = path.dirname(dir);
  if (mountsInside(aside).length) throw mountedMeanwhile(name, restoreVolume(root, name, aside));
  const decided = path.join(dir, DECIDED + path.basename(aside).slice(UNDECIDED.length));
  fs.renameSync(aside, decided);
  fsyncDirSync(dir);
  failpoint('volume.drop-decided');
  if (removeTreeSync(decided).length) {
    // A mount made between the look and the rename: undecided again, nothing deleted.
    fs.renameSync(decided, aside);
    throw mountedMeanwhile(name, restoreVolume(root, name, aside));
  }
}

export interface VolumeSweep {
  /** Names of the volumes put back (with dryRun: that would be). */
  restored: string[];
  /** Decided asides deleted (with dryRun: that would be). */
  dropped: string[];
  /** Undecided asides not put back (`why`: their name is taken, or they are not whole): kept where they are. */
  kept: Array<VolumeAside & { why: string }>;
  /** Volumes whose creation was killed before they were put in place, deleted (with dryRun: that would be). */
  temps: string[];
}

/** A dead creator's half-made volume: deleted, never through a mount (one stays then). True when gone (or, dryRun, would go). */
function dropDeadTemp(dir: string, entry: string, dryRun: boolean | undefined): boolean {
  const m = CREATING.exec(entry);
  const owner = m ? parseOwner(m[2]!) : undefined;
  if (!m || !owner || !isVolumeName(m[1]!) || !ownerGone(owner)) return false;
  try {
    return !!dryRun || removeTreeSync(path.join(dir, entry)).length === 0;
  } catch {
    return false; // left for the next sweep
  }
}

/** Finishes the volume removals and creations of owners that have surely exited (see the top of this file). */
export function sweepVolumeAsides(root: string, options: { dryRun?: boolean } = {}): VolumeSweep {
  const dir = volumesDir(root);
  const out: VolumeSweep = { restored: [], dropped: [], kept: [], temps: [] };
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.startsWith(VOLUME_TEMP)) {
      if (dropDeadTemp(dir, entry, options.dryRun)) out.temps.push(path.join(dir, entry));
      continue;
    }
    if (!entry.startsWith(UNDECIDED) && !entry.startsWith(DECIDED)) continue;
    const aside = parseAside(dir, entry);
    if (!aside || !ownerGone(aside.owner)) continue;
    if (aside.decided) {
      try {
        if (options.dryRun || removeTreeSync(aside.path).length === 0) out.dropped.push(aside.path);
      } catch {
        // Left for the next sweep.
      }
      continue;
    }
    // Only a whole volume goes back (an aside of an older strata may have been half deleted in place).
    const taken = { ...aside, why: `a new volume "${aside.name}" has been made since` };
    if (!fs.existsSync(path.join(aside.path, 'volume.json'))) out.kept.push({ ...aside, why: 'it is not a whole volume' });
    else if (fs.existsSync(volumeDir(root, aside.name))) out.kept.push(taken);
    else if (options.dryRun) out.restored.push(aside.name);
    else {
      try {
        if (restoreVolume(root, aside.name, aside.path)) out.restored.push(aside.name);
        else out.kept.push(taken);
      } catch {
        // Gone meanwhile (another sweep put it back): nothing to do.
      }
    }
  }
  return out;
}
