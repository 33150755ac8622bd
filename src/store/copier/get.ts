// The reading half of the copier (as buildah's copier.Get): a node of a tree and everything
// below it as a stream of entries, named for where they land and with the owner, mode and
// times the copy gives them. put.ts writes such a stream; so does the tar reader's.
import fs from 'node:fs';
import { major, minor } from '../layer-pack.js';
import type { TarEntry } from '../tar/reader.js';
import type { TreeNode, TreeSource } from './tree.js';

/** An entry to place; `source` is a host file put may copy from (a reflink where it can) instead of reading the body. */
export interface CopyEntry extends TarEntry {
  source?: string;
  /** The node's path in its tree (what COPY's reuse of unchanged files asks about). */
  rel?: string;
}

export interface GetOptions {
  /** The name of the top entry; undefined: a directory's children come at the top ("SRC/."). */
  name: string | undefined;
  /** The owner of every entry (undefined: each keeps its own, or root when the tree does not keep owners). */
  owner?: { uid: number; gid: number };
  /** The permission bits of every entry but symlinks (COPY --chmod), or a function of its own mode (a symbolic --chmod). */
  chmod?: number | ((mode: number, dir: boolean) => number);
  /** Drops setuid and setgid bits (a copy from the build context, as podman does). */
  dropSetId?: boolean;
  /** Times rounded to the nearest whole second (podman's copier stores them so). */
  wholeSeconds?: boolean;
  /** Paths below the top node (relative to it) left out with everything under them. */
  exclude?: (rel: string) => boolean;
  /** Children of the top directory left out (a running container's /proc, /sys, /dev). */
  omit?: ReadonlySet<string>;
  /** Entries name their host file (`source`) instead of streaming it: for a copy between local directories. */
  byReference?: boolean;
  /**
   * Files sharing an inode (TreeNode.inode) stay hard links: the second name is a link entry to
   * the first, as BuildKit and podman copy them.
   */
  keepHardLinks?: boolean;
}

async function* noBody(): AsyncGenerator<Buffer> {}

/** Tree entries carry no xattrs: one empty map for all of them (put only reads it). */
const NO_XATTRS: Map<string, Buffer> = new Map();

function plainEntryOf(n: TreeNode, name: string, tree: TreeSource, o: GetOptions): CopyEntry {
  const dir = n.type === 'dir';
  const file = n.type === 'file';
  const own = n.mode & (o.dropSetId ? 0o1777 : 0o7777);
  const mode = n.type === 'symlink' || o.chmod === undefined ? own : typeof o.chmod === 'number' ? o.chmod : o.chmod(own, dir);
  const seconds = (n.mtimeMs ?? n.mtime.getTime()) / 1000;
  return {
    path: dir ? `${name}/` : name, type: n.type, mode,
    uid: o.owner?.uid ?? (tree.keepOwners ? n.uid : 0), gid: o.owner?.gid ?? (tree.keepOwners ? n.gid : 0),
    size: file ? (n.size ?? 0) : 0, mtime: o.wholeSeconds ? Math.round(seconds) : seconds, linkpath: n.linkTarget ?? '',
    devmajor: n.rdev === undefined ? 0 : major(n.rdev), devminor: n.rdev === undefined ? 0 : minor(n.rdev), xattrs: NO_XATTRS,
    body: file && !o.byReference ? () => (tree.open ? fs.createReadStream('', { fd: tree.open(n) }) : fs.createReadStream(n.hostPath))[Symbol.asyncIterator]() as AsyncGenerator<Buffer> : noBody,
    source: file && o.byReference ? n.hostPath : undefined, rel: n.rel,
  };
}

/** The entries of `node` (its own first, unless only its children are asked for), then its children, depth first. */
export async function* treeEntries(tree: TreeSource, node: TreeNode, options: GetOptions): AsyncGenerator<CopyEntry> {
  const firstNames = new Map<string, string>();
  const entryOf = (n: TreeNode, name: string, t: TreeSource, o: GetOptions): CopyEntry => {
    const e = plainEntryOf(n, name, t, o);
    if (!o.keepHardLinks || n.inode === undefined) return e;
    const first = firstNames.get(n.inode);
    if (first === undefined) {
      firstNames.set(n.inode, name);
      return e;
    }
    return { ...e, type: 'link', linkpath: first, size: 0, body: noBody, source: undefined };
  };
  if (options.name !== undefined) yield entryOf(node, options.name, tree, options);
  if (node.type !== 'dir') return;
  // Directories still to list, with the name prefix and exclude path of their children.
  const stack: { dir: TreeNode; prefix: string; relBase: string }[] = [{ dir: node, prefix: options.name === undefined ? '' : `${options.name}/`, relBase: '' }];
  while (stack.length) {
    const { dir, prefix, relBase } = stack.pop()!;
    const subdirs: typeof stack = [];
    for (const child of await tree.children(dir)) {
      const base = child.rel.slice(child.rel.lastIndexOf('/') + 1);
      if (dir === node && options.omit?.has(base)) continue;
      const rel = relBase ? `${relBase}/${base}` : base;
      if (options.exclude?.(rel)) continue;
      yield entryOf(child, prefix + base, tree, options);
      if (child.type === 'dir') subdirs.push({ dir: child, prefix: `${prefix}${base}/`, relBase: rel });
    }
    stack.push(...subdirs.reverse());
  }
}
