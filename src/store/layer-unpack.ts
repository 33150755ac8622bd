// OCI layer tar -> snapshot directory in overlay form (`.wh.NAME` -> 0/0 char device,
// `.wh..wh..opq` -> trusted.overlay.opaque=y), extracted safely: every parent is resolved
// component by component with lstat from the target root, so no entry can be written outside
// it: absolute names and `..` are refused, as are writes through a symlink (even one planted
// earlier in the same archive) and hard links to anything outside or not a file. Device
// nodes are skipped with a warning; size and entry-count limits bound decompression bombs.
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { readTar, type ChunkSource, type TarEntry, type TarLimits } from './tar/reader.js';
import type { SplitWriter } from './tar-split.js';
import { makeWhiteouts, writeXattrs } from './xattr.js';
import { OPAQUE_XATTR } from './layer-pack.js';

export interface UnpackOptions {
  limits?: TarLimits;
  /** Where setfattr's input file goes (the store's tmp dir). */
  tmpDir: string;
  /** Records the tar as it is read (tar-split.ts), so it can be rebuilt from the snapshot. */
  split?: SplitWriter;
}

/**
 * How `cp - CONTAINER:DIR` differs from a layer: `.wh.*` names are ordinary files (no
 * whiteouts, no opaque xattr), and, as Docker's copy, an existing directory is never replaced
 * by a non-directory nor the reverse.
 */
export interface CopyExtractOptions extends UnpackOptions {
  plainNames: true;
  /** How the destination directory is named in messages (the container path), "/" by default. */
  shownAs?: string;
  /** Called with each entry before it is placed: throws to refuse it (and stop the copy). */
  check?: (e: TarEntry) => void;
}

/**
 * ADD's local archives, as Docker's Untar in a chroot at the destination: `.wh.*` names are
 * ordinary files, an entry replaces what is in its way, names are cleaned ("/etc/x" is "etc/x";
 * only ".." above the destination is refused), and links in the tree, the archive's own
 * included, are followed inside the destination as if it were the root.
 */
export interface ArchiveExtractOptions extends UnpackOptions {
  confined: true;
}

type Mode = 'layer' | 'copy' | 'archive';

export interface UnpackResult {
  entries: number;
  warnings: string[];
}

export interface ExtractResult extends UnpackResult {
  /** The archive's entry names, cleaned (relative to the destination, no trailing "/"). */
  names: string[];
}

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

function refuse(name: string, why: string): StrataError {
  return new StrataError(`refusing archive entry "${name}": ${why}`);
}

/**
 * An archive name cleaned as Docker's Untar does: "" and "." dropped, ".." taken back, a leading
 * "/" meaning the destination (so "/../x" is "x"); a relative name that climbs above the
 * destination is refused.
 */
export function cleanComponents(name: string): string[] {
  if (name.includes('\0')) throw refuse(name, 'NUL in name');
  const out: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p !== '..') out.push(p);
    else if (out.length) out.pop();
    else if (!name.startsWith('/')) throw refuse(name, 'it would be written outside the destination');
  }
  return out;
}

/** Splits an archive name into safe components, or throws. */
export function safeComponents(name: string, { allowAbsolute = false } = {}): string[] {
  if (name.includes('\0')) throw refuse(name, 'NUL in name');
  if (name.startsWith('/') && !allowAbsolute) throw refuse(name, 'absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse(name, 'path escapes the root ("..")');
  return parts;
}

interface DirMeta {
  abs: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

class Extractor {
  /** Directories (relative) known to be real directories inside the root. */
  private dirs = new Set<string>(['']);
  private dirMeta = new Map<string, DirMeta>();
  /** Whiteouts to create at the end, with their mtimes. */
  private whiteouts = new Map<string, number>();
  private xattrs = new Map<string, Map<string, Buffer>>();
  /** Files whose content the tar-split refers to: relative path -> file record. */
  private content = new Map<string, { index: number; size: number }>();
  readonly warnings: string[] = [];
  private readonly isRoot = process.getuid?.() === 0;

  constructor(private readonly root: string, private readonly mode: Mode = 'layer', private readonly shownAs = '/', private readonly split?: SplitWriter) {}

  /** The container path of `rel` (relative to the destination), for messages. */
  private shown(rel: string): string {
    return path.posix.join(this.shownAs, rel);
  }

  /** Before `rel` is removed: content the tar-split refers to under it moves into the tar-split. */
  private async keepContent(rel: string): Promise<void> {
    if (!this.split || this.content.size === 0) return;
    for (const [r, c] of this.content) {
      if (r !== rel && !r.startsWith(`${rel}/`)) continue;
      await this.split.keepAside(c.index, path.join(this.root, r), c.size);
      this.content.delete(r);
    }
  }

  /** Resolves (creating as needed) the parent directories of `parts`, refusing symlinks. */
  private async parent(parts: string[], name: string, create = true): Promise<string> {
    let rel = '';
    for (const p of parts.slice(0, -1)) {
      const next = rel ? `${rel}/${p}` : p;
      if (!this.dirs.has(next)) {
        const abs = path.join(this.root, next);
        const st = lstatOrUndefined(abs);
        if (!st && !create) throw refuse(name, `"${next}" does not exist in the archive`);
        if (!st) fsSync.mkdirSync(abs, { mode: 0o755 });
        else if (st.isSymbolicLink()) throw refuse(name, `"${next}" is a symlink`);
        else if (!st.isDirectory()) throw refuse(name, `"${next}" is not a directory`);
        this.dirs.add(next);
      }
      rel = next;
    }
    return rel;
  }

  /** Removes whatever is at `rel` (before an entry replaces it). */
  private async clear(rel: string, keepDir: boolean): Promise<void> {
    const abs = path.join(this.root, rel);
    if (this.whiteouts.size) {
      for (const w of this.whiteouts.keys()) if (w === abs || w.startsWith(`${abs}/`)) this.whiteouts.delete(w);
    }
    const st = lstatOrUndefined(abs);
    if (!st) return;
    if (keepDir && st.isDirectory()) return;
    if (this.mode === 'copy' && st.isDirectory() !== keepDir) {
      throw new StrataError(keepDir ? `cannot overwrite non-directory "${this.shown(rel)}" with directory` : `cannot overwrite directory "${this.shown(rel)}" with non-directory`);
    }
    await this.keepContent(rel);
    await fs.rm(abs, { recursive: true, force: true });
    for (const d of this.dirs) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
    for (const d of this.dirMeta.keys()) if (d === rel || d.startsWith(`${rel}/`)) this.dirMeta.delete(d);
    for (const x of this.xattrs.keys()) if (x === rel || x.startsWith(`${rel}/`)) this.xattrs.delete(x);
  }

  private async owner(abs: string, e: TarEntry): Promise<void> {
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
      const abs = path.join(this.root, rel);
      const st = lstatOrUndefined(abs);
      if (st?.isSymbolicLink()) {
        if (++links > 40) throw refuse(name, 'too many levels of symbolic links');
        const target = fsSync.readlinkSync(abs);
        if (target.startsWith('/')) done.length = 0;
        todo.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
        continue;
      }
      if (!st && !create) throw refuse(name, `"${rel}" does not exist in the archive`);
      if (!st) fsSync.mkdirSync(abs, { mode: 0o755 });
      else if (!st.isDirectory()) throw refuse(name, `"${rel}" is not a directory`);
      done.push(p);
    }
    return done.join('/');
  }

  async entry(e: TarEntry): Promise<void> {
    const archive = this.mode === 'archive';
    const parts = archive ? cleanComponents(e.path) : safeComponents(e.path);
    if (parts.length === 0) return; // "./": the root itself keeps the snapshot's own metadata
    const parentRel = archive ? this.parentInside(parts, e.path, true) : await this.parent(parts, e.path);
    const base = parts[parts.length - 1];
    const rel = parentRel ? `${parentRel}/${base}` : base;
    if (base.startsWith('.wh.') && this.mode === 'layer') return this.whiteout(parentRel, base, e);
    const abs = path.join(this.root, rel);
    switch (e.type) {
      case 'dir': {
        await this.clear(rel, true);
        if (!lstatOrUndefined(abs)) fsSync.mkdirSync(abs, { mode: 0o700 });
        this.dirs.add(rel);
        this.dirMeta.set(rel, { abs, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
        break;
      }
      case 'file': {
        await this.clear(rel, false);
        const fd = fsSync.openSync(abs, fsSync.constants.O_WRONLY | fsSync.constants.O_CREAT | fsSync.constants.O_EXCL | fsSync.constants.O_NOFOLLOW, 0o600);
        if (this.split) {
          if (!e.storedAt) throw new Error('a tar-split is recorded from readTar entries only');
          this.content.set(rel, { index: this.split.nextIndex, size: e.size });
          e.storedAt(rel);
        }
        try {
          for await (const chunk of e.body()) writeAll(fd, chunk);
          if (this.isRoot) fsSync.fchownSync(fd, e.uid, e.gid);
          fsSync.fchmodSync(fd, e.mode); // after chown, which clears set-id bits
          fsSync.futimesSync(fd, e.mtime, e.mtime);
        } finally {
          fsSync.closeSync(fd);
        }
        break;
      }
      case 'symlink': {
        await this.clear(rel, false);
        // The target is data, never followed here; inside a container it resolves in the container's root.
        fsSync.symlinkSync(e.linkpath, abs);
        await this.owner(abs, e);
        fsSync.lutimesSync(abs, e.mtime, e.mtime);
        break;
      }
      case 'link': {
        const target = await this.linkTarget(e);
        await this.clear(rel, false);
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
    // Resolving the target creates nothing: a link to a missing path is refused as it stands.
    let parentRel: string;
    try {
      parentRel = archive ? this.parentInside(parts, e.path, false) : await this.parent(parts, e.path, false);
    } catch (err) {
      if (/does not exist in the archive$/.test((err as Error).message)) throw refuse(e.path, `hard link target "${e.linkpath}" does not exist in the archive`);
      throw err;
    }
    const abs = path.join(this.root, parentRel, parts[parts.length - 1]);
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
    await this.clear(rel, false);
    this.whiteouts.set(path.join(this.root, rel), e.mtime);
  }

  async finish(tmpDir: string): Promise<void> {
    await makeWhiteouts([...this.whiteouts.keys()]);
    for (const [abs, mtime] of this.whiteouts) await fs.lutimes(abs, mtime, mtime);
    const withX = [...this.xattrs].map(([rel, xattrs]) => ({ path: path.join(this.root, rel), xattrs }));
    await writeXattrs(withX, tmpDir, this.root);
    // Directories last and deepest first, so creating their children does not move their mtimes.
    const dirs = [...this.dirMeta.values()].sort((a, b) => b.abs.length - a.abs.length);
    for (const d of dirs) {
      if (this.isRoot) await fs.lchown(d.abs, d.uid, d.gid);
      await fs.chmod(d.abs, d.mode);
      await fs.utimes(d.abs, d.mtime, d.mtime);
    }
  }
}

/** Extracts a layer tar (uncompressed) into `dest`, an existing empty directory. */
export async function unpackLayer(source: ChunkSource, dest: string, options: UnpackOptions): Promise<UnpackResult> {
  const x = new Extractor(dest, 'layer', '/', options.split);
  let entries = 0;
  for await (const e of readTar(source, options.limits, options.split)) {
    await x.entry(e);
    entries++;
    if (options.split?.congested) await options.split.drained();
  }
  await x.finish(options.tmpDir);
  return { entries, warnings: x.warnings };
}

/**
 * Extracts a tar (plain or compressed) into the existing directory `dest` with the layer
 * rules (nothing written outside `dest`, through a symlink or as a hard link out), for
 * `cp - CONTAINER:DIR` (see CopyExtractOptions), or, for ADD, confined to `dest` as if it were
 * the root (see ArchiveExtractOptions).
 */
export async function extractCopy(source: ChunkSource, dest: string, options: CopyExtractOptions | ArchiveExtractOptions): Promise<ExtractResult> {
  const { decompressed } = await import('./decompress.js');
  const names: string[] = [];
  async function* noted(): AsyncGenerator<TarEntry> {
    for await (const e of readTar(decompressed(source, options.limits?.maxBytes), options.limits)) {
      names.push(e.path);
      yield e;
    }
  }
  const result = await placeEntries(noted(), dest, options);
  // Every name was accepted by the extraction: cleaning it cannot throw.
  return { ...result, names: names.map((n) => cleanComponents(n).join('/')).filter(Boolean) };
}

/**
 * Places entries (read from a tar, or made from a host tree by `cp`) into the existing
 * directory `dest` with the rules of extractCopy.
 */
export async function placeEntries(entries: AsyncIterable<TarEntry>, dest: string, options: CopyExtractOptions | ArchiveExtractOptions): Promise<UnpackResult> {
  const x = 'confined' in options ? new Extractor(dest, 'archive') : new Extractor(dest, 'copy', options.shownAs);
  const check = 'check' in options ? options.check : undefined;
  let count = 0;
  for await (const e of entries) {
    check?.(e);
    await x.entry(e);
    count++;
  }
  await x.finish(options.tmpDir);
  return { entries: count, warnings: x.warnings };
}
