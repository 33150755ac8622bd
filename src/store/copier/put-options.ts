// What a put (put.ts) is told and what it answers: whose rules apply, where its temp files go,
// how the destination is named in messages, and the hooks of its callers.
import type { TarEntry } from '../tar/reader.js';
import type { SplitWriter } from '../tar-split.js';
import type { CopyEntry } from './get.js';

export interface PutOptions {
  /**
   * - layer: an OCI layer (`.wh.NAME` is a 0/0 char device whiteout, `.wh..wh..opq` the opaque xattr);
   * - cp: docker cp (plain names; a directory and a non-directory never replace each other);
   * - archive: ADD's local archives, as Docker's Untar in a chroot at the destination (names
   *   cleaned, "/etc/x" is "etc/x", only ".." above it refused; links in the tree, the
   *   archive's own included, followed inside the destination as if it were the root);
   * - tree: COPY from a tree (plain names, an entry replaces what is in its way).
   */
  rules: 'layer' | 'cp' | 'archive' | 'tree';
  /** Where setfattr's input file goes (the store's tmp dir). */
  tmpDir: string;
  /** How the destination directory is named in messages (a container path), "/" by default. */
  shownAs?: string;
  /** Records the tar as it is read (tar-split.ts), so it can be rebuilt from the snapshot. */
  split?: SplitWriter;
  /**
   * The directory the destination lies in, for a destination others may change while it is
   * written (a running container's root, a volume a running container shares): the put walks
   * the destination's components from it and every path below them anchored to open
   * directories (anchor.ts), so no directory swapped for a symlink meanwhile is followed.
   */
  anchoredIn?: string;
  /** Called with each entry before it is placed: throws to refuse it (and stop the copy). */
  check?: (e: TarEntry) => void;
  /**
   * Before a file is written: may place it by other means (COPY links an unchanged file from
   * the previous build's layer) and return true. `abs` does not exist when it is called.
   */
  reuse?: (entry: CopyEntry, abs: string) => boolean;
}

export interface PutResult {
  entries: number;
  warnings: string[];
}
