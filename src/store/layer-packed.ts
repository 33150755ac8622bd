// Packed layers, as BuildKit's lazy refs: a layer pulled from a registry (`strata pull`, a
// build's --cache-from) is kept as the registry's compressed blob only, with a small record
// layers/<hex>.packed naming that blob, and unpacked into its snapshot the first time something
// needs its files (LayerStore.path, the one gate). Before the record is written the blob has
// been checked against its digest (as it downloaded) and its content against the diff_id, by
// scanLayerTar here: decompressed (zlib's thread pool), hashed, its headers read (tar/scan.ts:
// content is skipped, never copied), its entries' names and links checked and counted with the extraction's limits. The unpack
// itself (with every guard of layer-unpack.ts) happens at the gate, under tmp/unpack-<hex>.lock.
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { newSha256 } from '../hash/index.js';
import { refuse, safeComponents } from './copier/names.js';
import { atomicWriteJson, exists } from './fsutil.js';
import { isDigest } from './digest.js';
import { breakStaleLock } from './lock.js';
import type { ChunkSource, TarLimits } from './tar/reader.js';
import { TarScanner } from './tar/scan.js';
import type { SplitSource } from './tar-split.js';
import type { Digest } from './types.js';

/** layers/<hex>.packed: the layer's content is the compressed blob `source`. */
export interface PackedRecord {
  v: 1;
  diffId: Digest;
  source: SplitSource;
  /** Bytes of the uncompressed tar. */
  size: number;
}

export async function readPacked(file: string, diffId: Digest): Promise<PackedRecord | undefined> {
  let rec: PackedRecord;
  try {
    rec = JSON.parse(await fs.readFile(file, 'utf8')) as PackedRecord;
  } catch {
    return undefined; // absent, or unreadable: as if absent (the layer is then missing, and named so)
  }
  if (rec?.diffId !== diffId || !isDigest(rec.source?.digest) || !Number.isSafeInteger(rec.size)) return undefined;
  return rec;
}

export function writePacked(file: string, rec: PackedRecord): Promise<void> {
  return atomicWriteJson(file, rec);
}

/** diff_id → blob of every packed record in `layersDir`. */
export async function packedSources(layersDir: string): Promise<Map<Digest, Digest>> {
  const out = new Map<Digest, Digest>();
  for (const name of await fs.readdir(layersDir).catch(() => [] as string[])) {
    const hex = /^([a-f0-9]{64})\.packed$/.exec(name)?.[1];
    if (!hex) continue;
    const rec = await readPacked(path.join(layersDir, name), `sha256:${hex}`);
    if (rec) out.set(rec.diffId, rec.source.digest);
  }
  return out;
}

export interface ScanResult {
  diffId: Digest;
  /** Bytes of the tar. */
  size: number;
}

/**
 * Reads a layer's (uncompressed) tar to its end without writing it: hashed (the diff_id),
 * its names checked as extraction will check them (no "..", no absolute name, no write below a
 * symlink of the same layer, a hard link only to an earlier entry), entries and bytes counted
 * against `limits`. Throws a StrataError naming the problem; `expected` is compared at the end.
 */
export async function scanLayerTar(source: ChunkSource, o: { expected?: Digest; limits?: TarLimits } = {}): Promise<ScanResult> {
  // sha256 on this thread: a pool worker's copies cost more than the hash (the gunzip runs in
  // zlib's threads meanwhile).
  const hash = newSha256();
  let bytes = 0;
  const names = new Set<string>();
  const symlinks = new Set<string>();
  const scanner = new TarScanner((e) => {
    const parts = safeComponents(e.path);
    const name = parts.join('/');
    for (let i = 1; i < parts.length; i++) {
      if (symlinks.has(parts.slice(0, i).join('/'))) throw refuse(e.path, 'it would be written through a symlink');
    }
    if (e.type === 'link') {
      const target = safeComponents(e.linkpath).join('/');
      if (!names.has(target)) throw refuse(e.path, `hard link to "${e.linkpath}", which is not earlier in the archive`);
    }
    if (e.type === 'symlink') symlinks.add(name);
    else if (symlinks.size) symlinks.delete(name);
    names.add(name);
  }, o.limits);
  for await (const c of source) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    hash.update(chunk);
    bytes += chunk.length;
    scanner.push(chunk); // what follows the end marker is hashed, not read
  }
  scanner.end();
  const diffId: Digest = `sha256:${hash.digest('hex')}`;
  if (o.expected && o.expected !== diffId) throw new StrataError(`digest mismatch: expected "${o.expected}", got "${diffId}"`);
  return { diffId, size: bytes };
}

const UNPACK_LOCK = /^unpack-[a-f0-9]{64}\.lock$/;

export function unpackLockPath(tmpDir: string, hex: string): string {
  return path.join(tmpDir, `unpack-${hex}.lock`);
}

/** Removes the unpack locks in `tmpDir` whose owner has exited (a kill -9 during an unpack). */
export async function sweepUnpackLocks(tmpDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(tmpDir).catch(() => [] as string[])) {
    if (!UNPACK_LOCK.test(name)) continue;
    const file = path.join(tmpDir, name);
    await breakStaleLock(file);
    if (!(await exists(file))) removed.push(file);
  }
  return removed;
}
