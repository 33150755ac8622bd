// One blob of a push: skipped when the repository has it (HEAD), mounted from another
// repository of the same registry that is known to hold it, else uploaded — a stored blob in
// one PUT when small, in PATCHed chunks otherwise. A local layer kept uncompressed is gzip'ed
// on the way (byte-stable, block-parallel in the pool: hash/deflate.ts), hashed as it streams
// out and sent in one streamed PATCH, read only as fast as the socket takes it.
import { createPassHasher, gzipBlocks, newSha256, poolThreads, TASKS_PER_THREAD, type PassHasher } from '../hash/index.js';
import { timing } from '../timing.js';
import type { BlobInfoCache } from './blob-info.js';
import type { Repository } from './client.js';
import type { LayerStatus } from './progress-events.js';
import { blobSize, layerTar, openBlob, readBlobBytes, type Store } from './store-access.js';

/** Stored blobs up to this size go in one PUT; bigger ones in PATCH chunks of this size. */
export const CHUNK = 32 * 1024 * 1024;
// zlib level 3 (its fast strategy): some 4x the speed of 6 on text, within a few % of its size.
// podman (containers/image) gzips with klauspost's pgzip at its default level, 5 (podman push
// --compression-level documents it): a faster implementation than zlib's at the same level.
// Measured on a 16 MiB slice of the podman binary, zlib gives 44.0% at level 1, 42.0% at 3 and
// 39.9% at 5 for roughly 0.65x, 1x and 1.5x level 3's time; the bench's text is ~3% at every
// level. Level 3 keeps within ~5% of podman's sizes; level 1 would cost ~10%. The level is
// part of the bytes (GZIP_VARIANT): changing it changes every layer's compressed digest.
const GZIP_LEVEL = 3;
export const GZIP_VARIANT = `gzip:${GZIP_LEVEL}:1048576`;

export interface BlobContext {
  store: Store;
  repo: Repository;
  /** The registry's domain as blob locations name it. */
  registry: string;
  info: BlobInfoCache;
  status(s: LayerStatus, current?: number, total?: number): void;
}

/** Mounted from another repository, or present already: true when nothing must be uploaded. */
async function skipOrMount(c: BlobContext, digest: string): Promise<{ done: boolean; location?: string }> {
  if ((await c.repo.blobSize(digest)) !== undefined) {
    c.status('Layer already exists');
    return { done: true };
  }
  for (const from of await c.info.locations(digest, c.registry)) {
    if (from === c.repo.name) continue;
    const r = await c.repo.mount(digest, from).catch(() => false);
    if (r === true) {
      c.status(`Mounted from ${from}`);
      return { done: true };
    }
    if (typeof r === 'string') return { done: false, location: r };
  }
  return { done: false };
}

/** Sends a blob that is in the store under its own digest (config, a pulled compressed layer). */
export async function pushStoredBlob(c: BlobContext, digest: string): Promise<number> {
  const size = await blobSize(c.store, digest);
  const pre = await skipOrMount(c, digest);
  if (!pre.done) {
    const location = pre.location ?? (await c.repo.startUpload());
    if (size <= CHUNK) await c.repo.uploadWhole(location, digest, await readBlobBytes(c.store, digest));
    else {
      let sent = 0;
      const counted = async function* () {
        for await (const b of openBlob(c.store, digest)) {
          sent += b.length;
          c.status('Pushing', sent, size);
          yield b;
        }
      };
      await c.repo.uploadChunked(location, () => digest, counted(), CHUNK);
    }
    c.status('Pushed');
  }
  await c.info.addLocation(digest, c.registry, c.repo.name);
  return size;
}

/** Layers from this size on have their compressed stream hashed in the pool. */
const PASS_HASH_MIN = 16 * 1024 * 1024;
let passHashers = 0;

/**
 * Pass hashers open at once. Each holds a pool slot for its whole stream, as does each layer's
 * diff_id check (the store's StreamDigest): with three layers at a time, the slots left must
 * still run the deflate blocks those streams wait for. None on a one-thread pool.
 */
function passHashersAllowed(): number {
  const slots = poolThreads() * TASKS_PER_THREAD;
  return Math.max(0, Math.min(2, slots - 3 /* diff_id streams */ - 2 /* deflate tasks */));
}

/** The same interface, hashing on this thread. */
function hereHasher(): PassHasher {
  const h = newSha256();
  let hex: string | undefined;
  return {
    pass: (b) => {
      h.update(b);
      return Promise.resolve(b);
    },
    digest: () => Promise.resolve((hex ??= h.digest('hex'))),
  };
}

/**
 * Sends a layer kept uncompressed (by diff_id) as gzip. When its compressed digest is known
 * (this machine compressed it before: the bytes are the same every time), the registry is asked
 * first; otherwise it is compressed while it uploads and the digest recorded.
 */
export async function pushLayer(c: BlobContext, diffId: string, tarSize: number): Promise<{ digest: string; size: number }> {
  const known = await c.info.compressed(diffId, GZIP_VARIANT);
  let location: string | undefined;
  if (known) {
    const pre = await skipOrMount(c, known.digest);
    if (pre.done) {
      await c.info.addLocation(known.digest, c.registry, c.repo.name);
      return known;
    }
    location = pre.location;
  }
  location ??= await c.repo.startUpload();
  // A big layer's compressed bytes are hashed in a pool thread on their way to the upload (no
  // copies), when the pool has a stream slot to spare; otherwise here.
  const pooled = tarSize >= PASS_HASH_MIN && passHashers < passHashersAllowed();
  if (pooled) passHashers++;
  const hash: PassHasher = pooled ? await createPassHasher() : hereHasher();
  let size = 0;
  let read = 0;
  // The tar's chunks are read into memory the deflate workers hand back: a layer cycles
  // through a few MiB instead of faulting in fresh pages for every chunk.
  const spare: ArrayBuffer[] = [];
  const allocate = (n: number) => {
    const b = spare.pop();
    return b && b.byteLength === n ? Buffer.from(b) : Buffer.allocUnsafeSlow(n);
  };
  const tar = async function* () {
    for await (const b of layerTar(c.store, diffId, allocate)) {
      read += b.length;
      yield b;
    }
  };
  // Stored blocks are written into memory the upload is done with (onWritten below).
  const outputs: ArrayBuffer[] = [];
  const written = (b: Buffer) => {
    if (b.byteOffset === 0 && b.buffer.byteLength > 1024 * 1024 && outputs.length < 16) outputs.push(b.buffer as ArrayBuffer);
  };
  const gz = async function* () {
    const hashing: Promise<Buffer>[] = [];
    for await (const b of gzipBlocks(tar(), { level: GZIP_LEVEL, adopt: true, outputs, recycle: (b) => void (spare.length < 16 && spare.push(b)) })) {
      size += b.length;
      c.status('Pushing', read, tarSize);
      const back = hash.pass(b);
      back.catch(() => undefined); // awaited below, unless the upload failed first
      hashing.push(back);
      if (hashing.length > 4) yield await hashing.shift()!;
    }
    while (hashing.length) yield await hashing.shift()!;
  };
  let digest = '';
  timing(`push: layer ${diffId.slice(7, 19)} compressing`);
  try {
    await c.repo.uploadStream(location, async () => (digest = `sha256:${await hash.digest()}`), gz(), written);
  } finally {
    await hash.digest().catch(() => undefined); // a failed upload: the worker's task ends too
    if (pooled) passHashers--;
  }
  c.status('Pushed');
  timing(`push: layer ${diffId.slice(7, 19)} sent (${size} of ${tarSize} bytes)`);
  const blob = { digest, size };
  await c.info.setCompressed(diffId, GZIP_VARIANT, blob);
  await c.info.addLocation(digest, c.registry, c.repo.name);
  return blob;
}
