// `push`: the image's blobs first (layers three at a time, then the config), the manifest last
// with its media type. A pulled image that is unchanged goes out with the registry's exact
// manifest bytes, so its digest is the one it was pulled by; a local image gets an OCI manifest
// naming gzip layers (each compressed byte-stably, so the same layer always has one digest).
// Several images for one name (one per platform) are pushed as an OCI index.
import { StrataError } from '../errors.js';
import { timing } from '../timing.js';
import { sha256Digest } from '../hash/index.js';
import { formatReference, recordRepoDigest, repositoryName, type Image, type Reference } from '../store/index.js';
import { BlobInfoCache } from './blob-info.js';
import { Repository } from './client.js';
import { pushTransport, qualify, type RegistryOptions } from './endpoints.js';
import { DOCKER_LAYER_GZIP, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, layerCompression } from './media-types.js';
import type { ProgressSink } from './progress-events.js';
import { pushLayer, pushStoredBlob, type BlobContext } from './push-blob.js';
import { hasBlob, readBlobBytes, resolveImage, type Store } from './store-access.js';

export interface PushOptions extends RegistryOptions {
  store: Store;
  progress?: ProgressSink;
  concurrency?: number;
  /** Push these local images (one per platform) under the name, as an index. */
  platformImages?: string[];
  /** "The push refers to repository [...]" was said already (push --all-tags, after the first tag). */
  announced?: boolean;
}

export interface PushResult {
  reference: string;
  digest: string;
  size: number;
}

interface Desc { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }

async function eachLimited<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      await fn(items[i], i).catch((err: unknown) => void (failed ??= err));
    }
  }));
  if (failed !== undefined) throw failed;
}

/** Pushes one image's blobs; returns the manifest to put (exact bytes when it is a pulled one, unchanged). */
async function pushImageBlobs(image: Image, ref: Reference, o: PushOptions, repo: Repository, info: BlobInfoCache): Promise<{ bytes: Buffer; mediaType: string }> {
  const store = o.store;
  const p = o.progress;
  const diffIds = image.config.rootfs.diff_ids;
  const local = image.manifest.layers;
  const sent: Desc[] = new Array(local.length);
  let verbatim = true;
  for (const l of local) p?.layer(l.digest.slice(7, 19), 'Preparing');
  // The config beside the layers (its HEAD need not wait for theirs); the manifest only after both.
  const cfgCtx: BlobContext = { store, repo, registry: ref.domain, info, status: () => undefined };
  const config = pushStoredBlob(cfgCtx, image.id);
  config.catch(() => undefined); // awaited below
  await eachLimited(local, o.concurrency ?? 3, async (l, i) => {
    const id = l.digest.slice(7, 19);
    const ctx: BlobContext = { store, repo, registry: ref.domain, info, status: (s, cur, tot) => p?.layer(id, s, cur, tot) };
    const how = layerCompression(l.mediaType);
    if (how && how !== 'none' && (await hasBlob(store, l.digest))) {
      await pushStoredBlob(ctx, l.digest);
      sent[i] = { mediaType: l.mediaType, digest: l.digest, size: l.size };
      return;
    }
    verbatim = false;
    const blob = await pushLayer(ctx, diffIds[i], l.size);
    sent[i] = { mediaType: OCI_LAYER_GZIP, digest: blob.digest, size: blob.size };
  });
  await config;
  if (verbatim && (await hasBlob(store, image.manifestDigest))) {
    const bytes = await readBlobBytes(store, image.manifestDigest);
    return { bytes, mediaType: image.manifest.mediaType };
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: image.id, size: image.manifest.config.digest === image.id ? image.manifest.config.size : (await readBlobBytes(store, image.id)).length },
    layers: sent.map((d) => ({ ...d, mediaType: d.mediaType === DOCKER_LAYER_GZIP ? OCI_LAYER_GZIP : d.mediaType })),
  };
  return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: OCI_MANIFEST };
}

export async function push(text: string, o: PushOptions): Promise<PushResult> {
  const ref = qualify(text, o);
  if (ref.digest) throw new StrataError(`cannot push a digest reference "${text}": push a tag`);
  const reference = formatReference(ref);
  const tag = ref.tag ?? 'latest';
  const repo = new Repository(pushTransport(ref, o), ref.path, true);
  // What the tag names now, asked while the store is read (a loopback registry's first request
  // also stands in for the /v2/ ping, transport.ts): when it is the very manifest this push
  // makes, the registry has it (and so its blobs, each checked by HEAD anyway) and the PUT is
  // skipped: a warm push is then its HEADs alone.
  const tagged = repo.manifestDigest(tag).catch(() => undefined);
  const images = o.platformImages?.length
    ? await Promise.all(o.platformImages.map((n) => resolveImage(o.store, n)))
    : [await resolveImage(o.store, reference).catch(() => resolveImage(o.store, text))];
  timing('push: image resolved');
  if (!o.announced) o.progress?.line(`The push refers to repository [${repositoryName(ref)}]`);
  const info = new BlobInfoCache(o.store);
  try {
    let bytes: Buffer;
    let mediaType: string;
    if (images.length === 1) ({ bytes, mediaType } = await pushImageBlobs(images[0], ref, o, repo, info));
    else {
      const manifests: Desc[] = [];
      for (const image of images) {
        const m = await pushImageBlobs(image, ref, o, repo, info);
        const digest = sha256Digest(m.bytes);
        await repo.putManifest(digest, m.bytes, m.mediaType);
        const { os, architecture, variant } = image.config;
        manifests.push({ mediaType: m.mediaType, digest, size: m.bytes.length, platform: { os, architecture, ...(variant ? { variant } : {}) } });
      }
      bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
      mediaType = OCI_INDEX;
    }
    timing('push: blobs done');
    let digest: string = sha256Digest(bytes);
    if ((await tagged) !== digest) digest = await repo.putManifest(tag, bytes, mediaType);
    timing('push: manifest put');
    o.progress?.line(`${tag}: digest: ${digest} size: ${bytes.length}`);
    if (images.length === 1) await recordRepoDigest(o.store, images[0].id, repositoryName(ref), digest);
    return { reference, digest, size: bytes.length };
  } catch (err) {
    if (err instanceof StrataError) throw new StrataError(`pushing "${reference}": ${err.message}`, err.exitCode, { cause: err });
    throw err;
  } finally {
    await info.save();
  }
}
