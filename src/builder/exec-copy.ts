// COPY/ADD into a fresh overlay upper dir, with Docker's destination rules: a directory
// source copies its content, a trailing "/" (or several sources, or an existing directory)
// makes the destination a directory, missing parents are created, symlinks in the image's
// path are followed inside the image. Files are copied with fs.copyFile (reflink when the
// filesystem can), never read into memory. ADD also unpacks local tar archives and fetches URLs.
import { createHash } from 'node:crypto';
import fsSync, { constants, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { httpFetch } from '../net/index.js';
import type { IgnoreMatcher } from './dockerignore.js';
import { layersSource, type TreeNode, type TreeSource } from './tree-source.js';
import { unpackArchive, type ArchiveKind } from './unpack.js';

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
  chmod?: number;
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
      await copyChildren(job, n, path.join(job.upperDir, destDirRel), item.exclude, '');
    } else if (job.unpack && (await archiveKind(n))) {
      const names = await unpackArchive(n.hostPath, path.join(job.upperDir, destDirRel));
      if (job.owner) await chownImplicitDirs(job, destDirRel, names, job.owner);
    } else {
      await copyNode(job, n, fileTarget ?? into(item.name || path.posix.basename(n.rel)));
    }
  }
  for (const h of job.heredocs) {
    const dst = fileTarget ?? into(h.name);
    await fs.rm(dst, { force: true, recursive: true });
    await fs.writeFile(dst, h.content, { mode: 0o644 });
    await applyAttrs(dst, job, { mode: 0o100644, uid: 0, gid: 0, mtime: new Date() } as TreeNode, false);
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
      await copyNode(job, src, dst, true);
      made.push({ dst, mtime: src.mtime });
    } else {
      await fs.mkdir(dst, { mode: 0o755 });
      if (job.owner) await fs.lchown(dst, job.owner.uid, job.owner.gid);
    }
    rel = wanted;
  }
  const dst = path.join(job.upperDir, rel, parts[parts.length - 1]);
  const n = item.node;
  const created = await copyNode(job, n, dst);
  if (n.type === 'dir') {
    await copyChildren(job, n, dst, item.exclude, '', created);
    await fs.utimes(dst, n.mtime, n.mtime);
  }
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

/** Files per directory copied concurrently: the cost is syscalls, not bandwidth. */
const PARALLEL = 64;

async function copyChildren(job: CopyJob, dir: TreeNode, dstDir: string, exclude: IgnoreMatcher | undefined, relBase: string, fresh = false): Promise<void> {
  const children = await job.source.children(dir);
  const one = async (child: TreeNode) => {
    const name = path.posix.basename(child.rel);
    const rel = relBase ? `${relBase}/${name}` : name;
    if (exclude && !exclude.empty && exclude.matches(rel)) return;
    const dst = path.join(dstDir, name);
    const created = await copyNode(job, child, dst, fresh);
    if (child.type === 'dir') {
      await copyChildren(job, child, dst, exclude, rel, created);
      await fs.utimes(dst, copiedTime(child.mtime), copiedTime(child.mtime));
    }
  };
  for (let i = 0; i < children.length; i += PARALLEL) await Promise.all(children.slice(i, i + PARALLEL).map(one));
}

/** Copies one node to `dst`; true when `dst` is a directory this call created (its children need no existence checks). */
async function copyNode(job: CopyJob, n: TreeNode, dst: string, fresh = false): Promise<boolean> {
  const existing = fresh ? undefined : await fs.lstat(dst).catch(() => undefined);
  if (existing && !(existing.isDirectory() && n.type === 'dir')) await fs.rm(dst, { recursive: true, force: true });
  let created = false;
  switch (n.type) {
    case 'dir':
      if (!existing?.isDirectory()) {
        await fs.mkdir(dst);
        created = true;
      }
      break;
    case 'file':
      if (linkPrevious(job, n, dst)) return false;
      // copyFile keeps the source's permission bits; a reflink when the filesystem can.
      await fs.copyFile(n.hostPath, dst, constants.COPYFILE_FICLONE);
      break;
    case 'symlink':
      await fs.symlink(n.linkTarget!, dst);
      break;
    default:
      return false; // devices, fifos, sockets are not copied
  }
  await applyAttrs(dst, job, n, n.type === 'symlink', n.type === 'file');
  return created;
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
 * Links `dst` to the previous layer's copy of the same unchanged file, when it is exactly what
 * a copy would give once packed (layer tars keep whole-second mtimes, as snapshots do).
 * Synchronous: an incremental COPY of a big tree makes one lstat and one link per file, and
 * for tens of thousands of them the pool round trips cost more than the syscalls.
 */
function linkPrevious(job: CopyJob, n: TreeNode, dst: string): boolean {
  if (!job.reuse?.files.has(n.rel)) return false;
  const under = dst.startsWith(`${job.upperDir}/`) ? dst.slice(job.upperDir.length) : `/${path.relative(job.upperDir, dst)}`;
  const old = job.reuse.root + under;
  const st = fsSync.lstatSync(old, { throwIfNoEntry: false });
  // The size the context walk saw, when known: the content the key hashed, as the old copy has it.
  const size = n.size ?? fsSync.lstatSync(n.hostPath, { throwIfNoEntry: false })?.size;
  if (!st?.isFile() || size === undefined || st.size !== size || st.mtimeMs !== copiedTime(n.mtime).getTime()) return false;
  const uid = job.owner?.uid ?? 0;
  const gid = job.owner?.gid ?? 0;
  if (st.uid !== uid || st.gid !== gid || (st.mode & 0o7777) !== (job.chmod ?? n.mode & 0o7777)) return false;
  try {
    fsSync.linkSync(old, dst);
    return true;
  } catch {
    return false; // another filesystem, or the snapshot went away: copy instead
  }
}

const ROOT = process.getuid?.() === 0;

/**
 * A copied entry's mtime, to the nearest whole second: podman's copier stores it so (BuildKit
 * keeps nanoseconds and its layer tars truncate), and builds are compared with podman's.
 */
function copiedTime(d: Date): Date {
  return new Date(Math.round(d.getTime() / 1000) * 1000);
}

async function applyAttrs(dst: string, job: CopyJob, n: TreeNode, isLink: boolean, modeKept = false): Promise<void> {
  const uid = job.owner?.uid ?? (job.source.keepOwners ? n.uid : 0);
  const gid = job.owner?.gid ?? (job.source.keepOwners ? n.gid : 0);
  // Files a root process creates are already 0:0.
  if (!(ROOT && uid === 0 && gid === 0)) await fs.lchown(dst, uid, gid);
  const mtime = copiedTime(n.mtime);
  if (isLink) {
    await fs.lutimes(dst, mtime, mtime);
    return;
  }
  // From the context, setuid and setgid bits are dropped (as podman does); a stage's files keep them.
  const mode = n.mode & (job.source.keepOwners ? 0o7777 : 0o1777);
  if (job.chmod !== undefined || !modeKept || (n.mode & 0o7000) !== 0) await fs.chmod(dst, job.chmod ?? mode);
  await fs.utimes(dst, mtime, mtime);
}


/** Recognises a tar archive by its magic bytes (as Docker does), not by its name. */
async function archiveKind(n: TreeNode): Promise<ArchiveKind | undefined> {
  if (n.type !== 'file') return undefined;
  const fh = await fs.open(n.hostPath, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead >= 3 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (bytesRead >= 3 && buf.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (bytesRead >= 6 && buf.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (bytesRead >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    return undefined;
  } finally {
    await fh.close();
  }
}

function urlName(url: string): string {
  const name = path.posix.basename(new URL(url).pathname);
  return name && name !== '/' ? name : '__unnamed__';
}

async function fetchUrl(job: CopyJob, url: string, dst: string): Promise<void> {
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
  const mtime = modified ? new Date(modified) : new Date();
  await applyAttrs(dst, { ...job, chmod: job.chmod ?? 0o600 }, { mode: 0o100600, uid: 0, gid: 0, mtime } as TreeNode, false);
}
