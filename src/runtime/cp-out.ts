// `cp CONTAINER:SRC DEST` out of a container: the source resolved inside the container's root
// (resolve.ts, links followed only there), then placed on the host with the same docker cp
// rules and extraction as a copy in (cp.ts), or streamed as a tar for DEST "-". Links inside
// the copied tree stay links. A running container's root is /proc/PID/root: its /proc, /sys
// and /dev are the kernel's, not its files, and a copy of its root leaves them out.
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import type { CopyEntry, GetOptions } from '../store/index.js';
import { describedCopy, kernelMounts, placeCopy, specifiesContents, type CopyOptions, type CopyResult } from './cp.js';
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
  failpoint('cp.resolved');
  const whole = found.rel === '';
  const omit = whole ? await kernelMounts(root) : new Set<string>();
  // The copy is named as the path was given (`-L link` copies the target under the link's name).
  const given = path.posix.basename(src.replace(/\/+$/, ''));
  const name = given && given !== '.' && given !== '..' ? given : path.posix.basename(found.rel);
  const what = `copying "${options.container}:${src}" to "${dst}"`;
  if (dst === '-') {
    await describedCopy(what, () => tarToStdout(root, found.rel, whole || contentsOnly ? undefined : name, omit));
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
  const entries = containerEntries(root, found.rel, { name: placement.name, owner, omit });
  return describedCopy(what, () => placeEntries(entries, placement.dir, { plainNames: true, tmpDir: os.tmpdir(), shownAs: placement.dir }));
}

/**
 * REL inside the container's ROOT as a copy's entries, read anchored (store's anchoredTree): a
 * container, or another sharing a volume, cannot make the copy read the host through a
 * directory it swaps for a symlink meanwhile.
 */
export async function* containerEntries(root: string, rel: string, options: GetOptions): AsyncGenerator<CopyEntry> {
  const { anchoredTree, treeEntries } = await import('../store/index.js');
  const tree = anchoredTree(root, rel, `/${rel}`);
  try {
    const top = await tree.lookup('', false);
    if (!top) return;
    for await (const e of treeEntries(tree, top, options)) {
      failpoint('cp.read');
      yield e;
    }
  } finally {
    tree.close();
  }
}

/**
 * As `docker cp CONTAINER:PATH -`: the path under its own name (`name`), or a directory's
 * contents (`name` undefined), owners kept, files sharing an inode as hard links; links inside
 * stay links.
 */
async function tarToStdout(root: string, rel: string, name: string | undefined, omit: Set<string>): Promise<void> {
  const { writeEntriesTar } = await import('../store/index.js');
  await writeEntriesTar(containerEntries(root, rel, { name, omit, keepHardLinks: true }), process.stdout);
}
