// A container's changes, read from its overlay upper dir as `docker diff` prints them: a
// whiteout is a deletion (D), an entry the image also has is a change (C), anything else an
// addition (A). Directories that hold changes are copied up by overlayfs, so they show as C.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isWhiteout, UnionView } from './union.js';

export type ChangeKind = 'A' | 'C' | 'D';
export interface Change { kind: ChangeKind; path: string }

/** Every change in `upperDir` relative to the image layers (bottom → top), sorted by path. */
export async function containerChanges(upperDir: string, lowerDirs: string[]): Promise<Change[]> {
  const image = UnionView.of(lowerDirs);
  const changes: Change[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(upperDir, rel), { withFileTypes: true });
    for (const entry of entries) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const stat = await fs.lstat(path.join(upperDir, child));
      if (isWhiteout(stat)) {
        changes.push({ kind: 'D', path: `/${child}` });
        continue;
      }
      const before = await image.lstat(child);
      changes.push({ kind: before ? 'C' : 'A', path: `/${child}` });
      if (stat.isDirectory()) await walk(child);
    }
  }
  await walk('');
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function formatChanges(changes: Change[]): string {
  return changes.map((c) => `${c.kind} ${c.path}\n`).join('');
}
