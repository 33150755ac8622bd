// What a copy reads from: a tree of nodes with a host path each, walked by path. The build
// context, the union of an image's layers and a plain host directory (cp, a git checkout) are
// trees; get.ts turns a tree into a stream of entries that put.ts places.
import fs from 'node:fs';
import path from 'node:path';
import type { EntryType } from '../tar/reader.js';

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
}

export interface TreeSource {
  /** The node at a path, symlinks followed inside the tree (the last one too when followLast). */
  lookup(rel: string, followLast: boolean): Promise<TreeNode | undefined>;
  /** A directory's children, sorted by name. */
  children(node: TreeNode): Promise<TreeNode[]>;
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
