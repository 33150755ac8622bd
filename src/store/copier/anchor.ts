// A directory tree written while others may change it: a running container's root seen through
// /proc/PID/root, or a volume another running container shares. Checking a path with lstat and
// then using it lets them swap a checked directory for a symlink in between, which the host
// would follow out of the root (CVE-2018-15664's race). So every directory is reached from the
// root held open, one component at a time, each opened without following a symlink, and kept
// open; every name is then used below its directory's descriptor (/proc/PID/fd/N/NAME), which
// the kernel does not walk again. Whatever is swapped meanwhile is either refused or stays
// inside the root.
import fsSync from 'node:fs';
import { StrataError } from '../../errors.js';

/** O_PATH (Linux): a descriptor that only pins its directory, not in Node's fs.constants. */
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY } = fsSync.constants;

/** The path of our descriptor FD: valid in this process and, while it is open, in its children (setfattr). */
export function fdPath(fd: number): string {
  return `/proc/${process.pid}/fd/${fd}`;
}

/** Directories held open at once before the cache is emptied (its callers choose when). */
const MAX_OPEN = 256;

export class Anchor {
  /** Open directories: path relative to the anchored root -> descriptor ('' is the root). */
  private readonly fds = new Map<string, number>();

  /**
   * Anchors at REL (components without symlinks, as resolved) inside ROOT, a directory of the
   * caller's own (a container's root, followed as given). `shown` names REL in messages.
   */
  constructor(root: string, rel: string, private readonly shown: (rel: string) => string) {
    let fd = fsSync.openSync(root, O_PATH | O_DIRECTORY);
    try {
      // A component of the destination itself that changed: the destination is named.
      for (const name of rel.split('/').filter(Boolean)) {
        const next = this.openBelow(fd, name, '');
        fsSync.closeSync(fd);
        fd = next;
      }
    } catch (err) {
      fsSync.closeSync(fd);
      throw err;
    }
    this.fds.set('', fd);
  }

  get size(): number {
    return this.fds.size;
  }

  /** Whether the cache is full enough that the caller should empty it (once nothing uses it). */
  get full(): boolean {
    return this.fds.size > MAX_OPEN;
  }

  /** The path of the directory REL (relative to the anchored root), opened without following links. */
  dir(rel: string): string {
    return fdPath(this.dirFd(rel));
  }

  /** The path of REL's entry below its directory's descriptor (the root itself for ''). */
  at(rel: string): string {
    if (rel === '') return this.dir('');
    const slash = rel.lastIndexOf('/');
    return slash < 0 ? `${this.dir('')}/${rel}` : `${this.dir(rel.slice(0, slash))}/${rel.slice(slash + 1)}`;
  }

  /** Opens the directory REL for its metadata (fchown, fchmod, futimes), without following a link. */
  openDir(rel: string): number {
    try {
      // The root is a descriptor's own path (a link in /proc, which O_NOFOLLOW would refuse).
      return fsSync.openSync(this.at(rel), O_RDONLY | O_DIRECTORY | (rel === '' ? 0 : O_NOFOLLOW));
    } catch (err) {
      throw this.changed(err, rel);
    }
  }

  /**
   * Opens REL itself as an O_PATH descriptor, not following a link (a mount's target, given
   * to mount(8) as fdPath): a directory when DIR, else a regular file; anything else refused.
   */
  pin(rel: string, dir: boolean): number {
    let fd: number;
    try {
      fd = fsSync.openSync(this.at(rel), O_PATH | O_NOFOLLOW | (dir ? O_DIRECTORY : 0));
    } catch (err) {
      throw this.changed(err, rel, dir ? 'directory' : 'file');
    }
    if (!dir && !fsSync.fstatSync(fd).isFile()) {
      fsSync.closeSync(fd);
      throw this.changedError(rel, 'file');
    }
    return fd;
  }

  /** Opens the file REL for reading, below its directory's descriptor, without following a link. */
  openFile(rel: string): number {
    try {
      return fsSync.openSync(this.at(rel), O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      throw this.changed(err, rel, 'file');
    }
  }

  /** Closes the descriptors of REL and everything under it (it was removed or replaced). */
  forget(rel: string): void {
    for (const [r, fd] of this.fds) {
      if (rel === '' ? r !== '' : r === rel || r.startsWith(`${rel}/`)) {
        fsSync.closeSync(fd);
        this.fds.delete(r);
      }
    }
  }

  /** Closes every descriptor but the root's: no path handed out before may be used after. */
  trim(): void {
    this.forget('');
  }

  close(): void {
    for (const fd of this.fds.values()) fsSync.closeSync(fd);
    this.fds.clear();
  }

  private dirFd(rel: string): number {
    const known = this.fds.get(rel);
    if (known !== undefined) return known;
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? this.fds.get('')! : this.dirFd(rel.slice(0, slash));
    const fd = this.openBelow(parent, rel.slice(slash + 1), rel);
    this.fds.set(rel, fd);
    return fd;
  }

  private openBelow(parent: number, name: string, rel: string): number {
    try {
      return fsSync.openSync(`${fdPath(parent)}/${name}`, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    } catch (err) {
      throw this.changed(err, rel);
    }
  }

  /** A directory (or file) that is no longer one (a symlink now, say): refused, in the user's terms. */
  private changed(err: unknown, rel: string, kind: 'directory' | 'file' = 'directory'): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOENT') return this.changedError(rel, kind);
    return err as Error;
  }

  private changedError(rel: string, kind: 'directory' | 'file'): StrataError {
    return new StrataError(`"${this.shown(rel)}" changed while it was copied to (it is not the ${kind} it was)`);
  }
}

/**
 * Removes NAME from the directory at DIR (a descriptor's path, fdPath) and everything under
 * it: each directory is opened without following a link and emptied below its descriptor, so a
 * directory swapped for a symlink meanwhile is unlinked as a link, never followed. A directory
 * of another filesystem under it (a mount) is not descended into: the removal stops there.
 */
export function removeBelow(dir: string, name: string, shown: string): void {
  const p = `${dir}/${name}`;
  let fd: number;
  try {
    fd = fsSync.openSync(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR' && code !== 'ELOOP') throw err;
    // A file or a symlink: unlinked, never followed.
    try {
      fsSync.unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return;
  }
  try {
    const here = fdPath(fd);
    const dev = fsSync.fstatSync(fd).dev;
    for (const child of fsSync.readdirSync(here)) {
      const st = fsSync.lstatSync(`${here}/${child}`, { throwIfNoEntry: false });
      if (!st) continue;
      if (!st.isDirectory()) fsSync.unlinkSync(`${here}/${child}`);
      else if (st.dev !== dev) throw new StrataError(`cannot replace directory "${shown}": "${shown}/${child}" is a mount point`);
      else removeBelow(here, child, `${shown}/${child}`);
    }
  } finally {
    fsSync.closeSync(fd);
  }
  fsSync.rmdirSync(p);
}
