// The OCI index (index.json) as the list of images: one manifest descriptor per name, carrying
// org.opencontainers.image.ref.name (the full reference, e.g. docker.io/library/busybox:latest)
// and our image ID; an image without names (dangling, or kept for a container) has one
// descriptor without a ref.name. Read without a lock (it is replaced atomically); changed only
// under the store lock.
//
// OCI-layout tools look a name up by exact match of ref.name (containers/image's oci: transport:
// `skopeo inspect oci:ROOT:t6` looks for "t6"), so every named image also gets alias descriptors
// with the short forms Docker shows ("t6:latest", and "t6" for :latest), marked with ALIAS_OF.
// They are derived: written by writeIndex, dropped by readIndex, so strata's own lookups, tags,
// rmi and GC see only the full names.
import { readFileSync } from 'node:fs';
import { DamagedError } from './damage.js';
import { atomicWriteJson } from './fsutil.js';
import { isDigest } from './digest.js';
import { familiarName, parseReference } from './refs.js';
import type { Descriptor, Digest } from './types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';
export const IMAGE_ID = 'io.strata.image.id';
/** On an alias descriptor: the full name it is a short form of. */
export const ALIAS_OF = 'io.strata.alias-of';
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
    // Read synchronously: a small file whose JSON.parse below blocks longer than its read, and
    // a read through libuv's pool is four trips (open, stat, read, close), some 0.5 ms each on
    // a busy machine; `run` reads it twice on its start path (its image, then its lease's check).
    text = readFileSync(file, 'utf8');
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
  idx.manifests = (idx.manifests ?? []).filter((d) => typeof d === 'object' && d !== null && isDigest(d.digest) && !d.annotations?.[ALIAS_OF]);
  return idx;
}

export async function writeIndex(file: string, idx: OciIndex): Promise<void> {
  const own = idx.manifests.filter((d) => !d.annotations?.[ALIAS_OF]);
  const taken = new Set(own.map(refName).filter((n) => n !== undefined));
  const aliases: Descriptor[] = [];
  for (const d of own) {
    const name = refName(d);
    if (!name) continue;
    for (const short of shortNames(name)) {
      if (taken.has(short)) continue;
      taken.add(short);
      aliases.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { [REF_NAME]: short, [ALIAS_OF]: name } });
    }
  }
  await atomicWriteJson(file, { ...idx, manifests: [...own, ...aliases] }, { failpoint: 'index.before-rename' });
}

/** The short forms of a full name that OCI-layout tools are asked for: "t6:latest" and "t6". */
export function shortNames(full: string): string[] {
  let familiar: string;
  try {
    familiar = familiarName(full);
  } catch {
    return [];
  }
  const out = familiar === full ? [] : [familiar];
  const r = parseReference(full, { defaultTag: false });
  if (r.tag === 'latest' && !r.digest) out.push(familiar.slice(0, -':latest'.length));
  return out;
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
