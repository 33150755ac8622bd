// Everything the registry client asks of the store, in one narrow place (the store is
// changing how it keeps layers; only this file should need to follow): import a verified
// compressed blob with its layer, write a pulled image keeping the registry's exact manifest
// and config bytes, name it, and read back what a push sends.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { assertDigest, digestHex, isDigest, sha256Digest } from '../store/digest.js';
import { fsyncDir, tempName } from '../store/fsutil.js';
import { imageIdOf, setName } from '../store/index-file.js';
import { normalizeTag } from '../store/refs.js';
import type { Store } from '../store/store.js';
import type { Digest, Image } from '../store/types.js';

export type { Store };

export interface PulledImage {
  manifestBytes: Buffer;
  manifestDigest: Digest;
  mediaType: string;
  configBytes: Buffer;
  /** Full references to point at it (none when pulled by digest alone). */
  names: string[];
}

/** Is this blob (compressed layer, config, manifest) in the store? */
export function hasBlob(store: Store, digest: Digest): Promise<boolean> {
  return store.blobs.has(assertDigest(digest));
}

export function hasLayer(store: Store, diffId: Digest): Promise<boolean> {
  return store.hasLayer(assertDigest(diffId));
}

/** Where downloads in progress are kept: the store's tmp/ (same filesystem as blobs/). */
export function tempDir(store: Store): string {
  return store.tmpDir;
}

/** Imports an uncompressed layer tar; `diffId` is verified before anything refers to it. */
export async function importLayerTar(store: Store, tar: AsyncIterable<Uint8Array>, diffId: Digest): Promise<void> {
  await store.importLayer(tar, assertDigest(diffId, 'layer diff ID'));
}

/** Moves a downloaded, verified file into blobs/ under its digest (the caller checked it). */
export async function adoptVerifiedBlob(store: Store, file: string, digest: Digest): Promise<void> {
  const target = store.blobs.path(assertDigest(digest));
  await fs.rename(file, target);
  await fsyncDir(path.dirname(target));
}

export async function writeBlobBytes(store: Store, bytes: Buffer, digest?: Digest): Promise<void> {
  await store.blobs.writeBytes(bytes, digest);
}

/**
 * Writes a pulled image: its config and manifest with the registry's exact bytes (so its ID and
 * digest survive a push or save), named by `names`. Every blob the manifest names must be in.
 */
export async function writePulledImage(store: Store, p: PulledImage): Promise<Image> {
  if (sha256Digest(p.manifestBytes) !== p.manifestDigest) throw new StrataError(`manifest digest mismatch for "${p.manifestDigest}"`);
  const configBlob = await store.blobs.writeBytes(p.configBytes);
  await store.blobs.writeBytes(p.manifestBytes, p.manifestDigest);
  const names = p.names.map(normalizeTag);
  await store.updateIndex(async (idx) => {
    // A concurrent rmi may have collected a blob this image reuses: check under the lock.
    if (!(await store.blobs.has(configBlob.digest))) await store.blobs.writeBytes(p.configBytes);
    if (!(await store.blobs.has(p.manifestDigest))) await store.blobs.writeBytes(p.manifestBytes);
    const entry = {
      mediaType: p.mediaType, digest: p.manifestDigest, size: p.manifestBytes.length,
      annotations: { 'io.strata.image.id': configBlob.digest },
    };
    // Another manifest of the same config (e.g. built here, or pushed and re-pulled) is replaced
    // by the registry's: the image keeps one manifest, the one that has a digest somewhere.
    const before = idx.manifests.filter((d) => imageIdOf(d) === configBlob.digest && d.digest !== p.manifestDigest);
    for (const d of before) d.digest = p.manifestDigest, d.size = p.manifestBytes.length, d.mediaType = p.mediaType;
    for (const name of names) setName(idx, entry, name);
    if (!idx.manifests.some((d) => imageIdOf(d) === configBlob.digest)) idx.manifests.push(entry);
    for (const d of idx.manifests) if (d.digest === p.manifestDigest) d.mediaType = p.mediaType;
  });
  return store.resolveImage(configBlob.digest);
}

/** Points `ref` at an image already in the store. */
export async function tagImage(store: Store, imageId: Digest, ref: string): Promise<void> {
  await store.tag(imageId, ref);
}

export function resolveImage(store: Store, ref: string): Promise<Image> {
  return store.resolveImage(ref);
}

export async function readBlobBytes(store: Store, digest: Digest): Promise<Buffer> {
  return fs.readFile(store.blobs.path(assertDigest(digest)));
}

export function blobSize(store: Store, digest: Digest): Promise<number> {
  return store.blobs.size(assertDigest(digest));
}

/** A blob's bytes as a stream (a compressed pulled layer, a config). */
export function openBlob(store: Store, digest: Digest, start = 0): AsyncIterable<Buffer> {
  return createReadStream(store.blobs.path(assertDigest(digest)), { start, highWaterMark: 1024 * 1024 });
}

/** The uncompressed tar of a layer, by diff_id. */
export function layerTar(store: Store, diffId: Digest): AsyncIterable<Buffer> {
  return openBlob(store, diffId);
}

/** The path of a layer's uncompressed tar (read by the compression workers). */
export function layerTarFile(store: Store, diffId: Digest): string {
  return store.blobs.path(assertDigest(diffId));
}

/** A registry-owned cache file under the state root (blob info: compressed digests, known repositories). */
export function cacheFile(store: Store, name: string): string {
  return path.join(store.root, 'registry', name);
}

export function newTempName(store: Store, hint: string): string {
  return tempName(store.tmpDir, hint);
}

export { digestHex, isDigest };
