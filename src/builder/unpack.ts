// ADD's local archives, unpacked into a step's upper dir the way Docker's and podman's extractors
// leave them: node-tar streams the archive (it refuses absolute names and ".."), then what it
// leaves undone is set from the headers; GNU tar takes over for an archive that writes through
// a symlink it made.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

const ROOT = process.getuid?.() === 0;

/**
 * Extracts an archive into `dir` (node-tar refuses absolute names and `..`); bzip2/xz through the
 * system tools. Returns the archive's entry paths (relative, without a trailing "/").
 */
export async function unpackArchive(file: string, dir: string, kind: ArchiveKind): Promise<string[]> {
  const seen: Seen = { names: [], later: [] };
  try {
    await unpackWithNodeTar(file, dir, kind, seen);
  } catch (err) {
    if ((err as { code?: string }).code !== 'TAR_SYMLINK_ERROR') throw err;
    // An entry under a symlink the archive made: Docker and podman write through it (inside
    // the root). GNU tar does so too, and delays links that are absolute or hold "..".
    await unpackWithGnuTar(file, dir);
    // It writes through the link after setting the target directory's mtime: set them again.
    const tar = await import('tar');
    const all: Seen = { names: [], later: [] };
    await feed(file, kind, new tar.Parser({ onReadEntry: (e) => (note(all, e), e.resume()) }));
    await fixArchiveEntries(dir, all.later);
    return entryNames(all);
  }
  return entryNames(seen);
}

/** What a pass over the archive saw: every entry's name, and what fixArchiveEntries redoes. */
interface Seen {
  names: string[];
  later: ArchiveFixup[];
}

function entryNames(seen: Seen): string[] {
  return seen.names.filter((n) => n !== '.' && n !== '');
}

function note(seen: Seen, e: { type: string; path: string; uid?: number; gid?: number; mode?: number; mtime?: Date }): void {
  seen.names.push(path.posix.normalize(e.path).replace(/\/+$/, ''));
  collectFixup(seen.later, e);
}

function collectFixup(later: ArchiveFixup[], e: { type: string; path: string; uid?: number; gid?: number; mode?: number; mtime?: Date }): void {
  if (e.type === 'Directory' || e.type === 'Link' || e.type === 'SymbolicLink') {
    later.push({ rel: e.path, link: e.type === 'Link', symlink: e.type === 'SymbolicLink', uid: e.uid ?? 0, gid: e.gid ?? 0, mode: e.mode ?? 0o644, mtime: e.mtime });
  }
}

/** Streams the archive, decompressed, into a tar parser or extractor. */
async function feed(file: string, kind: ArchiveKind, sink: NodeJS.WritableStream): Promise<void> {
  if (kind === 'tar' || kind === 'gzip') {
    await pipeline(createReadStream(file), sink);
    return;
  }
  const child = spawn(kind === 'xz' ? 'xz' : 'bzip2', ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
  await pipeline(child.stdout, sink);
  if ((await exited) !== 0) throw new Error(`unpacking "${path.basename(file)}": ${stderr.trim() || `${kind} failed`}`);
}

async function unpackWithGnuTar(file: string, dir: string): Promise<void> {
  const args = ['-x', '-f', file, '-C', dir, '--numeric-owner', '-p', ROOT ? '--same-owner' : '--no-same-owner'];
  const child = spawn('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`unpacking "${path.basename(file)}": ${stderr.trim().split('\n').pop() || 'tar failed'}`);
}

async function unpackWithNodeTar(file: string, dir: string, kind: ArchiveKind, seen: Seen): Promise<void> {
  const tar = await import('tar');
  const extract = tar.x({
    cwd: dir, preservePaths: false, strict: true, umask: 0,
    onReadEntry: (e) => note(seen, e),
  });
  await feed(file, kind, extract);
  await fixArchiveEntries(dir, seen.later);
}

interface ArchiveFixup {
  rel: string;
  link: boolean;
  symlink?: boolean;
  uid: number;
  gid: number;
  mode: number;
  mtime?: Date;
}

/**
 * What node-tar leaves undone, done as Docker's and podman's extractors do: a hard link entry's
 * owner, mode and mtime apply to the file it links (they share an inode), a symlink keeps its
 * archived mtime, and a directory keeps its mode and mtime although entries were written into it
 * afterwards (deepest first).
 */
async function fixArchiveEntries(dir: string, entries: ArchiveFixup[]): Promise<void> {
  const root = await fs.realpath(dir);
  const inside = async (rel: string) => {
    const host = path.join(root, rel);
    const parent = await fs.realpath(path.dirname(host)).catch(() => undefined);
    return parent && (parent === root || parent.startsWith(`${root}/`)) ? host : undefined;
  };
  for (const e of entries.filter((x) => x.link)) {
    const host = await inside(e.rel);
    const st = host ? await fs.lstat(host).catch(() => undefined) : undefined;
    if (!host || !st?.isFile()) continue;
    if (ROOT) await fs.lchown(host, e.uid, e.gid);
    await fs.chmod(host, e.mode & 0o7777);
    if (e.mtime) await fs.utimes(host, e.mtime, e.mtime);
  }
  // node-tar leaves a symlink's own mtime at extraction time; Docker and podman set it.
  for (const e of entries.filter((x) => x.symlink && x.mtime)) {
    const host = await inside(e.rel);
    if (host && (await fs.lstat(host).catch(() => undefined))?.isSymbolicLink()) await fs.lutimes(host, e.mtime!, e.mtime!);
  }
  const dirs = entries.filter((x) => !x.link && !x.symlink && x.mtime).sort((a, b) => b.rel.split('/').length - a.rel.split('/').length);
  for (const e of dirs) {
    const host = await inside(e.rel.replace(/\/+$/, ''));
    const st = host ? await fs.lstat(host).catch(() => undefined) : undefined;
    if (!host || !st?.isDirectory()) continue;
    await fs.chmod(host, e.mode & 0o7777); // mkdir drops setuid/setgid
    await fs.utimes(host, e.mtime!, e.mtime!);
  }
}
