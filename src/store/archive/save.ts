// `save`: images -> a docker-archive (manifest.json, repositories, <config>.json,
// <layer>/layer.tar, as `docker save` writes and `docker load`/`podman load` read) or an
// oci-archive (an OCI image layout in a tar, as `podman save --format oci-archive` writes).
// Every byte is checked as it is written: configs and manifests against their digests, layer
// tars (rebuilt from their snapshots) against their diff_ids, a pulled image's compressed
// layer blobs against their digests. Damage stops the save with a DamagedError naming the image.
import type { Writable } from 'node:stream';
import { inImage } from '../damage.js';
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
  const writer = format === 'oci-archive' ? new OciWriter(store, tar) : new DockerWriter(store, tar);
  await writer.start();
  for (const item of items) {
    // Damage met while writing an image is named as part of it.
    await writer.add(item).catch(inImage(item.names[0] ?? item.image.names[0] ?? item.image.id));
  }
  await writer.finish();
  await tar.end();
}

/** A layer's uncompressed tar, rebuilt and checked as it is written. */
async function layerTar(store: Store, tar: TarOut, name: string, diffId: string): Promise<void> {
  await tar.stream(name, await store.layerSize(diffId), store.layerTarStream(diffId));
}

class DockerWriter {
  private readonly written = new Set<string>();
  private readonly manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  private readonly repositories: Record<string, Record<string, string>> = {};

  constructor(private readonly store: Store, private readonly tar: TarOut) {}

  async start(): Promise<void> {}

  async add({ image, names }: SaveItem): Promise<void> {
    const configName = `${digestHex(image.id)}.json`;
    if (!this.written.has(configName)) {
      await this.tar.bytes(configName, await this.store.blobs.read(image.id));
      this.written.add(configName);
    }
    const layers: string[] = [];
    // layer.tar is uncompressed, named by its diff_id (a pulled image's manifest names the
    // registry's compressed blobs, which the oci-archive keeps).
    for (const diffId of image.config.rootfs.diff_ids) {
      const dir = digestHex(diffId);
      const name = `${dir}/layer.tar`;
      if (!this.written.has(name)) {
        await this.tar.dir(dir);
        await this.tar.bytes(`${dir}/VERSION`, '1.0');
        await layerTar(this.store, this.tar, name, diffId);
        this.written.add(name);
      }
      layers.push(name);
    }
    // Full names: `docker load` normalises them as it does short ones, and podman keeps them
    // (a short "busybox:latest" would become localhost/busybox:latest there).
    this.manifest.push({ Config: configName, RepoTags: names.length ? names : null, Layers: layers });
    const top = layers.length ? layers[layers.length - 1].split('/')[0] : '';
    for (const n of names) {
      const r = parseReference(n, { defaultTag: false });
      if (!r.tag) continue;
      (this.repositories[familiarRepository(r)] ??= {})[r.tag] = top;
    }
  }

  async finish(): Promise<void> {
    await this.tar.bytes('manifest.json', JSON.stringify(this.manifest));
    await this.tar.bytes('repositories', JSON.stringify(this.repositories));
  }
}

class OciWriter {
  private readonly written = new Set<string>();
  private readonly manifests: Descriptor[] = [];

  constructor(private readonly store: Store, private readonly tar: TarOut) {}

  async start(): Promise<void> {
    await this.tar.bytes('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await this.tar.dir('blobs');
    await this.tar.dir('blobs/sha256');
  }

  private once(digest: string): string | undefined {
    if (this.written.has(digest)) return undefined;
    this.written.add(digest);
    return `blobs/sha256/${digestHex(digest)}`;
  }

  async add({ image, names }: SaveItem): Promise<void> {
    for (const [i, l] of image.manifest.layers.entries()) {
      const name = this.once(l.digest);
      if (!name) continue;
      const diffId = image.config.rootfs.diff_ids[i];
      // A layer kept as its snapshot has its tar rebuilt; a pulled image's compressed blob is kept as it came.
      if (l.digest === diffId) await layerTar(this.store, this.tar, name, diffId);
      else await this.tar.stream(name, await this.store.blobs.size(l.digest), this.store.blobs.stream(l.digest));
    }
    const manifestBytes = await this.store.blobs.read(image.manifestDigest);
    for (const [digest, bytes] of [[image.id, await this.store.blobs.read(image.id)], [image.manifestDigest, manifestBytes]] as const) {
      const name = this.once(digest);
      if (name) await this.tar.bytes(name, bytes);
    }
    const base = { mediaType: image.manifest.mediaType ?? MANIFEST_TYPE, digest: image.manifestDigest, size: manifestBytes.length };
    if (names.length === 0) this.manifests.push(base);
    for (const n of names) this.manifests.push({ ...base, annotations: { [REF_NAME]: n, [CONTAINERD_NAME]: n } });
  }

  async finish(): Promise<void> {
    await this.tar.bytes('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: this.manifests }));
  }
}
