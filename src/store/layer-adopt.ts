// A directory (overlay form) made a layer: packed into its tar, which is hashed for the
// diff_id and recorded as the tar-split as it goes, never written. With takeOwnership the
// directory itself becomes the snapshot by rename (a build's step upper dir: each file written
// once); otherwise, or when the directory cannot become the snapshot (see SnapshotPrep), the
// packed stream is extracted into a new snapshot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { failpoint } from '../failpoint.js';
import { tempName } from './fsutil.js';
import { LAYER_TYPE } from './index-file.js';
import { packLayer, type SnapshotPrep } from './layer-pack.js';
import { StreamDigest } from './stream-digest.js';
import { SplitWriter } from './tar-split.js';
import type { ChunkSource } from './tar/reader.js';
import type { Digest, LayerInfo } from './types.js';

/** What of the layer store (layers.ts) this needs. */
export interface LayerSink {
  /** layers/ (the snapshots' directory) and tmp/, on one filesystem. */
  readonly dir: string;
  readonly tmpDir: string;
  fromStream(source: ChunkSource, options: { expected?: Digest; sizeHint?: () => number | undefined }): Promise<LayerInfo>;
  commit(diffId: Digest, dir: string, splitFile: string): Promise<void>;
}

/** packLayer's chunks share one buffer: copies for a consumer that keeps them (the tar reader). */
async function* copies(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield Buffer.from(c);
}

/**
 * Packs `dir` into a layer of `layers`. With `takeOwnership` the caller hands `dir` over (on
 * the store's filesystem, no longer used): it is gone when this returns or throws.
 */
export async function layerFromDir(layers: LayerSink, dir: string, options: { sourceDateEpoch?: number; takeOwnership?: boolean }): Promise<LayerInfo> {
  const src = path.resolve(dir);
  let fileBytes: number | undefined;
  const sizeHint = () => fileBytes;
  const onWalked = (n: number) => (fileBytes = n);
  if (!options.takeOwnership) return layers.fromStream(copies(packLayer(src, { sourceDateEpoch: options.sourceDateEpoch, onWalked })), { sizeHint });
  try {
    const prep: SnapshotPrep = { usable: true, strip: new Map() };
    const split = SplitWriter.create(layers.tmpDir);
    const hash = new StreamDigest(sizeHint);
    let diffId: Digest;
    try {
      for await (const chunk of packLayer(src, { sourceDateEpoch: options.sourceDateEpoch, prepare: prep, tap: split, onWalked })) {
        await hash.update(chunk);
        failpoint('layer.chunk');
        if (split.congested) await split.drained();
      }
      diffId = await hash.digest();
      if (prep.usable) await split.finish({ diffId });
      failpoint('layer.written');
    } catch (err) {
      await hash.abort();
      await split.abort();
      throw err;
    }
    try {
      if (prep.usable && (await adopt(layers, src, diffId, split.path, prep))) return { diffId, digest: diffId, size: hash.bytes, mediaType: LAYER_TYPE };
    } finally {
      await split.abort(); // what commit did not take
    }
    // Not adoptable: the same tar, packed again, extracted into a snapshot.
    return await layers.fromStream(copies(packLayer(src, { sourceDateEpoch: options.sourceDateEpoch })), { expected: diffId, sizeHint: () => hash.bytes });
  } finally {
    await fs.rm(src, { recursive: true, force: true });
  }
}

/**
 * Makes a packed directory the snapshot of `diffId`: first renamed to a temp name in layers/
 * (a crash leaves a dead temp the next write removes), where it gets an extracted snapshot's
 * root (0755, 0:0, no xattrs) and loses the xattrs an extraction would not set, then
 * committed. False when `dir` is on another filesystem (it stays where it is).
 */
async function adopt(layers: LayerSink, dir: string, diffId: Digest, splitFile: string, prep: SnapshotPrep): Promise<boolean> {
  const tmp = tempName(layers.dir);
  try {
    await fs.rename(dir, tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw err;
  }
  try {
    const strip = new Map([...prep.strip].map(([p, names]) => [p === dir ? tmp : path.join(tmp, path.relative(dir, p)), names]));
    const { removeXattrs } = await import('./xattr.js');
    await removeXattrs(strip, tmp);
    await fs.lchown(tmp, 0, 0).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM') throw err; // not root: extraction could not chown either
    });
    await fs.chmod(tmp, 0o755);
    failpoint('layer.snapshot-moved');
    await layers.commit(diffId, tmp, splitFile);
    return true;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
