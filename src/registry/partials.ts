// Partial downloads: tmp/partial-<hex> holds what arrived of a compressed blob whose pull was
// interrupted, so that the next pull asks only for the rest (Range). While a pull writes one it
// holds partial-<hex>.lock, naming its owner ("PID.START", owner.ts): another pull then
// downloads beside it, and a dead owner's lock is broken. A partial nobody came back for is
// swept by a later pull: only when no live process holds its lock and it has not been written
// for PARTIAL_MAX_AGE_MS, so the resume of a recent interruption is never lost.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ownerGone, ownerStamp, parseOwner } from '../store/index.js';

/** A partial download untouched this long, with no live owner, is abandoned. */
export const PARTIAL_MAX_AGE_MS = 24 * 60 * 60 * 1000;

const PARTIAL = /^partial-[a-f0-9]{64}$/;

/** True when the lock names a process that is surely gone (or names nothing readable). */
async function lockAbandoned(lock: string): Promise<boolean> {
  let text: string;
  try {
    text = (await fs.readFile(lock, 'utf8')).trim();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  const owner = parseOwner(text);
  return !owner || ownerGone(owner);
}

/** Takes partial-<hex>.lock for this process; false when a live process holds it. A dead owner's lock is broken. */
export async function lockPartial(lock: string): Promise<boolean> {
  for (let i = 0; i < 2; i++) {
    try {
      await fs.writeFile(lock, ownerStamp(), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!(await lockAbandoned(lock))) return false;
      await fs.rm(lock, { force: true });
    }
  }
  return false;
}

/**
 * Removes the partial downloads in `tmpDir` that are abandoned: no live owner and last written
 * more than `maxAgeMs` ago (default PARTIAL_MAX_AGE_MS), but not those of the digests in `keep`
 * (what this pull is about to resume, however old). Returns the paths removed.
 */
export async function sweepPartials(tmpDir: string, o: { keep?: Iterable<string>; maxAgeMs?: number; now?: number } = {}): Promise<string[]> {
  const maxAgeMs = o.maxAgeMs ?? PARTIAL_MAX_AGE_MS;
  const now = o.now ?? Date.now();
  const keep = new Set([...(o.keep ?? [])].map((d) => `partial-${d.replace(/^sha256:/, '')}`));
  const names = await fs.readdir(tmpDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!PARTIAL.test(name) || keep.has(name)) continue;
    const file = path.join(tmpDir, name);
    const st = await fs.lstat(file).catch(() => undefined);
    if (!st?.isFile() || now - st.mtimeMs <= maxAgeMs) continue;
    const lock = `${file}.lock`;
    // Taken for the time of the removal, so that a pull starting meanwhile does not resume it.
    if (!(await lockPartial(lock))) continue;
    try {
      await fs.rm(file, { force: true });
      removed.push(file);
    } finally {
      await fs.rm(lock, { force: true });
    }
  }
  // A lock whose partial is gone and whose owner is dead (killed between the two removals).
  for (const name of names) {
    if (!name.endsWith('.lock') || !PARTIAL.test(name.slice(0, -'.lock'.length)) || names.includes(name.slice(0, -'.lock'.length))) continue;
    const lock = path.join(tmpDir, name);
    if (await lockAbandoned(lock)) await fs.rm(lock, { force: true });
  }
  return removed;
}
