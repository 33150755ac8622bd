// What a COPY reads: a tree of nodes with a host path each. Two kinds: the build context
// (already walked), and the union of an image's or stage's layer snapshots (read without
// mounting: the topmost entry wins, 0/0 character devices hide lower ones, an opaque marker
// hides everything below a directory).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BuildContext, ContextEntry } from './context.js';

export interface TreeNode {
  /** Path in its tree ('' is the root). */
  rel: string;
  hostPath: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkTarget?: string;
  /** Bytes, for files of the build context (as its walk saw them). */
  size?: number;
}

export interface TreeSource {
  /** The node at a path, symlinks followed inside the tree (the last one too when followLast). */
  lookup(rel: string, followLast: boolean): Promise<TreeNode | undefined>;
  children(node: TreeNode): Promise<TreeNode[]>;
  /** Whether owners are kept (layers) or reset to root (the context, as Docker does). */
  readonly keepOwners: boolean;
}

export function contextSource(ctx: BuildContext): TreeSource {
  const node = (e: ContextEntry): TreeNode => ({
    rel: e.path, hostPath: path.join(ctx.root, e.path), type: e.type, mode: e.mode, uid: 0, gid: 0,
    mtime: new Date(e.mtimeMs), linkTarget: e.linkTarget, size: e.size,
  });
  return {
    keepOwners: false,
    async lookup(rel, followLast) {
      const e = ctx.resolve(rel, followLast);
      if (!e) return undefined;
      return e.path === '' ? { ...node(e), hostPath: ctx.root } : node(e);
    },
    async children(n) {
      return ctx.list(n.rel).map((name) => node(ctx.entries.get(n.rel ? `${n.rel}/${name}` : name)!));
    },
  };
}

const OPAQUE_MARKER = '.wh..wh..opq';

/** The union of layer snapshot dirs, given bottom → top. */
export function layersSource(lowerDirs: string[]): TreeSource {
  const top = [...lowerDirs].reverse();
  const statAt = async (layer: string, rel: string) => fs.lstat(path.join(layer, rel)).catch(() => undefined);

  /** The layers holding a directory at `dir`, top first, stopping below an opaque one. */
  async function dirLayers(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const layer of top) {
      const st = await statAt(layer, dir);
      if (!st) continue;
      if (!st.isDirectory()) break;
      out.push(layer);
      if (await statAt(layer, path.join(dir, OPAQUE_MARKER))) break;
    }
    return out;
  }

  async function entry(rel: string): Promise<TreeNode | undefined> {
    if (rel === '') {
      const layer = top[top.length - 1];
      const st = layer ? await statAt(layer, '') : undefined;
      return { rel: '', hostPath: layer ?? '/nonexistent', type: 'dir', mode: st?.mode ?? 0o40755, uid: 0, gid: 0, mtime: st?.mtime ?? new Date(0) };
    }
    const parent = path.posix.dirname(rel);
    for (const layer of await dirLayers(parent === '.' ? '' : parent)) {
      const st = await statAt(layer, rel);
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) return undefined;
      const hostPath = path.join(layer, rel);
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      return {
        rel, hostPath, type, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime,
        linkTarget: type === 'symlink' ? await fs.readlink(hostPath) : undefined,
      };
    }
    return undefined;
  }

  return {
    keepOwners: true,
    async lookup(rel, followLast) {
      let todo = rel.split('/').filter((p) => p && p !== '.');
      let done: string[] = [];
      for (let hops = 0; todo.length > 0;) {
        const name = todo.shift()!;
        if (name === '..') {
          done.pop();
          continue;
        }
        const n = await entry([...done, name].join('/'));
        if (!n) return undefined;
        if (n.type === 'symlink' && (todo.length > 0 || followLast)) {
          if (++hops > 40) return undefined;
          const t = n.linkTarget!;
          todo = [...t.split('/').filter((p) => p && p !== '.'), ...todo];
          if (t.startsWith('/')) done = [];
          continue;
        }
        done.push(name);
      }
      return entry(done.join('/'));
    },
    async children(n) {
      const seen = new Set<string>();
      const out: TreeNode[] = [];
      for (const layer of await dirLayers(n.rel)) {
        for (const name of await fs.readdir(path.join(layer, n.rel))) {
          if (seen.has(name) || name === OPAQUE_MARKER) continue;
          seen.add(name);
          const child = await entry(n.rel ? `${n.rel}/${name}` : name);
          if (child) out.push(child);
        }
      }
      return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    },
  };
}
