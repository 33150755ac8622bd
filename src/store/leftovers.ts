// What killed processes leave in the state root, and its removal. Every temporary thing is
// named after its owner (owner.ts): temp files and dirs `.tmp-PID.START-*` (tmp/, layers/, the
// root, the build cache, network and endpoint records), build scratch dirs `PID.START-*`
// (build/work), and records of temp files and dirs made outside the state root (`save -o FILE`
// writes beside FILE; a build's ssh agent sockets are in the OS temp dir). Only this state
// root's entries of owners that have surely exited are touched; a directory is never removed
// while anything is mounted under it (a removal would go through the mount into what it shows).
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFile as run } from '../run-file.js';
import { OUTSIDE_NOTE, TEMP_PREFIX, tempName, tempOwner } from './fsutil.js';
import { ownerGone, ownerStamp, parseOwner, type Owner } from './owner.js';
import { NetworkStore } from './networks.js';
import { mountsUnder, removeTree } from './remove-tree.js';

export { mountsUnder };


/**
 * Removes a dead owner's file or directory. Whatever is mounted under a directory is unmounted
 * first (lazily when busy); if a mount stays, so does the directory. False when it stayed.
 */
export async function removeLeftover(p: string): Promise<boolean> {
  const st = await fs.lstat(p).catch(() => undefined);
  if (!st) return true;
  if (st.isDirectory()) {
    const real = await fs.realpath(p);
    for (const m of mountsUnder(real)) {
      await run('umount', [m]).catch(() => run('umount', ['-l', m])).catch(() => undefined);
    }
  }
  return (await removeTree(p)).length === 0;
}

/**
 * The temp file or dir outside the state root a dead owner's note names, if its name is still
 * that owner's (a symlink there is never taken: it would be another's file or dir).
 */
async function outsideTemp(note: string, owner: Owner): Promise<string | undefined> {
  const target = (await fs.readFile(note, 'utf8').catch(() => '')).trim();
  const named = tempOwner(path.basename(target));
  if (!path.isAbsolute(target) || !named || named.pid !== owner.pid || named.start !== owner.start) return undefined;
  const st = await fs.lstat(target).catch(() => undefined);
  return st?.isFile() || st?.isDirectory() ? target : undefined;
}

export interface SweepOptions {
  /** Only list what would be removed (`system check` without --repair). */
  dryRun?: boolean;
}

/** Removes the temp entries (`.tmp-OWNER-*`) left in `dir` by processes that have exited. Returns their paths. */
export async function removeDeadTemps(dir: string, options: SweepOptions = {}): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const owner = tempOwner(name);
    if (!owner || !ownerGone(owner)) continue;
    const p = path.join(dir, name);
    const outside = name.endsWith(OUTSIDE_NOTE) ? await outsideTemp(p, owner) : undefined;
    if (outside) {
      // Outside the root nothing mounted is ours to unmount: a dir with a mount in it stays,
      // and so does its note (tried again by the next sweep).
      if (!options.dryRun && (await removeTree(outside).catch(() => [''])).length > 0) continue;
      removed.push(outside);
    }
    if (options.dryRun || (await removeLeftover(p).catch(() => false))) removed.push(p);
  }
  return removed;
}

/** Removes the scratch dirs (`OWNER-*`) left in `dir` by processes that have exited. Returns their paths. */
export async function removeDeadScratch(dir: string, options: SweepOptions = {}): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const owner = /^\d/.test(name) ? parseOwner(name) : undefined;
    if (!owner || !ownerGone(owner)) continue;
    const p = path.join(dir, name);
    if (options.dryRun || (await removeLeftover(p).catch(() => false))) removed.push(p);
  }
  return removed;
}

/** A scratch dir name for this process under `dir`: `OWNER-HINT` (see removeDeadScratch). */
export function scratchName(dir: string, hint: string): string {
  return path.join(dir, `${ownerStamp()}-${hint}`);
}

/**
 * Makes a temp dir in the state root's tmp/ (`.tmp-OWNER-*HINT`): what a process killed while it
 * used it (a mount for `cp`, say) is found and removed by a later sweep.
 */
export async function makeTempDir(root: string, hint: string): Promise<string> {
  const tmpDir = path.join(root, 'tmp');
  await fs.mkdir(tmpDir, { recursive: true });
  const dir = tempName(tmpDir, hint);
  await fs.mkdir(dir, { mode: 0o700 });
  return dir;
}

/** Synchronous makeTempDir. */
export function makeTempDirSync(root: string, hint: string): string {
  const tmpDir = path.join(root, 'tmp');
  fsSync.mkdirSync(tmpDir, { recursive: true });
  const dir = tempName(tmpDir, hint);
  fsSync.mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** The state root's directories that hold temp entries (`.tmp-OWNER-*`). */
export function tempDirsOf(root: string): string[] {
  return [
    path.join(root, 'tmp'), path.join(root, 'layers'), root, path.join(root, 'build', 'cache'), path.join(root, 'build', 'cache', 'inputs'),
    path.join(root, 'build', 'statcache'), path.join(root, 'leases'), path.join(root, 'containers', 'by-name'), ...new NetworkStore(root).tempDirs(),
  ];
}

/** Where builds keep their step scratch dirs (upper/work dirs, bundles, stdin contexts). */
export function buildScratchDir(root: string): string {
  return path.join(root, 'build', 'work');
}

/** Removes every temp entry and scratch dir of exited processes in the state root (and the temp files outside it they noted). Returns their paths. */
export async function sweepStoreLeftovers(root: string, options: SweepOptions = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of tempDirsOf(root)) removed.push(...(await removeDeadTemps(dir, options)));
  removed.push(...(await removeDeadScratch(buildScratchDir(root), options)));
  if (!options.dryRun) {
    const { sweepUnpackLocks } = await import('./layer-packed.js');
    removed.push(...(await sweepUnpackLocks(path.join(root, 'tmp'))));
  }
  return removed;
}
