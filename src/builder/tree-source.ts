// What a COPY reads, as trees of the store's copier: the build context (already walked), and
// the union of an image's or stage's layer snapshots, read without mounting through the
// runtime's overlay view (runtime/union.ts) and resolved inside the root as runtime/resolve.ts
// does.
import path from 'node:path';
import { resolveInRoot, UnionView, type Resolved, type UnionOptions } from '../runtime/index.js';
import { nodeOf, type TreeNode, type TreeSource } from '../store/index.js';
import type { BuildContext, ContextEntry } from './context.js';

export type { TreeNode, TreeSource } from '../store/index.js';

export function contextSource(ctx: BuildContext): TreeSource {
  const node = (e: ContextEntry): TreeNode => ({
    rel: e.path, hostPath: path.join(ctx.root, e.path), type: e.type, mode: e.mode, uid: 0, gid: 0,
    mtime: new Date(e.mtimeMs), linkTarget: e.linkTarget, size: e.size,
    // Hard links in the context stay hard links (BuildKit, podman): the same inode of the same
    // filesystem (a mount in the context may reuse the number).
    inode: e.nlink ? `ctx:${e.dev}:${e.ino}` : undefined,
  });
  return {
    keepOwners: false,
    async lookup(rel, followLast) {
      const e = ctx.resolve(rel, followLast);
      if (!e) return undefined;
      return e.path === '' ? { ...node(e), hostPath: ctx.root } : node(e);
    },
    async children(n) {
      return ctx.childEntries(n.rel).map(node);
    },
  };
}

/**
 * The union of layer snapshot dirs, given bottom → top, read through the runtime's overlay
 * view. `live`: the top dir is being written (a COPY's upper dir) and must be seen as it is now.
 */
export function layersSource(lowerDirs: string[], options: UnionOptions = {}): TreeSource {
  const view = UnionView.of(lowerDirs, undefined, options);
  return {
    keepOwners: true,
    async lookup(rel, followLast) {
      let found: Resolved;
      try {
        found = await resolveInRoot(view, rel, { followLast });
      } catch {
        return undefined; // a missing or non-directory parent, a loop
      }
      if (found.rel === '') {
        // The root: the bottom layer's directory (a stack of nothing is an empty root).
        const bottom = lowerDirs[0];
        const st = found.stat;
        return { rel: '', hostPath: bottom ?? '/nonexistent', type: 'dir', mode: st?.mode ?? 0o40755, uid: 0, gid: 0, mtime: st?.mtime ?? new Date(0) };
      }
      return found.stat && nodeOf(found.rel, view.hostPath(found.rel), found.stat);
    },
    async children(n) {
      const out: TreeNode[] = [];
      for (const name of view.readdirSync(n.rel)) {
        const rel = n.rel ? `${n.rel}/${name}` : name;
        const st = view.lstatSync(rel);
        if (st) out.push(nodeOf(rel, view.hostPath(rel), st));
      }
      return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    },
  };
}
