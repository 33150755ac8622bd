// `image diff IMAGE [IMAGE]` (podman's): the changes between two images' filesystems, read
// from their layer snapshots as overlayfs would present them (no mount). With one image, the
// changes its top layer makes to the rest. An entry is changed (C) when its type, mode, owner,
// size (for a non-directory), mtime (seconds) or link target differ, as Docker's archive
// changes compare them; a removed directory is one D line, an added one lists what it holds.
import type { Stats } from 'node:fs';
import fs from 'node:fs';
import { UnionView, type Change } from '../runtime/index.js';
import type { Image, Store } from '../store/index.js';

export type { Change, ChangeKind } from '../runtime/index.js';

function differs(a: Stats, b: Stats, linkA: () => string, linkB: () => string): boolean {
  if ((a.mode & 0o170000) !== (b.mode & 0o170000)) return true;
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return true;
  if (a.isDirectory()) return false;
  if (a.size !== b.size || Math.floor(a.mtimeMs / 1000) !== Math.floor(b.mtimeMs / 1000) || a.rdev !== b.rdev) return true;
  return a.isSymbolicLink() && linkA() !== linkB();
}

/** Every change from the tree of layers `from` to the tree of layers `to` (layer dirs, bottom first), sorted by path. */
export function treeChanges(from: string[], to: string[]): Change[] {
  const a = UnionView.of(from);
  const b = UnionView.of(to);
  const changes: Change[] = [];
  const names = (v: UnionView, rel: string, st: Stats | undefined) => (st?.isDirectory() ? v.readdirSync(rel) : []);
  const added = (rel: string) => {
    changes.push({ kind: 'A', path: `/${rel}` });
    const st = b.lstatSync(rel);
    for (const n of names(b, rel, st)) added(`${rel}/${n}`);
  };
  const walk = (rel: string) => {
    // The root of an empty stack has nothing in it; any other directory is read from the union.
    const inA = new Set(rel ? names(a, rel, a.lstatSync(rel)) : from.length ? a.readdirSync('') : []);
    const inB = new Set(rel ? names(b, rel, b.lstatSync(rel)) : to.length ? b.readdirSync('') : []);
    for (const n of inA) if (!inB.has(n)) changes.push({ kind: 'D', path: `/${rel ? `${rel}/` : ''}${n}` });
    for (const n of inB) {
      const child = rel ? `${rel}/${n}` : n;
      if (!inA.has(n)) {
        added(child);
        continue;
      }
      const ca = a.lstatSync(child)!;
      const cb = b.lstatSync(child)!;
      if (differs(ca, cb, () => fs.readlinkSync(a.hostPath(child)), () => fs.readlinkSync(b.hostPath(child)))) changes.push({ kind: 'C', path: `/${child}` });
      if (ca.isDirectory() && cb.isDirectory()) walk(child);
    }
  };
  walk('');
  return changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** The changes from `from` to `to`; with `to` alone, the changes its top layer makes to the layers below. */
export async function imageChanges(store: Store, from: Image | undefined, to: Image): Promise<Change[]> {
  const dirs = (img: Image) => Promise.all(img.config.rootfs.diff_ids.map((d) => store.layerPath(d)));
  const top = await dirs(to);
  return treeChanges(from ? await dirs(from) : top.slice(0, -1), top);
}
