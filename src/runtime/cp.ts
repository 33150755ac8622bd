// `cp` between a container and the host, confined to the container's root: the container-side
// path is resolved component by component with lstat, symlinks followed only inside the root
// (resolve.ts); copied trees keep their symlinks as links, never following them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StrataError } from '../errors.js';
import { dirView, resolveInRoot } from './resolve.js';

export interface CopyOptions {
  /** `-L`: follow a symlink given as the source. */
  followLink: boolean;
}

function notFound(what: string): StrataError {
  return new StrataError(`could not find the file ${what} in container`, 1);
}

async function copyTree(src: string, dst: string): Promise<void> {
  await fs.cp(src, dst, { recursive: true, force: true, verbatimSymlinks: true, preserveTimestamps: true, dereference: false });
}

/**
 * Copies the host tree SRC to DST inside a container root without ever writing through a link
 * the container planted: every existing destination entry is lstat'ed, and one that is not a
 * real directory where a directory goes is replaced, never followed.
 */
async function copyInto(src: string, dst: string): Promise<void> {
  const stat = await fs.lstat(src);
  const existing = await fs.lstat(dst).catch(() => undefined);
  if (stat.isDirectory()) {
    if (existing && !existing.isDirectory()) await fs.rm(dst, { recursive: true, force: true });
    if (!existing || !existing.isDirectory()) await fs.mkdir(dst, { mode: stat.mode & 0o7777 });
    for (const entry of await fs.readdir(src)) await copyInto(path.join(src, entry), path.join(dst, entry));
    await fs.chmod(dst, stat.mode & 0o7777);
    return;
  }
  if (existing) await fs.rm(dst, { recursive: true, force: true });
  if (stat.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dst);
  else if (stat.isFile()) await fs.copyFile(src, dst, fs.constants.COPYFILE_EXCL);
  else return; // devices, fifos and sockets are not copied
  await fs.lutimes(dst, stat.atime, stat.mtime);
}

/** Where SRC lands given DST, with Docker's rules: into an existing dir, else as DST itself. "/." copies a dir's contents. */
async function destinationFor(srcName: string, dst: string, dstStat: import('node:fs').Stats | undefined, contentsOnly: boolean, dstEndsWithSlash: boolean): Promise<string> {
  if (dstStat?.isDirectory()) return contentsOnly ? dst : path.join(dst, srcName);
  if (!dstStat && dstEndsWithSlash) throw new StrataError(`destination directory "${dst}" must exist`, 1);
  return dst;
}

/** Copies CONTAINER:SRC (inside `root`) to the host path DST (`-` writes a tar to stdout). */
export async function copyFromContainer(root: string, src: string, dst: string, options: CopyOptions): Promise<void> {
  const contentsOnly = /\/\.$/.test(src);
  let found;
  try {
    found = await resolveInRoot(dirView(root), src, { followLast: options.followLink || contentsOnly });
  } catch {
    throw notFound(src);
  }
  if (!found.stat) throw notFound(src);
  const hostSrc = path.join(root, found.rel);
  // The copy is named as the path was given (`-L link` copies the target under the link's name).
  const given = path.posix.basename(src.replace(/\/+$/, ''));
  const name = given && given !== '.' && given !== '..' ? given : path.posix.basename(found.rel) || '.';
  if (dst === '-') {
    const tar = await import('tar');
    // As `docker cp CONTAINER:PATH -`: the path under its own name (a dir's contents for "/." or
    // the root), owners kept; links inside stay links (node-tar never follows them).
    const whole = contentsOnly || found.rel === '';
    const cwd = whole ? hostSrc : path.dirname(hostSrc);
    const base = path.basename(hostSrc);
    const entries = whole ? (await fs.readdir(hostSrc)).sort() : [base];
    const rename = whole || name === base ? undefined : (e: { path: string }) => {
      if (e.path === base || e.path.startsWith(`${base}/`)) e.path = name + e.path.slice(base.length);
    };
    await pipeline(tar.create({ cwd, portable: false, preservePaths: false, onWriteEntry: rename }, entries), process.stdout);
    return;
  }
  const dstStat = await fs.stat(dst).catch(() => undefined);
  if (dstStat && !dstStat.isDirectory() && found.stat.isDirectory()) throw new StrataError(`cannot copy a directory to a file: "${dst}"`, 1);
  const target = await destinationFor(name, dst, dstStat, contentsOnly, dst.endsWith('/'));
  if (contentsOnly && found.stat.isDirectory()) {
    await fs.mkdir(target, { recursive: true });
    for (const entry of await fs.readdir(hostSrc)) await copyTree(path.join(hostSrc, entry), path.join(target, entry));
    return;
  }
  await copyTree(hostSrc, target);
}

/** Copies the host path SRC into CONTAINER:DST (`root` is the container's root, writable). */
export async function copyToContainer(root: string, src: string, dst: string): Promise<void> {
  const contentsOnly = /\/\.$/.test(src);
  const srcStat = await fs.lstat(src).catch(() => undefined);
  if (!srcStat) throw new StrataError(`could not find the file ${src} on the host`, 1);
  const view = dirView(root);
  let found;
  try {
    found = await resolveInRoot(view, dst, { followLast: true });
  } catch {
    throw new StrataError(`could not find the file ${path.posix.dirname(dst)} in container`, 1);
  }
  const target = await destinationFor(path.basename(path.resolve(src)), path.join(root, found.rel), found.stat, contentsOnly, dst.endsWith('/'));
  if (found.stat && !found.stat.isDirectory() && srcStat.isDirectory()) throw new StrataError(`cannot copy a directory to a file: "${dst}"`, 1);
  if (contentsOnly && srcStat.isDirectory()) {
    if (!(await fs.lstat(target).catch(() => undefined))) await fs.mkdir(target, { mode: srcStat.mode & 0o7777 });
    for (const entry of await fs.readdir(src)) await copyInto(path.join(src, entry), path.join(target, entry));
    return;
  }
  await copyInto(src, target);
}

/**
 * `cp - CONTAINER:DIR`: extracts a tar (plain or compressed) read from `input` into the
 * existing directory DIR of the container, with the store's layer extraction rules: no entry
 * lands outside DIR, none is written through a symlink, no hard link points out.
 */
export async function copyTarToContainer(root: string, input: AsyncIterable<Uint8Array>, dst: string): Promise<void> {
  let found;
  try {
    found = await resolveInRoot(dirView(root), dst, { followLast: true });
  } catch {
    throw notFound(dst);
  }
  if (!found.stat) throw notFound(dst);
  if (!found.stat.isDirectory()) throw new StrataError(`extraction point is not a directory: "${dst}"`, 1);
  const [{ extractCopy, limitsFromEnv }, os] = await Promise.all([import('../store/index.js'), import('node:os')]);
  const { warnings } = await extractCopy(input, path.join(root, found.rel), { plainNames: true, tmpDir: os.tmpdir(), limits: limitsFromEnv() });
  for (const w of warnings) process.stderr.write(`WARNING: ${w}\n`);
}
