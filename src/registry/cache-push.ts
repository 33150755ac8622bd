// `build --push` of an image whose layers are partly only in a registry cache: the image is
// assembled (config bytes, layer descriptors) but not written to the store, and pushed with
// each cache-held layer mounted from the cache's repository — nothing downloaded, nothing
// uploaded but the config and the manifest. A layer that cannot be mounted (another registry)
// is brought into the store first and sent as any pushed layer.
import { sha256Digest } from '../hash/index.js';
import { StrataError } from '../errors.js';
import { formatReference, type Store } from '../store/index.js';
import { BlobInfoCache } from './blob-info.js';
import { Repository } from './client.js';
import { pushTransport, qualify, type RegistryOptions } from './endpoints.js';
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, layerCompression } from './media-types.js';
import { pushLayer, pushStoredBlob, type BlobContext } from './push-blob.js';
import type { PushResult } from './push.js';
import { hasBlob } from './store-access.js';

export interface AssembledLayer {
  diffId: string;
  /** The blob as the image names it (a cache's gzip blob, or the diff_id of a local tar). */
  digest: string;
  size: number;
  mediaType: string;
  /** A repository of a registry holding the blob (a registry cache). */
  mountFrom?: { registry: string; repository: string };
  /** Brings the layer into the store when it must be sent from here. */
  ensureLocal(): Promise<void>;
}

export interface AssembledImage {
  configBytes: Buffer;
  layers: AssembledLayer[];
}

export async function pushAssembled(text: string, img: AssembledImage, o: RegistryOptions & { store: Store }): Promise<PushResult & { mounted: number }> {
  const ref = qualify(text, o);
  if (ref.digest) throw new StrataError(`cannot push a digest reference "${text}": push a tag`);
  const reference = formatReference(ref);
  const repo = new Repository(pushTransport(ref, o), ref.path, true);
  const info = new BlobInfoCache(o.store);
  let mounted = 0;
  try {
    const ctx: BlobContext = { store: o.store, repo, registry: ref.domain, info, status: () => undefined };
    const sent = [];
    for (const l of img.layers) {
      if (l.mountFrom && l.mountFrom.registry === ref.domain) {
        const have = (await repo.blobSize(l.digest)) !== undefined;
        const r = have || l.mountFrom.repository === ref.path || (await repo.mount(l.digest, l.mountFrom.repository).catch(() => false)) === true;
        if (r) {
          mounted++;
          sent.push({ mediaType: l.mediaType, digest: l.digest, size: l.size });
          continue;
        }
      }
      await l.ensureLocal();
      const how = layerCompression(l.mediaType);
      if (how && how !== 'none' && (await hasBlob(o.store, l.digest as never))) {
        await pushStoredBlob(ctx, l.digest);
        sent.push({ mediaType: l.mediaType, digest: l.digest, size: l.size });
      } else {
        const blob = await pushLayer(ctx, l.diffId, l.size);
        sent.push({ mediaType: OCI_LAYER_GZIP, digest: blob.digest, size: blob.size });
      }
    }
    const configDigest = sha256Digest(img.configBytes);
    if ((await repo.blobSize(configDigest)) === undefined) await repo.uploadWhole(await repo.startUpload(), configDigest, img.configBytes);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: configDigest, size: img.configBytes.length }, layers: sent,
    }));
    const digest = await repo.putManifest(ref.tag ?? 'latest', manifest, OCI_MANIFEST);
    return { reference, digest, size: manifest.length, mounted };
  } catch (err) {
    if (err instanceof StrataError) throw new StrataError(`pushing "${reference}": ${err.message}`, err.exitCode, { cause: err });
    throw err;
  } finally {
    await info.save();
  }
}
