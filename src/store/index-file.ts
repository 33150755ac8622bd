// The OCI index (index.json) as the list of images: one manifest descriptor per name, carrying
// org.opencontainers.image.ref.name (the full reference, e.g. docker.io/library/busybox:latest)
// and our image ID; an image without names (dangling, or kept for a container) has one
// descriptor without a ref.name. Read without a lock (it is replaced atomically); changed only
// under the store lock.
import fs from 'node:fs/promises';
import { DamagedError } from './damage.js';
import { atomicWriteJson } from './fsutil.js';
import { isDigest } from './digest.js';
import type { Descriptor, Digest } from './types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';
export const IMAGE_ID = 'io.strata.image.id';
export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
export const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: 'application/vnd.oci.image.index.v1+json';
  manifests: Descriptor[];
}

export function emptyIndex(): OciIndex {
  return { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
}

export async function readIndex(file: string): Promise<OciIndex> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
    throw err;
  }
  let idx: OciIndex;
  try {
    idx = JSON.parse(text) as OciIndex;
  } catch {
    throw new DamagedError(`store index "${file}"`, 'it is not valid JSON');
  }
  if (typeof idx !== 'object' || idx === null || (idx.manifests !== undefined && !Array.isArray(idx.manifests))) {
    throw new DamagedError(`store index "${file}"`, 'it is not an OCI image index');
  }
  // Only descriptors with valid digests are ours to build paths from.
  idx.manifests = (idx.manifests ?? []).filter((d) => typeof d === 'object' && d !== null && isDigest(d.digest));
  return idx;
}

export async function writeIndex(file: string, idx: OciIndex): Promise<void> {
  await atomicWriteJson(file, idx);
}

export const refName = (d: Descriptor): string | undefined => d.annotations?.[REF_NAME];
export const imageIdOf = (d: Descriptor): Digest | undefined => {
  const id = d.annotations?.[IMAGE_ID];
  return isDigest(id) ? id : undefined;
};

export function entryFor(manifest: { digest: Digest; size: number }, imageId: Digest, name?: string): Descriptor {
  const annotations: Record<string, string> = { [IMAGE_ID]: imageId };
  if (name) {
    annotations[REF_NAME] = name;
    annotations[CONTAINERD_NAME] = name;
  }
  return { mediaType: MANIFEST_TYPE, digest: manifest.digest, size: manifest.size, annotations };
}

/**
 * Points `name` at the image: drops the name from whichever image had it; that image, if
 * left without names, stays as an unnamed entry (Docker's `<none>`). Drops this image's
 * unnamed entry, now that it has a name.
 */
export function setName(idx: OciIndex, entry: Descriptor, name: string): void {
  const id = imageIdOf(entry);
  const before = idx.manifests.find((d) => refName(d) === name);
  idx.manifests = idx.manifests.filter((d) => refName(d) !== name && !(imageIdOf(d) === id && refName(d) === undefined));
  idx.manifests.push(entryFor(entry, id!, name));
  if (before && imageIdOf(before) !== id) keepUnnamed(idx, before);
}

/** Removes `name`; the image stays (unnamed) if that was its last name. */
export function dropName(idx: OciIndex, name: string): boolean {
  const before = idx.manifests.find((d) => refName(d) === name);
  if (!before) return false;
  idx.manifests = idx.manifests.filter((d) => refName(d) !== name);
  keepUnnamed(idx, before);
  return true;
}

function keepUnnamed(idx: OciIndex, old: Descriptor): void {
  const id = imageIdOf(old);
  if (!idx.manifests.some((d) => imageIdOf(d) === id)) idx.manifests.push(entryFor(old, id!));
}
