// What a pull writes that the rest of the store does not: the registry's compressed layer
// blob, downloaded and verified by the caller into tmp/ and moved into blobs/ as it is, and the
// image with the registry's exact manifest and config bytes (so its digest and ID survive a
// push or save), under the media type the registry gave (Docker's or OCI's).
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { sha256Digest } from '../hash/index.js';
import { assertDigest } from './digest.js';
import { fsyncDir } from './fsutil.js';
import { IMAGE_ID, imageIdOf, setName } from './index-file.js';
import { normalizeTag } from './refs.js';
import type { Store } from './store.js';
import type { Image } from './types.js';

/**
 * Moves `file` (in the store's tmp/, its content already verified against `digest` by the
 * caller, as it was downloaded) into blobs/ under that digest.
 */
export async function adoptVerifiedBlob(store: Store, file: string, digest: string): Promise<void> {
  if (path.dirname(path.resolve(file)) !== path.resolve(store.tmpDir)) throw new StrataError(`"${file}" is not in the store's tmp/`);
  const target = store.blobs.path(assertDigest(digest));
  await fs.rename(file, target);
  await fsyncDir(path.dirname(target));
}

export interface PulledImage {
  manifestBytes: Buffer;
  /** The manifest's media type, as the registry served it. */
  mediaType: string;
  configBytes: Buffer;
  /** Full references to point at it (none when pulled by digest alone). */
  tags: string[];
}

/**
 * Writes a pulled image. Its layers (config diff_ids) and the manifest's compressed blobs must
 * be in the store. Another manifest of the same config (built here, or pushed and pulled back)
 * gives way: an image keeps one manifest, here the one with a digest in some registry.
 */
export async function writePulledImage(store: Store, p: PulledImage): Promise<Image> {
  const manifest = JSON.parse(p.manifestBytes.toString('utf8')) as { config?: { digest?: string }; layers?: { digest?: string }[] };
  const config = JSON.parse(p.configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } };
  const configDigest = sha256Digest(p.configBytes);
  if (manifest.config?.digest !== configDigest) throw new StrataError('manifest does not name the config given');
  const diffIds = (config.rootfs?.diff_ids ?? []).map((d) => assertDigest(d, 'layer diff ID'));
  const blobs = (manifest.layers ?? []).map((l) => assertDigest(l.digest, 'layer digest'));
  if (diffIds.length !== blobs.length) throw new StrataError('image config and manifest disagree on the number of layers');
  const names = p.tags.map(normalizeTag);
  await store.init();
  await store.blobs.writeBytes(p.configBytes);
  const m = await store.blobs.writeBytes(p.manifestBytes);
  await store.updateIndex(async (idx) => {
    // A concurrent rmi may have collected a blob this image reuses: check under the lock.
    if (!(await store.blobs.has(configDigest))) await store.blobs.writeBytes(p.configBytes);
    if (!(await store.blobs.has(m.digest))) await store.blobs.writeBytes(p.manifestBytes);
    for (const [i, d] of diffIds.entries()) {
      if (!(await store.hasLayer(d))) throw new StrataError(`layer "${d}" is missing from the store`);
      if (blobs[i] !== d && !(await store.blobs.has(blobs[i]))) throw new StrataError(`layer blob "${blobs[i]}" is missing from the store`);
    }
    const entry = { mediaType: p.mediaType, digest: m.digest, size: m.size, annotations: { [IMAGE_ID]: configDigest } };
    for (const d of idx.manifests) {
      if (imageIdOf(d) === configDigest) Object.assign(d, { mediaType: p.mediaType, digest: m.digest, size: m.size });
    }
    for (const name of names) setName(idx, entry, name);
    if (!idx.manifests.some((d) => imageIdOf(d) === configDigest)) idx.manifests.push(entry);
    // setName writes its own descriptor: give every one of this manifest the registry's type.
    for (const d of idx.manifests) if (d.digest === m.digest) d.mediaType = p.mediaType;
  });
  return store.resolveImage(configDigest);
}
