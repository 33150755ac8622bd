// COPY/ADD into a fresh overlay upper dir, with Docker's destination rules: a directory
// source copies its content, a trailing "/" (or several sources, or an existing directory)
// makes the destination a directory, missing parents are created, symlinks in the image's
// path are followed inside the image. What is copied goes through the store's copier (a tree
// read as entries, placed into the upper dir): files are copied by the kernel (a reflink when
// the filesystem can), never read into memory. ADD also unpacks local tar archives and
// fetches URLs.
import { createHash } from 'node:crypto';
import fsSync, { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { put, treeEntries, type CopyEntry } from '../store/index.js';
import { applyChmod, type ChmodSpec } from './chmod.js';
import type { IgnoreMatcher } from './dockerignore.js';
import { layersSource, type TreeNode, type TreeSource } from './tree-source.js';
import { archiveKind as archiveKindOf, unpackArchive, type ArchiveKind } from './unpack.js';

export interface CopyItem {
  node: TreeNode;
  /** The name a non-directory lands under (the source's own name when it was a symlink); default: the node's. */
  name?: string;
  exclude?: IgnoreMatcher;
  /** COPY --parents: the node's path in the source, and where it lands under the destination directory. */
  parents?: { path: string; keep: string };
}

export interface CopyJob {
  upperDir: string;
  /** The stage's layers so far, bottom → top. */
  lowerDirs: string[];
  source: TreeSource;
  items: CopyItem[];
  heredocs: { name: string; content: string }[];
  urls: string[];
  /** Absolute; a trailing "/" marks a directory. */
  dest: string;
  owner?: { uid: number; gid: number };
  chmod?: ChmodSpec;
  /** ADD: unpack local archives. */
  unpack: boolean;
  checksum?: string;
  /**
   * The previous build's layer snapshot of this same COPY and the context files unchanged
   * since: such a file is hard-linked from there (same content, mode, owner and mtime)
   * instead of copied. The link only lives until the layer is packed; snapshots stay read-only.
   */
  reuse?: { root: string; files: Set<string> };
}

export async function executeCopy(job: CopyJob): Promise<void> {
  // The upper dir is written as we go: the view must not remember what it saw.
  const target = layersSource([...job.lowerDirs, job.upperDir], { live: true });
  const count = job.items.length + job.heredocs.length + job.urls.length;
  const firstIsDir = job.items[0]?.node.type === 'dir';
  let destIsDir = job.dest.endsWith('/') || count > 1 || firstIsDir || job.items.some((i) => i.parents);
  if (count > 1 && !job.dest.endsWith('/')) {
    throw new Error('When using COPY with more than one source file, the destination must be a directory and end with a /');
  }
  if (!destIsDir) {
    const existing = await target.lookup(job.dest, true);
    destIsDir = existing?.type === 'dir' || (job.unpack && job.items.length === 1 && (await archiveKind(job.items[0].node)) !== undefined);
  }
  const destDir = destIsDir ? job.dest : path.posix.dirname(job.dest);
  const destDirRel = await ensureDir(job, target, destDir);
  const into = (name: string) => path.join(job.upperDir, destDirRel, name);
  const fileTarget = destIsDir ? undefined : into(path.posix.basename(job.dest));

  const parentDirs: { dst: string; mtime: Date }[] = [];
  for (const item of job.items) {
    const n = item.node;
    if (item.parents?.keep) {
      await copyWithParents(job, target, destDirRel, item, parentDirs);
    } else if (n.type === 'dir') {
      await place(job, n, path.join(job.upperDir, destDirRel), undefined, item.exclude);
    } else if (job.unpack && (await archiveKind(n))) {
      const names = await unpackArchive(n.hostPath, path.join(job.upperDir, destDirRel));
      if (job.owner) await chownImplicitDirs(job, destDirRel, names, job.owner);
    } else {
      const dst = fileTarget ?? into(item.name || path.posix.basename(n.rel));
      await place(job, n, path.dirname(dst), path.basename(dst));
    }
  }
  for (const h of job.heredocs) {
    const dst = fileTarget ?? into(heredocFileName(h.name));
    const content = Buffer.from(h.content);
    const entry = {
      path: path.basename(dst), type: 'file' as const, mode: job.chmod === undefined ? 0o644 : applyChmod(job.chmod, 0o644, false), uid: job.owner?.uid ?? 0, gid: job.owner?.gid ?? 0, size: content.length,
      mtime: Math.round(Date.now() / 1000), linkpath: '', devmajor: 0, devminor: 0, xattrs: new Map<string, Buffer>(), body: async function* () { yield content; },
    };
    await put((async function* () { yield entry; })(), path.dirname(dst), { rules: 'tree', tmpDir: path.dirname(job.upperDir) });
  }
  for (const url of job.urls) await fetchUrl(job, url, fileTarget ?? into(urlName(url)));
  // Parent directories got children after they were made: their source mtimes go back last.
  for (const d of parentDirs.reverse()) await fs.utimes(d.dst, d.mtime, d.mtime);
}

/**
 * COPY --parents: the item lands at `parents.keep` under the destination directory; parent
 * directories the destination lacks are made as the source has them (mode, mtime), as
 * `cp --parents` does; existing ones (symlinks followed inside the image) are kept.
 */
async function copyWithParents(job: CopyJob, target: TreeSource, destDirRel: string, item: CopyItem, made: { dst: string; mtime: Date }[]): Promise<void> {
  const parts = item.parents!.keep.split('/');
  const srcParts = item.parents!.path.split('/');
  const srcBase = srcParts.slice(0, srcParts.length - parts.length);
  let rel = destDirRel;
  for (let i = 0; i < parts.length - 1; i++) {
    const wanted = rel ? `${rel}/${parts[i]}` : parts[i];
    const found = await target.lookup(wanted, true);
    if (found && found.type !== 'dir') throw new Error(`cannot copy to "/${wanted}": not a directory`);
    if (found) {
      rel = found.rel;
      await mirrorDirs(job, target, rel);
      continue;
    }
    const src = await job.source.lookup([...srcBase, ...parts.slice(0, i + 1)].join('/'), true);
    const dst = path.join(job.upperDir, wanted);
    if (src?.type === 'dir') {
      await place(job, { ...src, type: 'dir' }, path.dirname(dst), path.basename(dst), undefined, false);
      made.push({ dst, mtime: src.mtime });
    } else {
      await fs.mkdir(dst, { mode: 0o755 });
      if (job.owner) await fs.lchown(dst, job.owner.uid, job.owner.gid);
    }
    rel = wanted;
  }
  const dst = path.join(job.upperDir, rel, parts[parts.length - 1]);
  const n = item.node;
  await place(job, n, path.dirname(dst), path.basename(dst), item.exclude);
  // The item's own directory keeps its source mtime to the millisecond, as its new parents do.
  if (n.type === 'dir') await fs.utimes(dst, n.mtime, n.mtime);
}

/**
 * Copies `node` into the existing directory `dir` under `name` (undefined: a directory's
 * children), with the copier: owners, modes and times as COPY gives them, files copied from
 * their host source, unchanged ones linked from the previous build's layer. `deep: false`
 * copies a directory without its children.
 */
async function place(job: CopyJob, node: TreeNode, dir: string, name: string | undefined, exclude?: IgnoreMatcher, deep = true): Promise<void> {
  const keepOwners = job.source.keepOwners;
  const source: TreeSource = deep ? job.source : { ...job.source, keepOwners, children: async () => [] };
  const entries = treeEntries(source, node, {
    name, owner: job.owner, chmod: typeof job.chmod === 'object' ? (mode, dir) => applyChmod(job.chmod!, mode, dir) : job.chmod, dropSetId: !keepOwners, wholeSeconds: true, byReference: true, keepHardLinks: true,
    exclude: exclude && !exclude.empty ? (rel) => exclude.matches(rel) : undefined,
  });
  const reuse = job.reuse;
  await put(entries, dir, { rules: 'tree', tmpDir: path.dirname(job.upperDir), reuse: reuse && ((e, abs) => linkPrevious(job.upperDir, reuse, e, abs)) });
}

/**
 * Creates the destination directory (and missing parents) in the upper dir; returns its path
 * relative to the root. A dangling symlink on the way is followed (inside the root) and its
 * target created, as Docker and podman do.
 */
async function ensureDir(job: CopyJob, target: TreeSource, dir: string, hops = 0): Promise<string> {
  let resolved = '';
  for (const part of dir.split('/').filter((p) => p && p !== '.')) {
    if (part === '..') {
      resolved = path.posix.dirname(resolved) === '.' ? '' : path.posix.dirname(resolved);
      continue;
    }
    const wanted = resolved ? `${resolved}/${part}` : part;
    const found = await target.lookup(wanted, true);
    if (found && found.type !== 'dir') throw new Error(`cannot copy to "${dir}": "/${wanted}" is not a directory`);
    if (!found) {
      const link = await target.lookup(wanted, false);
      if (link?.type === 'symlink' && hops < 40) {
        const to = link.linkTarget!.startsWith('/') ? link.linkTarget! : `/${path.posix.dirname(link.rel)}/${link.linkTarget}`;
        resolved = await ensureDir(job, target, to, hops + 1);
        continue;
      }
    }
    resolved = found ? found.rel : wanted;
    await mirrorDirs(job, target, resolved);
  }
  return resolved;
}

/**
 * Makes every directory of `rel` exist in the upper dir: those the image has keep its
 * attributes (overlay shows the upper's), new ones get 0755 and the --chown owner.
 */
async function mirrorDirs(job: CopyJob, target: TreeSource, rel: string): Promise<void> {
  let sofar = '';
  for (const part of rel.split('/')) {
    sofar = sofar ? `${sofar}/${part}` : part;
    const host = path.join(job.upperDir, sofar);
    if (await fs.lstat(host).catch(() => undefined)) continue;
    const found = await target.lookup(sofar, false);
    // Copying a directory up is no change to its parent: the parent keeps its mtime.
    const parent = sofar.includes('/') ? path.dirname(host) : undefined;
    const parentStat = parent && found?.type === 'dir' ? await fs.lstat(parent) : undefined;
    await fs.mkdir(host);
    if (found?.type === 'dir') {
      await fs.chmod(host, found.mode & 0o7777);
      await fs.lchown(host, found.uid, found.gid);
      await fs.utimes(host, found.mtime, found.mtime);
      if (parentStat) await fs.utimes(parent!, parentStat.atime, parentStat.mtime);
    } else {
      await fs.chmod(host, 0o755);
      if (job.owner) await fs.lchown(host, job.owner.uid, job.owner.gid);
    }
  }
}

/**
 * ADD --chown of an archive: the parent directories the extraction had to make (no entry of
 * their own, not in a lower layer) get the owner, as podman gives them; the entries keep the
 * archive's owners. Paths are resolved and kept inside the destination (an archive may have
 * planted symlinks).
 */
async function chownImplicitDirs(job: CopyJob, destDirRel: string, names: string[], owner: { uid: number; gid: number }): Promise<void> {
  const named = new Set(names);
  const implicit = new Set<string>();
  for (const name of names) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!named.has(dir)) implicit.add(dir);
    }
  }
  if (implicit.size === 0) return;
  const root = await fs.realpath(path.join(job.upperDir, destDirRel));
  const below = layersSource(job.lowerDirs);
  for (const rel of implicit) {
    if (await below.lookup(path.posix.join('/', destDirRel, rel), false)) continue;
    const real = await fs.realpath(path.join(root, rel)).catch(() => undefined);
    if (!real || !real.startsWith(`${root}/`)) continue;
    if ((await fs.lstat(real)).isDirectory()) await fs.lchown(real, owner.uid, owner.gid);
  }
}

/**
 * Links the file an entry would make at `abs` to the previous layer's copy of the same
 * unchanged context file, when that copy is exactly what the entry gives (layer tars keep
 * whole-second mtimes, as snapshots do). Synchronous: an incremental COPY of a big tree makes
 * one lstat and one link per file, and for tens of thousands of them the pool round trips
 * cost more than the syscalls.
 */
function linkPrevious(upperDir: string, reuse: NonNullable<CopyJob['reuse']>, e: CopyEntry, abs: string): boolean {
  if (e.rel === undefined || !reuse.files.has(e.rel) || !abs.startsWith(`${upperDir}/`)) return false;
  const old = reuse.root + abs.slice(upperDir.length);
  const st = fsSync.lstatSync(old, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size !== e.size || st.mtimeMs !== e.mtime * 1000) return false;
  if (st.uid !== e.uid || st.gid !== e.gid || (st.mode & 0o7777) !== e.mode) return false;
  try {
    fsSync.linkSync(old, abs);
    return true;
  } catch {
    return false; // another filesystem, or the snapshot went away: copy instead
  }
}

/** A file ADD unpacks: its content (decompressed) starts with a tar header, as BuildKit checks. */
async function archiveKind(n: TreeNode): Promise<ArchiveKind | undefined> {
  return n.type === 'file' ? archiveKindOf(n.hostPath) : undefined;
}

/**
 * The file a COPY heredoc makes in a destination directory: its name, cleaned as in the
 * scratch root BuildKit writes it to ("../x" is "x"); one name, never a path, so that no
 * delimiter such as "../../etc/x" places a file outside the step's layer.
 */
export function heredocFileName(name: string): string {
  const parts = path.posix.join('/', name).split('/').filter(Boolean);
  if (parts.length !== 1 || name.includes('\0')) throw new Error(`COPY heredoc "${name}" is not a file name`);
  return parts[0]!;
}

function urlName(url: string): string {
  const name = path.posix.basename(new URL(url).pathname);
  return name && name !== '/' ? name : '__unnamed__';
}

async function fetchUrl(job: CopyJob, url: string, dst: string): Promise<void> {
  const { httpFetch } = await import('../net/index.js'); // (node:tls) only for ADD https://
  const res = await httpFetch(url, { redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`failed to fetch "${url}": ${res.status} ${res.statusText}`);
  const hash = createHash('sha256');
  await fs.rm(dst, { force: true, recursive: true });
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(body, createWriteStream(dst, { mode: 0o600 }));
  const digest = `sha256:${hash.digest('hex')}`;
  if (job.checksum && job.checksum !== digest) throw new Error(`checksum mismatch for "${url}": expected ${job.checksum}, got ${digest}`);
  const modified = res.headers.get('last-modified');
  // Whole seconds, as the copier gives every copied file (podman's copier stores them so).
  const mtime = Math.round((modified ? Date.parse(modified) : Date.now()) / 1000);
  await fs.lchown(dst, job.owner?.uid ?? 0, job.owner?.gid ?? 0);
  await fs.chmod(dst, job.chmod === undefined ? 0o600 : applyChmod(job.chmod, 0o600, false));
  await fs.utimes(dst, mtime, mtime);
}
