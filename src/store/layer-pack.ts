// Overlay upper dir -> OCI layer tar. 0/0 character devices become `.wh.NAME`, the
// trusted.overlay.opaque xattr becomes `DIR/.wh..wh..opq`; entries in sorted order, owners,
// modes, mtimes (clamped to SOURCE_DATE_EPOCH when given) and other xattrs kept; files
// hard-linked within the layer become tar links to the first name.
import fsSync from 'node:fs';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { StrataError } from '../errors.js';
import { crc32, type TarTap } from './tar-split.js';
import { END_OF_ARCHIVE, encodeHeader, encodeSimpleHeader, padding, type TarHeaderFields } from './tar/writer.js';
import { readXattrsTree } from './xattr.js';

export interface PackOptions {
  /** Clamp every mtime to at most this (seconds since the epoch). */
  sourceDateEpoch?: number;
  /**
   * The caller means to keep `dir` itself as the layer's snapshot: while packing, also bring it
   * to what extracting the tar would give (see SnapshotPrep). Only for a directory the caller owns.
   */
  prepare?: SnapshotPrep;
  /** Told, once the tree is walked and before the first chunk, the total size of its regular files. */
  onWalked?: (fileBytes: number) => void;
  /** Told every byte of the tar in order: file content as a reference to the file (its path in `dir`). */
  tap?: TarTap;
}

/**
 * Filled in by packLayer when asked to prepare the packed directory as a snapshot. Mtimes above
 * SOURCE_DATE_EPOCH are clamped in place (a later step reading the snapshot, e.g. `RUN tar`,
 * must see what a pulled copy of the layer shows); xattrs an extraction would not set
 * (trusted.overlay.origin/impure left by overlayfs, system.*, other trusted.*) are listed for
 * the caller to remove once the tar is safely stored. `usable` turns false when the directory
 * cannot become the snapshot: an inode to clamp has other names that may lie in another
 * snapshot (a COPY links unchanged files from the previous build's snapshot).
 */
export interface SnapshotPrep {
  usable: boolean;
  /** Absolute path -> names of xattrs to remove. */
  strip: Map<string, string[]>;
}

/** What extraction (layer-unpack.ts) keeps of an entry's xattrs. */
function extractionKeeps(name: string, value: Buffer): boolean {
  if (name === OPAQUE_XATTR) return value.toString() === 'y';
  return name.startsWith('user.') || name.startsWith('security.');
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(512);

/**
 * Gathers the tar into one reused 1 MiB buffer, file data read straight into it: packing
 * allocates nothing per file, so a big tree leaves no garbage buffers behind for the GC to
 * catch up with (they made most of the packing process's peak memory).
 */
class Output {
  private readonly buf = Buffer.allocUnsafeSlow(CHUNK);
  private readonly block = Buffer.alloc(512);
  private used = 0;

  constructor(private readonly tap?: TarTap) {}

  /** Appends an entry's header: most go through one reused block, the rest through encodeHeader. */
  *header(f: TarHeaderFields): Generator<Buffer> {
    this.block.fill(0);
    yield* this.push(encodeSimpleHeader(f, this.block) ? this.block : encodeHeader(f));
  }

  /** Copies `b` in; yields the buffer each time it fills. */
  *push(b: Uint8Array): Generator<Buffer> {
    this.tap?.verbatim(b);
    let off = 0;
    while (off < b.length) {
      const n = Math.min(CHUNK - this.used, b.length - off);
      this.buf.set(b.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === CHUNK) yield* this.flush();
    }
  }

  /** Appends `size` bytes read from `fd` (the file `rel` of the layer); yields the buffer each time it fills. */
  *read(fd: number, size: number, rel: string): Generator<Buffer> {
    let left = size;
    let crc = 0;
    while (left > 0) {
      const n = fsSync.readSync(fd, this.buf, this.used, Math.min(CHUNK - this.used, left), null);
      if (n === 0) throw new StrataError(`file "${rel}" changed size while it was packed`);
      if (this.tap) crc = crc32(this.buf.subarray(this.used, this.used + n), crc);
      this.used += n;
      left -= n;
      if (this.used === CHUNK) yield* this.flush();
    }
    this.tap?.file(rel, size, crc);
  }

  *flush(): Generator<Buffer> {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    yield n === CHUNK ? this.buf : this.buf.subarray(0, n);
  }
}

/** A device number's major and minor parts (glibc's gnu_dev_major/minor). */
export function major(rdev: number): number {
  return ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
export function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Walked {
  rel: string;
  abs: string;
  st: Stats;
}

// Synchronous metadata and reads (see layer-unpack.ts): microsecond syscalls, not pool round
// trips. Into one array, depth first in name order: no generator resumed per entry and level.
function walk(root: string, rel: string, out: Walked[]): Walked[] {
  const dirAbs = path.join(root, rel);
  const prefix = dirAbs.endsWith('/') ? dirAbs : `${dirAbs}/`;
  const names = fsSync.readdirSync(dirAbs).sort(byName);
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const abs = prefix + name;
    const st = fsSync.lstatSync(abs);
    out.push({ rel: r, abs, st });
    if (st.isDirectory()) walk(root, r, out);
  }
  return out;
}

/**
 * Streams the OCI layer tar of `dir` (an overlay upper dir or any directory). The chunks share
 * one buffer: each is valid only until the next is asked for (copy it to keep it).
 */
export async function* packLayer(dir: string, options: PackOptions = {}): AsyncGenerator<Buffer> {
  // getfattr runs in its own process while this thread walks the tree.
  const reading = readXattrsTree(dir);
  let entries: Walked[];
  try {
    entries = walk(dir, '', []);
  } catch (err) {
    await reading.catch(() => undefined);
    throw err;
  }
  const xattrs = await reading;
  if (options.onWalked) {
    let bytes = 0;
    for (const { st } of entries) if (st.isFile()) bytes += st.size;
    options.onWalked(bytes);
  }
  // A plain loop, not yield*: delegating to a sync generator from an async one costs a promise
  // and a microtask turn per step, i.e. several per entry; this way one per full chunk.
  for (const chunk of packEntries(dir, entries, xattrs, options)) yield chunk;
}

function* packEntries(dir: string, entries: Walked[], xattrs: Map<string, Map<string, Buffer>>, options: PackOptions): Generator<Buffer> {
  const epoch = options.sourceDateEpoch;
  const out = new Output(options.tap);
  const links = new Map<string, string>();
  const emit = (b: Buffer) => out.push(b);
  const header = (f: TarHeaderFields) => out.header(f);
  const prep = options.prepare;
  const shared = new Map<string, { abs: string; nlink: number; seen: number }>();
  if (prep) {
    const rootX = xattrs.get(dir);
    // The tar has no entry for the root: an extracted snapshot's root has no xattrs.
    if (rootX) prep.strip.set(dir, [...rootX.keys()].filter((k) => !k.startsWith('security.')));
  }
  for (const { rel, abs, st } of entries) {
    let mtime = Math.floor(st.mtimeMs / 1000);
    if (epoch !== undefined && mtime > epoch) {
      mtime = epoch;
      if (prep) clampInPlace(abs, st, epoch, shared);
    }
    const own = xattrs.get(abs);
    if (prep && !extractedAlike(rel, st)) prep.usable = false;
    if (prep && own) {
      const whiteout = st.isCharacterDevice() && st.rdev === 0; // packed without xattrs
      const drop = [...own].filter(([k, v]) => whiteout || !extractionKeeps(k, v)).map(([k]) => k);
      if (drop.length) prep.strip.set(abs, drop);
    }
    if (own?.has('trusted.overlay.redirect') || own?.has('trusted.overlay.metacopy')) {
      // The content lives in a lower layer under another name: a tar cannot say that.
      throw new StrataError(`cannot pack "${rel}": it uses overlayfs redirect_dir or metacopy (mount overlays with redirect_dir=off,metacopy=off)`);
    }
    const kept = own ? new Map([...own].filter(([k]) => !k.startsWith('trusted.overlay.'))) : undefined;
    const base: Omit<TarHeaderFields, 'type' | 'path'> = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime, xattrs: kept };
    if (st.isDirectory()) {
      yield* header({ ...base, path: `${rel}/`, type: 'dir' });
      if (own?.get(OPAQUE_XATTR)?.toString() === 'y') {
        yield* header({ ...base, xattrs: undefined, path: `${rel}/.wh..wh..opq`, type: 'file', size: 0 });
      }
    } else if (st.isCharacterDevice() && st.rdev === 0) {
      const name = `${path.posix.dirname(rel) === '.' ? '' : `${path.posix.dirname(rel)}/`}.wh.${path.posix.basename(rel)}`;
      yield* header({ ...base, xattrs: undefined, mode: 0, path: name, type: 'file', size: 0 });
    } else if (st.isSymbolicLink()) {
      yield* header({ ...base, path: rel, type: 'symlink', linkpath: fsSync.readlinkSync(abs) });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isCharacterDevice() ? 'char' : 'block';
      yield* header({ ...base, path: rel, type, devmajor: major(st.rdev), devminor: minor(st.rdev) });
    } else if (st.isFIFO()) {
      yield* header({ ...base, path: rel, type: 'fifo' });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        yield* header({ ...base, path: rel, type: 'link', linkpath: first });
        continue;
      }
      if (st.nlink > 1) links.set(key, rel);
      yield* header({ ...base, path: rel, type: 'file', size: st.size });
      yield* packFile(abs, rel, st, out);
      yield* emit(ZEROS.subarray(0, padding(st.size)));
    }
    // Sockets cannot be carried in a layer; Docker skips them too.
  }
  if (prep && epoch !== undefined) clampShared(shared, epoch, prep);
  yield* emit(END_OF_ARCHIVE);
  yield* out.flush();
}

/** False for what extraction leaves out or reads differently: devices, fifos, sockets, a real file named `.wh.*`. */
function extractedAlike(rel: string, st: Stats): boolean {
  if (st.isCharacterDevice()) return st.rdev === 0;
  if (path.posix.basename(rel).startsWith('.wh.')) return false;
  return st.isFile() || st.isDirectory() || st.isSymbolicLink();
}

/**
 * Clamps an entry's times in place. A child's times never move its directory's mtime, so
 * clamping in walk order is final. An inode with several names waits in `shared` until the
 * walk has seen how many of them the layer holds: one named outside may be in another snapshot.
 */
function clampInPlace(abs: string, st: Stats, epoch: number, shared: Map<string, { abs: string; nlink: number; seen: number }>): void {
  if (st.isDirectory() || st.nlink === 1) {
    fsSync.lutimesSync(abs, epoch, epoch);
    return;
  }
  const key = `${st.dev}:${st.ino}`;
  const s = shared.get(key) ?? { abs, nlink: st.nlink, seen: 0 };
  s.seen++;
  shared.set(key, s);
}

/** Clamps the shared inodes whose every name is in the layer; otherwise the dir cannot be the snapshot. */
function clampShared(shared: Map<string, { abs: string; nlink: number; seen: number }>, epoch: number, prep: SnapshotPrep): void {
  for (const s of shared.values()) if (s.seen !== s.nlink) prep.usable = false;
  if (prep.usable) for (const s of shared.values()) fsSync.lutimesSync(s.abs, epoch, epoch);
}

/**
 * The file the walk saw (ST), read into the layer. It is opened by its path again: a running
 * container whose layer this is (`commit --pause=false`) may have swapped a parent directory for
 * a symlink meanwhile, which the host would follow out of the upper dir. So what was opened
 * must be the very inode the walk saw, or nothing is read.
 */
function* packFile(abs: string, rel: string, st: Stats, out: Output): Generator<Buffer> {
  const fd = fsSync.openSync(abs, fsSync.constants.O_RDONLY | fsSync.constants.O_NOFOLLOW);
  try {
    const opened = fsSync.fstatSync(fd);
    if (opened.ino !== st.ino || opened.dev !== st.dev) throw new StrataError(`file "${rel}" was replaced while it was packed`);
    yield* out.read(fd, st.size, rel);
  } finally {
    fsSync.closeSync(fd);
  }
}
