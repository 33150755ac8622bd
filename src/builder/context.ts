// The build context: one lstat walk of the directory (minus .dockerignore), and content
// hashes for exactly the files a COPY selects. Hashes are computed in the hash pool's workers
// and remembered in a stat cache keyed by (path, size, mtime, ctime, inode, mode), kept in
// the state root, so a warm build reads no unchanged file. Symlinks are entries of their own
// (copied as links); resolving a path never leaves the context.
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { failpoint } from '../failpoint.js';
import { closeHashPool, hashFiles, hashFilesHere, INLINE_HASH_BYTES, INLINE_HASH_FILES } from '../hash/index.js';
import { atomicWrite } from '../store/index.js';
import type { IgnoreMatcher } from './dockerignore.js';
import { memoFileFor, SelectionMemo } from './selection-memo.js';

export type EntryType = 'file' | 'dir' | 'symlink';

export interface ContextEntry {
  /** Relative, "/"-separated path in the context. */
  path: string;
  type: EntryType;
  /** st_mode (type and permission bits). */
  mode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Names of the file (hard links) when more than one. */
  nlink?: number;
  /** Its filesystem, with nlink: an inode number is only unique within one (a mount in the context). */
  dev?: number;
  linkTarget?: string;
}

export interface ContextOptions {
  ignore?: IgnoreMatcher;
  /** JSON file of remembered hashes; none: nothing is remembered. */
  statCacheFile?: string;
  /** Called while files are hashed (done, total). */
  onHashProgress?: (done: number, total: number) => void;
}

type CachedStat = [size: number, mtimeMs: number, ctimeMs: number, ino: number, mode: number, hash: string];
/**
 * The stat cache on disk (version 2): one array per file, path first. Arrays, not an object
 * keyed by path: for 20,000 files JSON.parse of an object with that many keys and turning it into
 * a Map took twice as long (dictionary-mode objects), on every warm build.
 */
type StoredStat = [path: string, ...stat: CachedStat];
/**
 * A stat cache entry as read: the stored array itself (path first, so every index is one more
 * than in CachedStat) or one made since. Not sliced into a CachedStat when read: 20,000 fewer
 * arrays to make (and collect) on a warm build.
 */
type StatRow = StoredStat;

export class BuildContext {
  /** Files whose content was read and hashed by this process (the stat cache missed). */
  hashedFiles = 0;
  private readonly hashes = new Map<string, string>();
  private cacheDirty = false;
  /** Read when a hash is first asked for: a build whose selections the memo knows never reads it. */
  private statCacheRows?: Map<string, StatRow>;
  /** Which selection signature gave which file-table digest (selection-memo.ts). */
  readonly memo: SelectionMemo;

  private constructor(
    readonly root: string,
    readonly entries: Map<string, ContextEntry>,
    private readonly children: Map<string, ContextEntry[]>,
    private readonly options: ContextOptions,
    /** Directories ('' the root) a .dockerignore rule left something out of. */
    private readonly pruned: ReadonlySet<string> = new Set(),
  ) {
    this.memo = new SelectionMemo(options.statCacheFile && memoFileFor(options.statCacheFile));
  }

  private get statCache(): Map<string, StatRow> {
    this.statCacheRows ??= this.options.statCacheFile ? readStatCache(this.options.statCacheFile) : new Map<string, StatRow>();
    return this.statCacheRows;
  }

  static async open(root: string, options: ContextOptions = {}): Promise<BuildContext> {
    const abs = path.resolve(root);
    const st = await fs.stat(abs);
    if (!st.isDirectory()) throw new Error(`context "${root}" is not a directory`);
    const entries = new Map<string, ContextEntry>();
    const children = new Map<string, ContextEntry[]>([['', []]]);
    const pruned = new Set<string>();
    walk(abs, '', options.ignore, entries, children, pruned);
    return new BuildContext(abs, entries, children, options, pruned);
  }

  /** Whether .dockerignore leaves out anything under the directory `dir` ('' is the root): its host tree is then not the context's. */
  hasIgnoredUnder(dir: string): boolean {
    if (dir === '') return this.pruned.size > 0;
    for (const p of this.pruned) if (p === dir || p.startsWith(`${dir}/`)) return true;
    return false;
  }

  /** Child names of a directory entry ('' is the root), sorted. */
  list(dir: string): string[] {
    return (this.children.get(dir) ?? []).map((e) => baseName(e.path));
  }

  /** The entries of a directory's children ('' is the root), sorted by name. */
  childEntries(dir: string): readonly ContextEntry[] {
    return this.children.get(dir) ?? [];
  }

  /**
   * Resolves a context path, following symlinks inside the context (an absolute link target
   * or `..` past the top stays at the context root). Undefined when it does not exist or is ignored.
   */
  resolve(rel: string, followLast = true): ContextEntry | undefined {
    let parts = splitPath(rel);
    let done: string[] = [];
    for (let hops = 0; parts.length > 0;) {
      const name = parts.shift()!;
      const candidate = [...done, name].join('/');
      const entry = this.entries.get(candidate);
      if (!entry) return undefined;
      if (entry.type === 'symlink' && (parts.length > 0 || followLast)) {
        if (++hops > 40) return undefined;
        const target = entry.linkTarget!;
        parts = [...splitPath(target.startsWith('/') ? target : [...done, target].join('/'), true), ...parts];
        done = [];
        continue;
      }
      done.push(name);
    }
    return done.length === 0 ? rootEntry() : this.entries.get(done.join('/'));
  }

  /** Every entry under a directory (itself excluded), depth first, sorted; to `visit` when given. */
  walkUnder(dir: string, visit?: (e: ContextEntry) => void): ContextEntry[] {
    const out: ContextEntry[] = [];
    this.visitUnder(dir, visit ?? ((e) => out.push(e)));
    return out;
  }

  private visitUnder(dir: string, visit: (e: ContextEntry) => void): void {
    for (const e of this.children.get(dir) ?? []) {
      visit(e);
      if (e.type === 'dir') this.visitUnder(e.path, visit);
    }
  }

  /** The content hash of a file hashFiles() has seen. */
  hashOf(p: string): string | undefined {
    return this.hashes.get(p);
  }

  /** sha256 hex of each file's content, from the stat cache or hashed in the pool. */
  async hashFiles(paths: string[]): Promise<Map<string, string>> {
    await this.ensureHashed(paths);
    return new Map(paths.map((p) => [p, this.hashes.get(p)!]));
  }

  /** Makes hashOf() know every one of `paths`. */
  async ensureHashed(paths: string[]): Promise<void> {
    await this.hashMissing(paths, false);
  }

  /**
   * ensureHashed() without waiting: files the stat cache does not know are hashed on this thread.
   * For a file table that the memo vouched for and a miss then needs in full: every file is in
   * the stat cache unless it was lost since.
   */
  ensureHashedNow(paths: string[]): void {
    void this.hashMissing(paths, true);
  }

  private hashMissing(paths: string[], sync: true): void;
  private hashMissing(paths: string[], sync: false): Promise<void>;
  private hashMissing(paths: string[], sync: boolean): Promise<void> | void {
    const missing: string[] = [];
    for (const p of paths) {
      if (this.hashes.has(p)) continue;
      const e = this.entries.get(p);
      if (!e || e.type !== 'file') throw new Error(`not a file in the context: "${p}"`);
      const c = this.statCache.get(p);
      if (c && c[1] === e.size && c[2] === e.mtimeMs && c[3] === e.ctimeMs && c[4] === e.ino && c[5] === e.mode) this.hashes.set(p, c[6]);
      else missing.push(p);
    }
    if (sync) {
      this.remember(missing, hashFilesHere(missing.map((p) => path.join(this.root, p))));
      return;
    }
    return this.hashInPool(missing);
  }

  private remember(part: string[], hex: string[]): void {
    part.forEach((p, j) => {
      const e = this.entries.get(p)!;
      this.hashes.set(p, hex[j]);
      this.statCache.set(p, [p, e.size, e.mtimeMs, e.ctimeMs, e.ino, e.mode, hex[j]]);
    });
    this.hashedFiles += part.length;
    if (part.length) this.cacheDirty = true;
  }

  private async hashInPool(missing: string[]): Promise<void> {
    let bytes = 0;
    for (const p of missing) bytes += this.entries.get(p)!.size;
    // A few changed files (the usual incremental build) are hashed here: the pool is for many.
    const here = missing.length <= INLINE_HASH_FILES && bytes <= INLINE_HASH_BYTES;
    const CHUNK = here ? Math.max(1, missing.length) : 512;
    for (let i = 0; i < missing.length; i += CHUNK) {
      const part = missing.slice(i, i + CHUNK);
      const abs = part.map((p) => path.join(this.root, p));
      const hex = here ? hashFilesHere(abs) : await hashFiles(abs);
      this.remember(part, hex);
      failpoint('context.hashed');
      this.options.onHashProgress?.(Math.min(i + CHUNK, missing.length), missing.length);
    }
  }

  /** Writes the stat cache back (atomically), keeping only entries of files that still exist. */
  async saveStatCache(): Promise<void> {
    await this.memo.save();
    const file = this.options.statCacheFile;
    if (!file || !this.cacheDirty) return;
    const files: StoredStat[] = [];
    for (const [p, c] of this.statCache) if (this.entries.get(p)?.type === 'file') files.push(c);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // A lost stat cache only costs a rehash: no fsync.
    await atomicWrite(file, JSON.stringify({ version: 2, files }), { durable: false, failpoint: 'context.stat-cache' });
    this.cacheDirty = false;
  }
}

/** Stops the hash pool's threads if this process started them (the pool loads on first use: a warm build never pays for piscina). */
export async function closeHashing(): Promise<void> {
  await closeHashPool();
}

/** Where the stat cache of a context directory lives in the state root. */
export function statCacheFileFor(stateRoot: string, contextDir: string): string {
  const id = createHash('sha256').update(path.resolve(contextDir)).digest('hex').slice(0, 32);
  return path.join(stateRoot, 'build', 'statcache', `${id}.json`);
}

function rootEntry(): ContextEntry {
  return { path: '', type: 'dir', mode: 0o40755, size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0 };
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Splits a context path into components; `..` never climbs above the top. */
function splitPath(p: string, clamp = true): string[] {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (!part || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 || !clamp) out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

/**
 * One lstat walk. Synchronous on purpose: for tens of thousands of entries the promise
 * machinery costs more than the syscalls, and nothing else runs while the context is read.
 */
function walk(root: string, rel: string, ignore: IgnoreMatcher | undefined, entries: Map<string, ContextEntry>, children: Map<string, ContextEntry[]>, pruned: Set<string>): void {
  // Paths by concatenation, not path.join: root is resolved and names come from readdir, so
  // there is nothing to normalize (path.join's normalize was ~10% of a warm build's walk).
  const dir = rel ? `${root}/${rel}/` : `${root}/`;
  const names = fsSync.readdirSync(dir).sort();
  const kept: ContextEntry[] = [];
  for (const name of names) {
    const p = rel ? `${rel}/${name}` : name;
    const ignored = ignore ? ignore.matches(p) : false;
    const st = ignored && !ignore!.hasExclusions ? undefined : fsSync.lstatSync(dir + name);
    if (!st || (ignored && (!st.isDirectory() || !ignore!.mayReinclude(p)))) {
      pruned.add(rel);
      continue;
    }
    const type: EntryType | undefined = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : undefined;
    if (!type) continue; // sockets, fifos, devices are never part of a context
    const entry: ContextEntry = { path: p, type, mode: st.mode, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
    if (st.nlink > 1 && type === 'file') {
      entry.nlink = st.nlink;
      entry.dev = st.dev;
    }
    if (type === 'symlink') entry.linkTarget = fsSync.readlinkSync(dir + name);
    if (type === 'dir') {
      children.set(p, []);
      walk(root, p, ignore, entries, children, pruned);
      if (ignored) pruned.add(rel);
      // An ignored directory is only walked for `!` exceptions; it appears if something in it does.
      if (ignored && children.get(p)!.length === 0) {
        children.delete(p);
        continue;
      }
      // It is not sent itself (Docker's client, podman): a copy creates it as a plain new directory.
      if (ignored) Object.assign(entry, { mode: 0o40755, mtimeMs: Date.now() });
    }
    entries.set(p, entry);
    kept.push(entry);
  }
  children.set(rel, kept);
}

/** Read synchronously: readFile's promise path decodes the text in chunks (a string decoder), readFileSync at once. */
function readStatCache(file: string): Map<string, StatRow> {
  try {
    const data = JSON.parse(fsSync.readFileSync(file, 'utf8')) as { version: 1; files: Record<string, CachedStat> } | { version: 2; files: StoredStat[] };
    if (data.version === 1) return new Map(Object.entries(data.files).map(([p, c]) => [p, [p, ...c]]));
    if (data.version !== 2 || !Array.isArray(data.files)) return new Map();
    const out = new Map<string, StatRow>();
    for (const f of data.files) if (Array.isArray(f) && f.length === 7) out.set(f[0], f);
    return out;
  } catch {
    return new Map(); // missing or damaged: hash again
  }
}
