// `save`: images -> a docker-archive (manifest.json, repositories, <config>.json,
// <layer>/layer.tar, as `docker save` writes and `docker load`/`podman load` read) or an
// oci-archive (an OCI image layout in a tar, as `podman save --format oci-archive` writes).
// Layers are streamed from the store's blobs, uncompressed.
import type { Writable } from 'node:stream';
import { digestHex } from '../digest.js';
import { CONTAINERD_NAME, MANIFEST_TYPE, REF_NAME } from '../index-file.js';
import { familiarRepository, parseReference } from '../refs.js';
import type { Store } from '../store.js';
import type { Descriptor, Image } from '../types.js';
import { TarOut } from './tar-out.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface SaveItem {
  image: Image;
  /** Full names to record for it (the references the user asked for, or all its names). */
  names: string[];
}

export async function saveImages(store: Store, items: SaveItem[], out: Writable, format: ArchiveFormat): Promise<void> {
  const tar = new TarOut(out);
  if (format === 'oci-archive') await writeOci(store, items, tar);
  else await writeDocker(store, items, tar);
  await tar.end();
}

async function writeDocker(store: Store, items: SaveItem[], tar: TarOut): Promise<void> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, names } of items) {
    const configName = `${digestHex(image.id)}.json`;
    if (!written.has(configName)) {
      await tar.file(configName, store.blobs.path(image.id));
      written.add(configName);
    }
    const layers: string[] = [];
    // layer.tar is uncompressed: the diff_ids name those blobs (a pulled image's manifest names
    // the registry's compressed ones, which the oci-archive keeps).
    for (const diffId of image.config.rootfs.diff_ids) {
      const dir = digestHex(diffId);
      const name = `${dir}/layer.tar`;
      if (!written.has(name)) {
        await tar.dir(dir);
        await tar.bytes(`${dir}/VERSION`, '1.0');
        await tar.file(name, store.blobs.path(diffId));
        written.add(name);
      }
      layers.push(name);
    }
    // Full names: `docker load` normalises them as it does short ones, and podman keeps them
    // (a short "busybox:latest" would become localhost/busybox:latest there).
    manifest.push({ Config: configName, RepoTags: names.length ? names : null, Layers: layers });
    const top = layers.length ? layers[layers.length - 1].split('/')[0] : '';
    for (const n of names) {
      const r = parseReference(n, { defaultTag: false });
      if (!r.tag) continue;
      (repositories[familiarRepository(r)] ??= {})[r.tag] = top;
    }
  }
  await tar.bytes('manifest.json', JSON.stringify(manifest));
  await tar.bytes('repositories', JSON.stringify(repositories));
}

async function writeOci(store: Store, items: SaveItem[], tar: TarOut): Promise<void> {
  await tar.bytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await tar.dir('blobs');
  await tar.dir('blobs/sha256');
  const written = new Set<string>();
  const blob = async (digest: string) => {
    if (written.has(digest)) return;
    written.add(digest);
    await tar.file(`blobs/sha256/${digestHex(digest)}`, store.blobs.path(digest));
  };
  const manifests: Descriptor[] = [];
  for (const { image, names } of items) {
    for (const l of image.manifest.layers) await blob(l.digest);
    await blob(image.id);
    await blob(image.manifestDigest);
    const size = await store.blobs.size(image.manifestDigest);
    const base = { mediaType: image.manifest.mediaType ?? MANIFEST_TYPE, digest: image.manifestDigest, size };
    if (names.length === 0) manifests.push(base);
    for (const n of names) manifests.push({ ...base, annotations: { [REF_NAME]: n, [CONTAINERD_NAME]: n } });
  }
  await tar.bytes('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
}
