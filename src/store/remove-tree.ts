// Recursive removal that never goes through a mount. fs.rm descends into whatever is mounted
// under a directory (a bind-mounted volume, a container's overlay) and unlinks what it shows:
// the data of someone else. Same-filesystem bind mounts share st_dev, so only the mount table
// tells; a directory with anything mounted at or under it is left whole.
import fsSync, { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';

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
    // mountinfo escapes space, tab, newline and backslash as octal.
    const mp = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
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
