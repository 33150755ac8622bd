// Everything the registry client asks of the store, in one narrow place (so that a change in
// how the store keeps layers touches only this file): import a layer while its compressed blob
// downloads and keep that blob, write a pulled image keeping the registry's exact bytes, name
// images, and read back what a push sends (blobs as stored, layer tars rebuilt).
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  adoptVerifiedBlob, assertDigest, digestHex, isDigest, tempName, writePulledImage as storeWritePulled,
  type Digest, type Image, type Store,
} from '../store/index.js';

export type { Store };

export interface PulledImage {
  manifestBytes: Buffer;
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
export async function tempDir(store: Store): Promise<string> {
  await store.init();
  await fs.mkdir(store.tmpDir, { recursive: true });
  return store.tmpDir;
}

/** Imports an uncompressed layer tar; `diffId` is verified before anything refers to it. */
export async function importLayerTar(store: Store, tar: AsyncIterable<Uint8Array>, diffId: Digest, size?: number): Promise<void> {
  await store.importLayer(tar, assertDigest(diffId, 'layer diff ID'), { sizeHint: () => size });
}

/**
 * Checks an uncompressed layer tar without storing it (diff_id, names, limits); returns its
 * size. With keepPacked, the layer is then kept as its compressed blob, unpacked on first use.
 */
export async function scanLayerTar(store: Store, tar: AsyncIterable<Uint8Array>, diffId: Digest): Promise<number> {
  return (await store.scanLayer(tar, assertDigest(diffId, 'layer diff ID'))).size;
}

/** Records layer `diffId` as packed in the kept compressed blob `digest` (its tar `size` bytes). */
export function keepPacked(store: Store, diffId: Digest, blob: { digest: Digest; mediaType: string; size: number }): Promise<void> {
  return store.keepPackedLayer(assertDigest(diffId, 'layer diff ID'), blob);
}

/** Keeps a downloaded, verified compressed blob (a file in tmpDir) under its digest. */
export function keepVerifiedBlob(store: Store, file: string, digest: Digest): Promise<void> {
  return adoptVerifiedBlob(store, file, digest);
}

export async function writeBlobBytes(store: Store, bytes: Buffer, digest?: Digest): Promise<void> {
  await store.blobs.writeBytes(bytes, digest);
}

export function writePulledImage(store: Store, p: PulledImage): Promise<Image> {
  return storeWritePulled(store, { manifestBytes: p.manifestBytes, mediaType: p.mediaType, configBytes: p.configBytes, tags: p.names });
}

export function resolveImage(store: Store, ref: string): Promise<Image> {
  return store.resolveImage(ref);
}

/** Every name of the store's images ("host/repo:tag"), for `push --all-tags`. */
export async function imageNames(store: Store): Promise<string[]> {
  return (await store.listImages()).flatMap((i) => i.names);
}

/** A small blob's bytes (config, manifest), checked against its digest. */
export function readBlobBytes(store: Store, digest: Digest): Promise<Buffer> {
  return store.blobs.read(assertDigest(digest));
}

export function blobSize(store: Store, digest: Digest): Promise<number> {
  return store.blobs.size(assertDigest(digest));
}

/** A blob's bytes as a stream (a compressed pulled layer), checked against its digest as it streams (damage: a DamagedError naming it). */
export function openBlob(store: Store, digest: Digest): AsyncIterable<Buffer> {
  return store.blobs.stream(assertDigest(digest));
}

/**
 * The uncompressed tar of a layer, rebuilt byte for byte and checked against its diff_id;
 * `allocate` gives the buffers its chunks are read into (memory the caller recycles).
 */
export function layerTar(store: Store, diffId: Digest, allocate?: (size: number) => Buffer): AsyncIterable<Buffer> {
  return store.layerTarStream(assertDigest(diffId), { allocate });
}

/** A registry-owned file under the state root (blob info, repo digests). */
export function cacheFile(store: Store, name: string): string {
  return path.join(store.root, 'registry', name);
}

export function newTempName(store: Store, hint: string): string {
  return tempName(store.tmpDir, hint);
}

export { digestHex, isDigest };
