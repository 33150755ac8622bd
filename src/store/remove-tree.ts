// Recursive removal that never goes through a mount. fs.rm descends into whatever is mounted
// under a directory (a bind-mounted volume, a container's overlay) and unlinks what it shows:
// the data of someone else. Same-filesystem bind mounts share st_dev, so only the mount table
// tells; a directory with anything mounted at or under it is left whole.
import { spawn } from 'node:child_process';
import fsSync, { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { failpointStops } from '../failpoint.js';

// mountinfo escapes space, tab, newline and backslash as octal.
const unescapeMountPath = (field: string) => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
const escapeMountPath = (p: string) => p.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

/** Mount points at or under `dir` (a real path), deepest first. */
export function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const mp = unescapeMountPath(field);
    if (mp === dir || mp.startsWith(`${dir}/`)) out.push(mp);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** The mounts at or under `p` when it is a directory (none for a file, a symlink or nothing). */
export function mountsInside(p: string): string[] {
  const st = fsSync.lstatSync(p, { throwIfNoEntry: false });
  return st?.isDirectory() ? mountsUnder(fsSync.realpathSync(p)) : [];
}

/**
 * Removes `p` (file, symlink or directory tree; nothing there is no error) unless something is
 * mounted at or under it: then nothing is removed and the mount points are returned (deepest
 * first). An empty array means `p` is gone.
 */
export async function removeTree(p: string): Promise<string[]> {
  const mounted = mountsInside(p);
  if (mounted.length) return mounted;
  await fs.rm(p, { recursive: true, force: true });
  return [];
}

/** Synchronous removeTree. */
export function removeTreeSync(p: string): string[] {
  const mounted = mountsInside(p);
  if (mounted.length) return mounted;
  fsSync.rmSync(p, { recursive: true, force: true });
  return [];
}

/**
 * The detached rm(1) of removeTreeDetached, in a mount namespace of its own whose mounts are all
 * private: a mount made on the host once it runs is not in its tree, so rm never goes through
 * one (unlinking a dir that is a mount point elsewhere detaches that mount, Linux >= 3.18, and
 * leaves what it shows alone). A mount made before is in its copy of the table: awk finds it
 * and nothing is removed (the graveyard sweep looks again). $D: the dir as mountinfo writes it.
 * With $ADOPT, the dir (a graveyard named `...-PID`) is first renamed after this very process
 * (`...-$$`; unshare and sh exec, so rm keeps that pid): while the rm runs, sweeps see a live
 * owner and leave it be instead of starting another rm on the same tree.
 */
const DETACHED_RM = [
  'if [ -n "$ADOPT" ]; then mine="${1%-*}-$$"; mv -T -- "$1" "$mine" || exit 0; set -- "$mine"; D="${D%-*}-$$"; fi',
  'awk \'BEGIN { d = ENVIRON["D"] } $5 == d || index($5, d "/") == 1 { found = 1 } END { exit found }\' /proc/self/mountinfo || exit 0',
  '[ -z "$HOLD" ] || kill -STOP $$',
  'exec rm -rf -- "$1"',
].join('\n');

/**
 * Starts the removal of the directory `dir` in a detached process (removeTree's rules: nothing
 * is removed when anything is mounted at or under it) and returns at once; false when no
 * process could be started (the dir stays, as after a kill mid-removal). `adopt`: DIR ends in
 * `-PID` of a process that is gone; the rm renames it after itself first (see DETACHED_RM).
 */
export function removeTreeDetached(dir: string, options: { adopt?: boolean } = {}): boolean {
  let real: string;
  try {
    real = fsSync.realpathSync(dir);
  } catch {
    return false;
  }
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', D: escapeMountPath(real) };
  if (options.adopt) env.ADOPT = '1';
  // A test stops it after its namespace is made and checked, and mounts something meanwhile.
  if (failpointStops('remove.detached-checked')) env.HOLD = '1';
  try {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', DETACHED_RM, 'sh', real], { detached: true, stdio: 'ignore', env });
    child.on('error', () => {});
    child.unref();
    return child.pid !== undefined;
  } catch {
    return false;
  }
}
