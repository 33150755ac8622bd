// `cp` into a container, with docker cp's rules (moby's CopyInfoDestinationPath and
// PrepareArchiveCopy): the destination is resolved inside the container's root component by
// component (resolve.ts), its last link followed there; the copy is then a stream of entries
// (a tar from stdin, or the host tree as entries) placed into one existing directory by the
// store's extraction rules: directories merge, a file replaces a file or link, and neither a
// directory nor anything the copy does not replace is ever removed.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { describedFailure, StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { hostTree, treeEntries, type TarEntry } from '../store/index.js';
import { dirView, resolveInRoot, type Resolved } from './resolve.js';

export interface CopyOptions {
  /** `-L`: follow a symlink given as the source. */
  followLink: boolean;
  /** `-a`: keep the owners of what is copied (else the copy belongs to the user copying: root in a container). */
  keepOwners?: boolean;
  /** The container's name, for messages. */
  container: string;
}

export interface CopyResult {
  /** What was skipped or ignored (device files, xattrs strata does not carry). */
  warnings: string[];
}

/** What is copied: a file or a directory, the name it is copied under, and whether only its contents ("SRC/."). */
export interface CopySource {
  isDir: boolean;
  contentsOnly: boolean;
  name: string;
}

/** Where it goes: the destination resolved (its last link followed), and whether the path given ends in "/" or "/.". */
export interface CopyDestination {
  /** The resolved path: root-relative inside a container ('' is its root), absolute on the host. */
  resolved: string;
  stat: Stats | undefined;
  assertsDir: boolean;
  /** The path as the user gave it, for messages. */
  given: string;
}

/** The existing directory the entries are placed into, and the top entry's name (undefined: the source's contents). */
export interface Placement {
  dir: string;
  name: string | undefined;
}

/** "a/." and "." name a directory's contents. */
export function specifiesContents(p: string): boolean {
  return p === '.' || p.endsWith('/.');
}

/** docker cp's table (PrepareArchiveCopy): where SRC lands for each shape of DEST. */
export function placeCopy(src: CopySource, dst: CopyDestination): Placement {
  const parent = (p: string) => (path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p));
  if (dst.stat?.isDirectory()) return { dir: dst.resolved, name: src.contentsOnly ? undefined : src.name };
  if (dst.stat && src.isDir) throw new StrataError(`cannot copy a directory to a file: "${dst.given}"`);
  if (dst.assertsDir) {
    if (dst.stat) throw new StrataError(`not a directory: "${dst.given}"`);
    if (!src.isDir) throw new StrataError(`destination directory "${dst.given}" must exist`);
  }
  // A missing DEST becomes the copy (a directory source too); an existing file is replaced.
  return { dir: parent(dst.resolved), name: path.posix.basename(dst.resolved) };
}

/** Runs a copy step, turning a system error into one line naming the copy, never an internal path. */
export const describedCopy = describedFailure;

/** Resolves CONTAINER:PATH inside `root`, its last link followed as docker cp does for a destination. */
async function containerPath(root: string, given: string, container: string, followLast: boolean): Promise<Resolved> {
  try {
    return await resolveInRoot(dirView(root), given, { followLast });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new StrataError(`could not find the file ${given} in container ${container}`, 1);
    throw err;
  }
}

async function destinationIn(root: string, given: string, container: string): Promise<CopyDestination> {
  const found = await containerPath(root, given, container, true);
  return { resolved: found.rel, stat: found.stat, assertsDir: given.endsWith('/') || specifiesContents(given), given: `${container}:${given}` };
}

const KERNEL_DIRS = ['proc', 'sys', 'dev'];

/**
 * The root's top-level directories that are mounts of their own (procfs, sysfs, a /dev tmpfs):
 * a running container's, seen through /proc/PID/root. They are the kernel's, not the
 * container's files: a copy of the root leaves them out, and no copy writes into them (a file
 * over /dev/null would break the container; docker cp never reaches them either).
 */
export async function kernelMounts(root: string): Promise<Set<string>> {
  const rootDev = (await fs.stat(root)).dev;
  const out = new Set<string>();
  for (const name of KERNEL_DIRS) {
    const st = await fs.lstat(path.join(root, name)).catch(() => undefined);
    if (st?.isDirectory() && st.dev !== rootDev) out.add(name);
  }
  return out;
}

/**
 * For a copy into `dir` (root-relative): refuses at once a `dir` inside a kernel mount, and
 * gives the check for each entry placed into the root itself ("cp dir/. CTR:/" holding dev/null).
 */
async function kernelGuard(root: string, dir: string, container: string, name?: string): Promise<(e: TarEntry) => void> {
  const kernel = await kernelMounts(root);
  const refuse = (rel: string) => new StrataError(`refusing to copy to "${container}:/${rel}": /${rel.split('/')[0]} of a running container is the kernel's, not part of its filesystem`);
  if (kernel.has(dir.split('/')[0]!)) throw refuse(name ? path.posix.join(dir, name) : dir);
  return (e) => {
    const parts = e.path.split('/').filter((c) => c !== '' && c !== '.');
    if (dir === '' && parts.length > 0 && kernel.has(parts[0]!)) throw refuse(parts.join('/'));
  };
}

async function placeInto(root: string, placement: Placement, entries: AsyncIterable<TarEntry>, container: string): Promise<CopyResult> {
  const { placeEntries, limitsFromEnv } = await import('../store/index.js');
  const check = await kernelGuard(root, placement.dir, container, placement.name);
  const dir = path.join(root, placement.dir);
  // Anchored in the root: a container (or another sharing a volume with it) may change its tree meanwhile.
  return placeEntries(entries, dir, { plainNames: true, tmpDir: os.tmpdir(), limits: limitsFromEnv(), shownAs: `/${placement.dir}`, check, anchoredIn: root });
}

/** The host path SRC as a copy source: links before its last component followed, the last one with -L. */
export async function hostSource(src: string, followLink: boolean): Promise<{ abs: string; stat: Stats; source: CopySource }> {
  const given = path.resolve(src);
  const missing = () => new StrataError(`could not find the file ${src} on the host`, 1);
  let abs: string;
  try {
    abs = followLink ? await fs.realpath(given) : path.join(await fs.realpath(path.dirname(given)), path.basename(given));
  } catch {
    throw missing();
  }
  const stat = await fs.lstat(abs).catch(() => undefined);
  if (!stat) throw missing();
  if (!stat.isDirectory() && (src.endsWith('/') || specifiesContents(src))) throw new StrataError(`not a directory: "${src}"`, 1);
  return { abs, stat, source: { isDir: stat.isDirectory(), contentsOnly: stat.isDirectory() && specifiesContents(src), name: path.basename(given) } };
}

/**
 * A host file or tree as the entries of a tar, as docker cp turns every copy into a tar it
 * extracts (the copier's tree, read as a tar would give it): links are entries of their own,
 * never followed.
 */
export async function* hostEntries(abs: string, options: { name: string | undefined; owner?: { uid: number; gid: number }; omit?: ReadonlySet<string> }): AsyncGenerator<TarEntry> {
  const tree = hostTree(abs);
  const top = await tree.lookup('', false);
  if (top) yield* treeEntries(tree, top, options);
}

/** Copies the host path SRC into CONTAINER:DST (`root` is the container's root, writable). */
export async function copyToContainer(root: string, src: string, dst: string, options: CopyOptions): Promise<CopyResult> {
  const from = await hostSource(src, options.followLink);
  const dest = await destinationIn(root, dst, options.container);
  const placement = placeCopy(from.source, dest);
  failpoint('cp.resolved');
  const entries = hostEntries(from.abs, { name: placement.name, owner: options.keepOwners ? undefined : { uid: 0, gid: 0 } });
  return describedCopy(`copying "${src}" to "${dest.given}"`, () => placeInto(root, placement, entries, options.container));
}

/**
 * `cp - CONTAINER:DIR`: extracts a tar (plain or compressed) read from `input` into the
 * existing directory DIR of the container, with the store's extraction rules: no entry lands
 * outside DIR, none is written through a symlink, no hard link points out.
 */
export async function copyTarToContainer(root: string, input: AsyncIterable<Uint8Array>, dst: string, options: Pick<CopyOptions, 'container'>): Promise<CopyResult> {
  const found = await containerPath(root, dst, options.container, true);
  if (!found.stat) throw new StrataError(`could not find the file ${dst} in container ${options.container}`, 1);
  if (!found.stat.isDirectory()) throw new StrataError(`extraction point is not a directory: "${dst}"`, 1);
  failpoint('cp.resolved');
  const { extractCopy, limitsFromEnv } = await import('../store/index.js');
  const check = await kernelGuard(root, found.rel, options.container);
  const dir = path.join(root, found.rel);
  return describedCopy(`copying an archive to "${options.container}:${dst}"`, () =>
    extractCopy(input, dir, { plainNames: true, tmpDir: os.tmpdir(), limits: limitsFromEnv(), shownAs: `/${found.rel}`, check, anchoredIn: root }));
}
