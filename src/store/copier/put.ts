// The writing half of the copier (as buildah's copier.Put): a stream of entries (read from a
// tar, or made from a tree by get.ts) placed into an existing directory, safely: every parent
// is resolved component by component with lstat from the destination, so no entry can be
// written outside it: absolute names and `..` are refused (or, for ADD, cleaned as Docker's
// Untar in a chroot does), as are writes through a symlink and hard links to anything outside
// or not a file. Device nodes are skipped with a warning. `rules` says whose rules apply.
// Files with a host source are copied several at once (writes.ts), and a tar's big files
// written from libuv's pool (file-data.ts), in the stream's order per path.
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { failpoint } from '../../failpoint.js';
import { StrataError } from '../../errors.js';
import { OPAQUE_XATTR } from '../layer-pack.js';
import { mountsInside, removeTree } from '../remove-tree.js';
import type { TarEntry } from '../tar/reader.js';
import type { SplitWriter } from '../tar-split.js';
import { makeWhiteouts, writeXattrs } from '../xattr.js';
import { Anchor, removeBelow } from './anchor.js';
import type { CopyEntry } from './get.js';
import { BACKGROUND_BYTES, writeInBackground } from './file-data.js';
import { cleanComponents, refuse, safeComponents } from './names.js';
import { Writes } from './writes.js';
import type { PutOptions, PutResult } from './put-options.js';

export type { PutOptions, PutResult } from './put-options.js';

// Metadata calls are synchronous: each is a microsecond syscall, where the async form costs a
// round trip through libuv's 4-thread pool; per-entry blocking stays tiny.
function lstatOrUndefined(p: string): fsSync.Stats | undefined {
  try {
    return fsSync.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length; ) off += fsSync.writeSync(fd, chunk, off, chunk.length - off);
}

interface DirMeta {
  rel: string;
  abs: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

class Placer {
  /** Directories (relative) known to be real directories inside the root. */
  private dirs = new Set<string>(['']);
  /**
   * Directories this call made (empty when made) and the paths it placed: in such a directory
   * only what was placed can exist, so nothing else needs an lstat before it is written.
   */
  private fresh = new Set<string>();
  private placed = new Set<string>();
  private dirMeta = new Map<string, DirMeta>();
  /** Whiteouts to create at the end, with their mtimes. */
  private whiteouts = new Map<string, number>();
  private xattrs = new Map<string, Map<string, Buffer>>();
  /** Files whose content the tar-split refers to: relative path -> file record. */
  private content = new Map<string, { index: number; size: number }>();
  readonly warnings: string[] = [];
  /** Copies from host sources still running: an entry at or under one of their paths waits for it. */
  readonly writes = new Writes();
  private readonly isRoot = process.getuid?.() === 0;

  private readonly root: string;
  private readonly mode: PutOptions['rules'];
  private readonly shownAs: string;
  private readonly split?: SplitWriter;
  /** With `anchoredIn`: the open directories every path is taken below (anchor.ts). */
  readonly anchor?: Anchor;

  constructor(root: string, private readonly options: PutOptions) {
    // Names are checked component by component: joined to the root by hand, not normalized again.
    this.root = path.resolve(root);
    this.mode = options.rules;
    this.shownAs = options.shownAs ?? '/';
    this.split = options.split;
    if (options.anchoredIn !== undefined) {
      const within = path.resolve(options.anchoredIn);
      const rel = path.relative(within, this.root);
      if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${this.root} is not in ${within}`);
      this.anchor = new Anchor(within, rel, (r) => this.shown(r));
    }
  }

  /** The host path of `rel` (checked components). */
  private abs(rel: string): string {
    return rel ? `${this.root}/${rel}` : this.root;
  }

  /** The path to use for `rel`: below its directory's open descriptor when anchored, else its host path. */
  private at(rel: string): string {
    return this.anchor ? this.anchor.at(rel) : this.abs(rel);
  }

  /** The container path of `rel` (relative to the destination), for messages. */
  private shown(rel: string): string {
    return path.posix.join(this.shownAs, rel);
  }

  /** Before `rel` is removed: content the tar-split refers to under it moves into the tar-split. */
  private async keepContent(rel: string): Promise<void> {
    if (!this.split || this.content.size === 0) return;
    for (const [r, c] of this.content) {
      if (r !== rel && !r.startsWith(`${rel}/`)) continue;
      await this.split.keepAside(c.index, this.abs(r), c.size);
      this.content.delete(r);
    }
  }

  /** Resolves (creating as needed) the parent directories of `parts`, refusing symlinks. */
  private parent(parts: string[], name: string, create = true): string {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      const next = rel ? `${rel}/${parts[i]}` : parts[i];
      if (!this.dirs.has(next)) {
        const abs = this.at(next);
        const st = lstatOrUndefined(abs);
        if (!st && !create) throw refuse(name, `"${next}" does not exist in the archive`);
        if (!st) {
          fsSync.mkdirSync(abs, { mode: 0o755 });
          this.fresh.add(next);
          this.placed.add(next);
        } else if (st.isSymbolicLink()) throw refuse(name, `"${next}" is a symlink`);
        else if (!st.isDirectory()) throw refuse(name, `"${next}" is not a directory`);
        this.dirs.add(next);
      }
      rel = next;
    }
    return rel;
  }

  /**
   * Removes whatever is at `rel` (before an entry replaces it); returns true when a directory
   * is kept there (`keepDir`).
   */
  private async clear(parentRel: string, rel: string, keepDir: boolean): Promise<boolean> {
    const fresh = !this.whiteouts.size && this.fresh.has(parentRel) && !this.placed.has(rel);
    this.placed.add(rel);
    if (fresh) return false; // nothing was made at or under `rel` by this call: no copy runs there
    if (this.writes.size) await this.writes.settleUnder(rel);
    if (this.whiteouts.size) {
      const host = this.abs(rel);
      for (const w of this.whiteouts.keys()) if (w === host || w.startsWith(`${host}/`)) this.whiteouts.delete(w);
    }
    const abs = this.at(rel);
    const st = lstatOrUndefined(abs);
    if (!st) return false;
    if (keepDir && st.isDirectory()) return true;
    if (this.mode === 'cp' && st.isDirectory() !== keepDir) {
      throw new StrataError(keepDir ? `cannot overwrite non-directory "${this.shown(rel)}" with directory` : `cannot overwrite directory "${this.shown(rel)}" with non-directory`);
    }
    await this.keepContent(rel);
    // A directory with a mount under it (in `build --output`'s destination, say) is not ours to empty.
    if (!st.isDirectory()) await fs.rm(abs, { force: true });
    else if (this.anchor) {
      const mounted = mountsInside(abs);
      if (mounted.length) throw new StrataError(`cannot replace directory "${this.shown(rel)}": "${mounted[mounted.length - 1]}" is mounted under it`);
      this.anchor.forget(rel);
      const slash = rel.lastIndexOf('/');
      removeBelow(this.anchor.dir(slash < 0 ? '' : rel.slice(0, slash)), rel.slice(slash + 1), this.shown(rel));
    } else {
      const mounted = await removeTree(abs);
      if (mounted.length) throw new StrataError(`cannot replace directory "${this.shown(rel)}": "${mounted[mounted.length - 1]}" is mounted under it`);
    }
    const below = (d: string) => d === rel || d.startsWith(`${rel}/`);
    for (const d of this.dirs) if (below(d)) this.dirs.delete(d);
    for (const d of this.fresh) if (below(d)) this.fresh.delete(d);
    for (const d of this.dirMeta.keys()) if (below(d)) this.dirMeta.delete(d);
    for (const x of this.xattrs.keys()) if (below(x)) this.xattrs.delete(x);
    return false;
  }

  private owner(abs: string, e: TarEntry): void {
    if (this.isRoot) fsSync.lchownSync(abs, e.uid, e.gid);
  }

  private keepXattrs(rel: string, e: TarEntry): void {
    const kept = new Map<string, Buffer>();
    for (const [k, v] of e.xattrs) {
      // Linux allows no user.* xattrs on symlinks; setting one would fail the whole layer.
      if (e.type === 'symlink' && k.startsWith('user.')) {
        this.warnings.push(`ignoring xattr "${k}" of symlink "${e.path}"`);
        continue;
      }
      // trusted.* belongs to the kernel's overlay (redirects, opacity): never from an archive.
      if (k.startsWith('trusted.')) this.warnings.push(`ignoring xattr "${k}" of "${e.path}"`);
      else if (k.startsWith('user.') || k.startsWith('security.')) kept.set(k, v);
    }
    if (kept.size) this.xattrs.set(rel, kept);
  }

  /**
   * Resolves the parent directories of `parts` inside the root, following links there as if it
   * were the root ("/" and ".." in a target never climb above it), making missing ones when
   * `create`: the archive mode's way to an entry.
   */
  private parentInside(parts: string[], name: string, create: boolean): string {
    const todo = parts.slice(0, -1);
    const done: string[] = [];
    for (let links = 0; todo.length > 0; ) {
      const p = todo.shift()!;
      if (p === '..') {
        done.pop();
        continue;
      }
      const rel = [...done, p].join('/');
      const abs = this.abs(rel);
      const st = lstatOrUndefined(abs);
      if (st?.isSymbolicLink()) {
        if (++links > 40) throw refuse(name, 'too many levels of symbolic links');
        const target = fsSync.readlinkSync(abs);
        if (target.startsWith('/')) done.length = 0;
        todo.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
        continue;
      }
      if (!st && !create) throw refuse(name, `"${rel}" does not exist in the archive`);
      if (!st) {
        fsSync.mkdirSync(abs, { mode: 0o755 });
        this.fresh.add(rel);
        this.placed.add(rel);
      } else if (!st.isDirectory()) throw refuse(name, `"${rel}" is not a directory`);
      done.push(p);
    }
    return done.join('/');
  }

  async entry(e: CopyEntry): Promise<void> {
    this.writes.check(); // a failed copy stops the stream: nothing is written after it
    if (this.anchor?.full) {
      // No copy still running may hold a path below a descriptor that is closed now.
      await this.writes.settleAll();
      this.anchor.trim();
    }
    const archive = this.mode === 'archive';
    const parts = archive ? cleanComponents(e.path) : safeComponents(e.path);
    if (parts.length === 0) return; // "./": the root itself keeps the snapshot's own metadata
    // A parent still being written as a file is refused as a finished one would be; the
    // archive's way follows links, so there every write ends first.
    if (this.writes.size) await (archive ? this.writes.settleAll() : this.writes.settlePath(parts, parts.length - 1));
    const parentRel = archive ? this.parentInside(parts, e.path, true) : this.parent(parts, e.path);
    const base = parts[parts.length - 1];
    const rel = parentRel ? `${parentRel}/${base}` : base;
    if (base.startsWith('.wh.') && this.mode === 'layer') return this.whiteout(parentRel, base, e);
    const abs = this.at(rel);
    switch (e.type) {
      case 'dir': {
        if (!(await this.clear(parentRel, rel, true))) {
          fsSync.mkdirSync(abs, { mode: 0o700 });
          this.fresh.add(rel);
        }
        this.dirs.add(rel);
        this.dirMeta.set(rel, { rel, abs: this.abs(rel), mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
        break;
      }
      case 'file': {
        await this.clear(parentRel, rel, false);
        if (this.options.reuse?.(e, abs)) return;
        if (e.source) {
          const source = e.source;
          await this.writes.start(rel, () => this.copyFile(source, abs, e));
          break;
        }
        const fd = fsSync.openSync(abs, fsSync.constants.O_WRONLY | fsSync.constants.O_CREAT | fsSync.constants.O_EXCL | fsSync.constants.O_NOFOLLOW, 0o600);
        if (this.split) {
          if (!e.storedAt) throw new Error('a tar-split is recorded from readTar entries only');
          this.content.set(rel, { index: this.split.nextIndex, size: e.size });
          e.storedAt(rel);
        }
        if (e.size >= BACKGROUND_BYTES) {
          // Its attributes are set once all of it is written, as a host source's copy's are.
          await writeInBackground(fd, e.body(), this.writes, rel, () => this.fileAttrs(fd, e));
          break;
        }
        try {
          for await (const chunk of e.body()) writeAll(fd, chunk);
          this.fileAttrs(fd, e);
        } finally {
          fsSync.closeSync(fd);
        }
        break;
      }
      case 'symlink': {
        await this.clear(parentRel, rel, false);
        // The target is data, never followed here; inside a container it resolves in the container's root.
        fsSync.symlinkSync(e.linkpath, abs);
        this.owner(abs, e);
        fsSync.lutimesSync(abs, e.mtime, e.mtime);
        break;
      }
      case 'link': {
        const target = await this.linkTarget(e);
        await this.clear(parentRel, rel, false);
        fsSync.linkSync(target, abs);
        // An archive's link entry carries the metadata of the file it shares (podman sets it).
        if (archive && fsSync.lstatSync(abs).isFile()) {
          if (this.isRoot) fsSync.lchownSync(abs, e.uid, e.gid);
          fsSync.chmodSync(abs, e.mode);
          fsSync.utimesSync(abs, e.mtime, e.mtime);
        }
        break;
      }
      default:
        this.warnings.push(`skipping ${e.type} entry "${e.path}": device files and fifos are not extracted`);
        return;
    }
    this.keepXattrs(rel, e);
  }

  /**
   * A local source is copied by the kernel (a reflink where the filesystem can), in libuv's
   * pool; the copy is then opened without following links to set its attributes.
   */
  private async copyFile(source: string, abs: string, e: TarEntry): Promise<void> {
    await fs.copyFile(source, abs, fsSync.constants.COPYFILE_EXCL | fsSync.constants.COPYFILE_FICLONE);
    const fd = fsSync.openSync(abs, fsSync.constants.O_RDONLY | fsSync.constants.O_NOFOLLOW);
    try {
      this.fileAttrs(fd, e);
    } finally {
      fsSync.closeSync(fd);
    }
  }

  private fileAttrs(fd: number, e: TarEntry): void {
    if (this.isRoot) fsSync.fchownSync(fd, e.uid, e.gid);
    fsSync.fchmodSync(fd, e.mode); // after chown, which clears set-id bits
    fsSync.futimesSync(fd, e.mtime, e.mtime);
  }

  private async linkTarget(e: TarEntry): Promise<string> {
    // Docker resolves link names from the layer root, absolute or not.
    const archive = this.mode === 'archive';
    let parts: string[];
    try {
      parts = archive ? cleanComponents(e.linkpath) : safeComponents(e.linkpath, { allowAbsolute: true });
    } catch (err) {
      throw refuse(e.path, `hard link target "${e.linkpath}" ${(err as Error).message.replace(/^.*": /, '')}`);
    }
    if (parts.length === 0) throw refuse(e.path, 'hard link to the root');
    // A link to a file copied earlier in this stream waits for its copy.
    if (this.writes.size) await (archive ? this.writes.settleAll() : this.writes.settlePath(parts));
    // Resolving the target creates nothing: a link to a missing path is refused as it stands.
    let parentRel: string;
    try {
      parentRel = archive ? this.parentInside(parts, e.path, false) : this.parent(parts, e.path, false);
    } catch (err) {
      if (/does not exist in the archive$/.test((err as Error).message)) throw refuse(e.path, `hard link target "${e.linkpath}" does not exist in the archive`);
      throw err;
    }
    const base = parts[parts.length - 1];
    const abs = this.at(parentRel ? `${parentRel}/${base}` : base);
    const st = lstatOrUndefined(abs);
    if (!st) throw refuse(e.path, `hard link target "${e.linkpath}" does not exist in the archive`);
    if (!st.isFile() && !st.isSymbolicLink()) throw refuse(e.path, `hard link target "${e.linkpath}" is not a file`);
    return abs;
  }

  private async whiteout(parentRel: string, base: string, e: TarEntry): Promise<void> {
    if (base === '.wh..wh..opq') {
      const m = this.xattrs.get(parentRel) ?? new Map<string, Buffer>();
      m.set(OPAQUE_XATTR, Buffer.from('y'));
      this.xattrs.set(parentRel, m);
      return;
    }
    if (base.startsWith('.wh..wh.')) return; // aufs metadata (.wh..wh.plnk etc.): meaningless here
    const name = base.slice('.wh.'.length);
    if (name === '' || name === '.' || name === '..') throw refuse(e.path, 'invalid whiteout');
    const rel = parentRel ? `${parentRel}/${name}` : name;
    await this.clear(parentRel, rel, false);
    this.whiteouts.set(this.abs(rel), e.mtime);
  }

  async finish(tmpDir: string): Promise<void> {
    await this.writes.settleAll();
    await makeWhiteouts([...this.whiteouts.keys()]);
    for (const [abs, mtime] of this.whiteouts) await fs.lutimes(abs, mtime, mtime);
    const withX = [...this.xattrs];
    // Anchored, each path holds its directory's descriptor open until setfattr has run: in
    // batches, the descriptors let go after each; otherwise one setfattr for all.
    const batch = this.anchor ? 200 : Math.max(withX.length, 1);
    for (let i = 0; i < withX.length; i += batch) {
      await writeXattrs(withX.slice(i, i + batch).map(([rel, xattrs]) => ({ path: this.at(rel), xattrs })), tmpDir, this.root);
      this.anchor?.trim();
    }
    // Directories last and deepest first, so creating their children does not move their mtimes.
    const dirs = [...this.dirMeta.values()].sort((a, b) => b.abs.length - a.abs.length);
    // Synchronous as the other metadata calls: a pool round trip each, in turn, took far longer.
    for (const d of dirs) {
      if (!this.anchor) {
        if (this.isRoot) fsSync.lchownSync(d.abs, d.uid, d.gid);
        fsSync.chmodSync(d.abs, d.mode);
        fsSync.utimesSync(d.abs, d.mtime, d.mtime);
        continue;
      }
      // Through the directory opened without following a link: never a symlink swapped in for it.
      const fd = this.anchor.openDir(d.rel);
      try {
        if (this.isRoot) fsSync.fchownSync(fd, d.uid, d.gid);
        fsSync.fchmodSync(fd, d.mode);
        fsSync.futimesSync(fd, d.mtime, d.mtime);
      } finally {
        fsSync.closeSync(fd);
      }
      if (this.anchor.full) this.anchor.trim();
    }
  }
}

/** Places `entries` into the existing directory `dest` (see PutOptions for whose rules). */
export async function put(entries: AsyncIterable<CopyEntry>, dest: string, options: PutOptions): Promise<PutResult> {
  const x = new Placer(dest, options);
  let count = 0;
  try {
    for await (const e of entries) {
      options.check?.(e);
      await x.entry(e);
      count++;
      if (options.split?.congested) await options.split.drained();
      if (options.rules === 'layer') failpoint('layer.unpacking');
      else if (options.rules === 'cp') failpoint('cp.placed');
    }
    await x.finish(options.tmpDir);
  } catch (err) {
    // The copies still running end before the failure is reported: none writes after it.
    await x.writes.drain();
    throw err;
  } finally {
    x.anchor?.close();
  }
  return { entries: count, warnings: x.warnings };
}
