// Resolving a container path inside a root, component by component with lstat, following
// symlinks only inside that root (as if chrooted): `..` and absolute link targets never climb
// above the root. Works over any FsView: a plain directory or the union of overlay layers.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { StrataError } from '../errors.js';

/** A read-only view of a tree, addressed by root-relative paths ('' is the root, 'a/b' below). */
export interface FsView {
  /** Stats the entry without following a final symlink; undefined when it does not exist. Its parent is a resolved directory. */
  lstat(rel: string): Promise<Stats | undefined>;
  readlink(rel: string): Promise<string>;
}

export interface Resolved {
  /** Root-relative path of the entry ('' for the root itself). */
  rel: string;
  /** Its stat, or undefined when only the last component is missing. */
  stat: Stats | undefined;
}

const MAX_LINKS = 40;

/**
 * A view of a plain directory tree. The root itself is stat'ed through a link: a running
 * container's root is /proc/PID/root, a link to its root directory.
 */
export function dirView(root: string): FsView {
  return {
    lstat: (rel) => (rel === '' ? fs.stat(root) : fs.lstat(path.join(root, rel))).catch(missingAsUndefined),
    readlink: (rel) => fs.readlink(path.join(root, rel)),
  };
}

export function missingAsUndefined(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
  throw err;
}

/** Splits a path into its meaningful components (no '', no '.'). */
export function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Resolves `containerPath` (absolute, or relative to the root) inside `view`. Symlinks are
 * followed inside the root; the last one only when `followLast`. A missing last component
 * gives `stat: undefined`; a missing or non-directory intermediate one throws ENOENT/ENOTDIR.
 */
export async function resolveInRoot(view: FsView, containerPath: string, options: { followLast: boolean }): Promise<Resolved> {
  const todo = components(containerPath);
  const done: string[] = [];
  let links = 0;
  let stat: Stats | undefined = undefined;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      stat = undefined;
      continue;
    }
    const rel = [...done, name].join('/');
    stat = await view.lstat(rel);
    const last = todo.length === 0;
    if (!stat) {
      if (last) return { rel, stat: undefined };
      throw fsError('ENOENT', containerPath);
    }
    if (stat.isSymbolicLink() && (!last || options.followLast)) {
      if (++links > MAX_LINKS) throw fsError('ELOOP', containerPath);
      const target = await view.readlink(rel);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...components(target));
      // A link to the root ("/", "..") leaves nothing to do: the root is stat'ed below, not the link.
      stat = undefined;
      continue;
    }
    if (!last && !stat.isDirectory()) throw fsError('ENOTDIR', containerPath);
    done.push(name);
  }
  const rel = done.join('/');
  return { rel, stat: stat ?? (await view.lstat(rel)) };
}

const WORDING: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

function fsError(code: string, p: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new StrataError(`${WORDING[code]}: "${p}"`);
  err.code = code;
  return err;
}
