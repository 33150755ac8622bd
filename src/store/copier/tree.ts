// What a copy reads from: a tree of nodes with a host path each, walked by path. The build
// context, the union of an image's layers and a plain host directory (cp, a git checkout) are
// trees; get.ts turns a tree into a stream of entries that put.ts places.
import fs from 'node:fs';
import path from 'node:path';
import type { EntryType } from '../tar/reader.js';
import { Anchor } from './anchor.js';

export interface TreeNode {
  /** Path in its tree ('' is the root). */
  rel: string;
  hostPath: string;
  type: Exclude<EntryType, 'link'>;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** The mtime to the precision the filesystem gave (a Date keeps milliseconds), when known. */
  mtimeMs?: number;
  linkTarget?: string;
  /** Bytes of a file. */
  size?: number;
  /** The file's identity on its host filesystem when it has other names (hard links): "dev:ino". */
  inode?: string;
  /** A device node's number (st_rdev). */
  rdev?: number;
}

export interface TreeSource {
  /** The node at a path, symlinks followed inside the tree (the last one too when followLast). */
  lookup(rel: string, followLast: boolean): Promise<TreeNode | undefined>;
  /** A directory's children, sorted by name. */
  children(node: TreeNode): Promise<TreeNode[]>;
  /**
   * Opens a file node for reading (a descriptor), where its host path may no longer be the
   * way to it (anchoredTree): get.ts reads the body from it instead of from `hostPath`.
   */
  open?(node: TreeNode): number;
  /** Whether owners are kept (layers, a host tree) or reset to root (the build context, as Docker does). */
  readonly keepOwners: boolean;
}

export function typeOf(st: fs.Stats): TreeNode['type'] {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'unknown';
}

/** A node from an lstat of its host path. */
export function nodeOf(rel: string, hostPath: string, st: fs.Stats): TreeNode {
  const type = typeOf(st);
  return {
    rel, hostPath, type, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime, mtimeMs: st.mtimeMs, size: type === 'file' ? st.size : undefined,
    linkTarget: type === 'symlink' ? fs.readlinkSync(hostPath) : undefined,
    inode: type === 'file' && st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined,
    rdev: type === 'char' || type === 'block' ? st.rdev : undefined,
  };
}

/**
 * A host file or directory as a tree, links never followed (its root is lstat'ed: give
 * "/proc/PID/root/." for a running container's root). Paths are not resolved inside the
 * root: callers look up only what they resolved themselves, or ''.
 */
export function hostTree(root: string): TreeSource {
  const at = (rel: string) => (rel ? path.join(root, rel) : root);
  return {
    keepOwners: true,
    async lookup(rel) {
      const st = await fs.promises.lstat(at(rel)).catch(() => undefined);
      return st && nodeOf(rel, at(rel), st);
    },
    async children(n) {
      const names = (await fs.promises.readdir(at(n.rel))).sort();
      return names.map((name) => {
        const rel = n.rel ? `${n.rel}/${name}` : name;
        return nodeOf(rel, at(rel), fs.lstatSync(at(rel)));
      });
    },
  };
}

/**
 * REL inside ROOT (a container's root) as a tree that others may change while it is read (a
 * running container, one sharing a volume): walked as the copier writes (anchor.ts), each
 * directory opened without following a link and listed below its descriptor, each file opened
 * below its directory's descriptor without following a link, so a directory swapped for a
 * symlink after it was listed is refused, never followed out of the root. REL's components
 * are resolved already (no symlinks); `close` lets the directories go.
 */
export function anchoredTree(root: string, rel: string, shown: string): TreeSource & { close(): void } {
  const base = rel === '' ? '' : path.posix.basename(rel);
  const anchor = new Anchor(root, rel === '' ? '' : path.posix.dirname(rel).replace(/^\.$/, ''), (r) => (r ? path.posix.join(path.posix.dirname(shown), r) : shown));
  // A node's path in the tree, as the anchor's (relative to the source's directory).
  const inAnchor = (r: string) => (base ? (r ? `${base}/${r}` : base) : r);
  const hostPathOf = (r: string) => (inAnchor(r) === '' ? anchor.dir('') : anchor.at(inAnchor(r)));
  return {
    keepOwners: true,
    async lookup(r) {
      const p = hostPathOf(r);
      // The anchor's own root is a descriptor's path in /proc: its stat, not the link's.
      const st = inAnchor(r) === '' ? fs.statSync(p) : fs.lstatSync(p, { throwIfNoEntry: false });
      return st && nodeOf(r, p, st);
    },
    async children(n) {
      // Nothing holds a path below a descriptor: file bodies are opened by `open`, links read at once.
      if (anchor.full) anchor.trim();
      const dir = anchor.dir(inAnchor(n.rel));
      return fs.readdirSync(dir).sort().flatMap((name) => {
        const r = n.rel ? `${n.rel}/${name}` : name;
        const p = `${dir}/${name}`;
        const st = fs.lstatSync(p, { throwIfNoEntry: false });
        return st ? [nodeOf(r, p, st)] : [];
      });
    },
    open: (n) => anchor.openFile(inAnchor(n.rel)),
    close: () => anchor.close(),
  };
}
