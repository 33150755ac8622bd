// `cp CONTAINER:SRC DEST` out of a container: the source resolved inside the container's root
// (resolve.ts, links followed only there), then placed on the host with the same docker cp
// rules and extraction as a copy in (cp.ts), or streamed as a tar for DEST "-". Links inside
// the copied tree stay links. A running container's root is /proc/PID/root: its /proc, /sys
// and /dev are the kernel's, not its files, and a copy of its root leaves them out.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StrataError } from '../errors.js';
import { describedCopy, hostEntries, kernelMounts, placeCopy, specifiesContents, type CopyOptions, type CopyResult } from './cp.js';
import { dirView, resolveInRoot } from './resolve.js';

/** Copies CONTAINER:SRC (inside `root`) to the host path DST (`-` writes a tar to stdout). */
export async function copyFromContainer(root: string, src: string, dst: string, options: CopyOptions): Promise<CopyResult> {
  const notFound = () => new StrataError(`could not find the file ${src} in container ${options.container}`, 1);
  const contentsOnly = specifiesContents(src);
  let found;
  try {
    found = await resolveInRoot(dirView(root), src, { followLast: options.followLink || contentsOnly });
  } catch {
    throw notFound();
  }
  if (!found.stat) throw notFound();
  const isDir = found.stat.isDirectory();
  if (!isDir && (src.endsWith('/') || contentsOnly)) throw new StrataError(`not a directory: "${options.container}:${src}"`, 1);
  const whole = found.rel === '';
  // "ROOT/." is the root directory itself where ROOT may be a link to it (/proc/PID/root).
  const hostSrc = whole ? `${root}/.` : path.join(root, found.rel);
  const omit = whole ? await kernelMounts(root) : new Set<string>();
  // The copy is named as the path was given (`-L link` copies the target under the link's name).
  const given = path.posix.basename(src.replace(/\/+$/, ''));
  const name = given && given !== '.' && given !== '..' ? given : path.posix.basename(found.rel);
  const what = `copying "${options.container}:${src}" to "${dst}"`;
  if (dst === '-') {
    await describedCopy(what, () => tarToStdout(hostSrc, whole || contentsOnly ? undefined : name, omit));
    return { warnings: [] };
  }
  // The root is copied as its contents ("/" is no name to give a copy).
  const source = { isDir, contentsOnly: contentsOnly || whole, name };
  // A host destination that is a link is followed, as docker cp does.
  const stat = await fs.stat(dst).catch(() => undefined);
  const target = stat ? await fs.realpath(dst) : path.resolve(dst);
  const placement = placeCopy(source, { resolved: target, stat, assertsDir: dst.endsWith('/') || specifiesContents(dst), given: dst });
  if (!stat && !(await fs.stat(placement.dir).catch(() => undefined))?.isDirectory()) throw new StrataError(`could not find the directory "${path.dirname(dst)}" on the host`, 1);
  const [{ placeEntries }, os] = await Promise.all([import('../store/index.js'), import('node:os')]);
  const owner = options.keepOwners ? undefined : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const entries = hostEntries(hostSrc, { name: placement.name, owner, omit });
  return describedCopy(what, () => placeEntries(entries, placement.dir, { plainNames: true, tmpDir: os.tmpdir(), shownAs: placement.dir }));
}

/**
 * As `docker cp CONTAINER:PATH -`: the path under its own name (`name`), or a directory's
 * contents (`name` undefined), owners kept; links inside stay links (node-tar never follows them).
 */
async function tarToStdout(hostSrc: string, name: string | undefined, omit: Set<string>): Promise<void> {
  const tar = await import('tar');
  const cwd = name === undefined ? hostSrc : path.dirname(hostSrc);
  const base = path.basename(hostSrc);
  const entries = name === undefined ? (await fs.readdir(hostSrc)).filter((e) => !omit.has(e)).sort() : [base];
  const rename = name === undefined || name === base ? undefined : (e: { path: string }) => {
    if (e.path === base || e.path.startsWith(`${base}/`)) e.path = name + e.path.slice(base.length);
  };
  await pipeline(tar.create({ cwd, portable: false, preservePaths: false, onWriteEntry: rename }, entries), process.stdout);
}
