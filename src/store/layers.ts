// Layers, each kept once: its unpacked snapshot layers/<hex>/ (an overlay lowerdir, in
// overlay form) and layers/<hex>.tar-split, what it takes to rebuild the layer's tar byte for
// byte (tar-split.ts). The diff_id is hashed from the tar stream as it is packed or read; the
// tar itself is never written to disk. A store written before this layout kept each layer's
// tar as the blob blobs/sha256/<diff_id> ("legacy" here): such layers are read as they are and
// converted (tar-split made, blob removed) when their snapshot is re-made or their layer written again.
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import type { BlobStore } from './blobs.js';
import { DamagedError, isDamage } from './damage.js';
import { decompressed } from './decompress.js';
import { withBlobContent } from './gunzip-member.js';
import { digestHex } from './digest.js';
import { exists, fsyncDir, tempName } from './fsutil.js';
import { LAYER_TYPE } from './index-file.js';
import { packedSources, readPacked, unpackLockPath, writePacked, type PackedRecord } from './layer-packed.js';
import { withLock } from './lock.js';
import { rebuildTar, type RebuildOptions } from './layer-rebuild.js';
import { readRecords, readTrailer, SplitError, SplitWriter, type SplitSource, type SplitTrailer } from './tar-split.js';
import { StreamDigest } from './stream-digest.js';
import type { ChunkSource, TarLimits } from './tar/reader.js';
import type { Digest, LayerInfo } from './types.js';

export interface LayerStoreOptions {
  limits?: TarLimits;
  onWarning?: (message: string) => void;
  /** Runs before the first write of the process (removes dead writers' temps). */
  beforeWrite: () => Promise<void>;
  /** A compressed blob this layer can be re-made from, if some image names one (pulled images). */
  findSource: (diffId: Digest) => Promise<SplitSource | undefined>;
}

export interface ImportOptions {
  /** The diff_id the stream must have. */
  expected?: Digest;
  /** The stream's size, if known at its first chunk (a big one is hashed in the pool). */
  sizeHint?: () => number | undefined;
  /** The compressed blob the stream comes from (kept by the caller), recorded for re-making the snapshot. */
  source?: SplitSource;
}

/** What is on disk for one layer. */
export interface LayerFiles {
  snapshot: boolean;
  split: boolean;
  /** The previous layout's uncompressed tar blob. */
  legacy: boolean;
  /** A record naming the compressed blob the layer is still packed in (layer-packed.ts). */
  packed: boolean;
}

const subject = (diffId: Digest) => `layer "${diffId}"`;

/** Turns a rebuild's SplitError into the layer's damage. */
function damage(diffId: Digest, err: unknown): unknown {
  return err instanceof SplitError ? new DamagedError(subject(diffId), err.message) : err;
}

export class LayerStore {
  constructor(
    readonly dir: string,
    readonly tmpDir: string,
    private readonly blobs: BlobStore,
    private readonly options: LayerStoreOptions,
  ) {}

  snapshotPath(diffId: Digest): string {
    return path.join(this.dir, digestHex(diffId));
  }

  splitPath(diffId: Digest): string {
    return path.join(this.dir, `${digestHex(diffId)}.tar-split`);
  }

  packedPath(diffId: Digest): string {
    return path.join(this.dir, `${digestHex(diffId)}.packed`);
  }

  async files(diffId: Digest): Promise<LayerFiles> {
    const [snapshot, split, legacy, packed] = await Promise.all([
      exists(this.snapshotPath(diffId)), exists(this.splitPath(diffId)), this.blobs.has(diffId), exists(this.packedPath(diffId)),
    ]);
    return { snapshot, split, legacy, packed };
  }

  /** The packed record of a layer not unpacked yet (no snapshot), if it has one. */
  async packed(diffId: Digest): Promise<PackedRecord | undefined> {
    if (await exists(this.snapshotPath(diffId))) return undefined;
    return readPacked(this.packedPath(diffId), diffId);
  }

  /**
   * Keeps layer `diffId` packed: its content is the compressed blob `source` (already in
   * blobs/, its digest and its content's diff_id verified: layer-packed.ts scanLayerTar). A
   * layer already unpacked here needs no record.
   */
  async recordPacked(diffId: Digest, source: SplitSource, size: number): Promise<void> {
    await this.options.beforeWrite();
    if ((await exists(this.snapshotPath(diffId))) && (await exists(this.splitPath(diffId)))) return;
    await writePacked(this.packedPath(diffId), { v: 1, diffId, source, size });
  }

  /** Every packed layer's blob: live as long as its layer is (gc.ts). */
  packedSources(): Promise<Map<Digest, Digest>> {
    return packedSources(this.dir);
  }

  /** The layer can be used: its snapshot with what rebuilds its tar, or a copy to re-make it from. */
  async has(diffId: Digest): Promise<boolean> {
    const f = await this.files(diffId);
    if (f.legacy || (f.snapshot && f.split)) return true;
    return !f.snapshot && (await this.remakeSource(diffId)) !== undefined;
  }

  /** Every diff_id with a snapshot or a tar-split here (legacy blobs are listed by the blob store). */
  async list(): Promise<Digest[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    const hex = new Set(names.map((n) => /^([a-f0-9]{64})(\.tar-split|\.packed)?$/.exec(n)?.[1]).filter((h): h is string => !!h));
    return [...hex].map((h) => `sha256:${h}`);
  }

  async trailer(diffId: Digest): Promise<SplitTrailer> {
    try {
      const t = await readTrailer(this.splitPath(diffId));
      if (t.diffId !== diffId) throw new SplitError(`its tar-split belongs to layer "${t.diffId}"`);
      return t;
    } catch (err) {
      throw damage(diffId, err);
    }
  }

  /** Bytes of the layer's tar. */
  async size(diffId: Digest): Promise<number> {
    if (await exists(this.splitPath(diffId))) return (await this.trailer(diffId)).size;
    if (await this.blobs.has(diffId)) return this.blobs.size(diffId);
    const rec = await readPacked(this.packedPath(diffId), diffId);
    if (rec) return rec.size;
    throw this.missing(diffId);
  }

  private missing(diffId: Digest): DamagedError {
    return new DamagedError(subject(diffId), 'no copy is kept to re-make it', true);
  }

  /**
   * The snapshot's path: THE gate through which everything that needs a layer's files goes
   * (a container's rootfs, RUN, COPY --from, diff, export, build outputs). A packed layer is
   * unpacked here, and a missing snapshot re-made, from the blob that holds it. The unpack
   * runs under tmp/unpack-<hex>.lock, so a second process needing it waits and finds it
   * done; it extracts into a temp dir renamed into place (layers.ts fromStream), so a kill -9
   * leaves the layer packed, plus temps and a lock that the next command sweeps.
   */
  async path(diffId: Digest): Promise<string> {
    const snap = this.snapshotPath(diffId);
    if (await exists(snap)) return snap;
    const probe = await this.remakeSource(diffId);
    if (!probe) throw (await exists(this.splitPath(diffId))) ? new DamagedError(subject(diffId), `its snapshot "${snap}" is missing`) : this.missing(diffId);
    await this.options.beforeWrite();
    await fs.mkdir(this.tmpDir, { recursive: true });
    await withLock(unpackLockPath(this.tmpDir, digestHex(diffId)), async () => {
      if (await exists(snap)) return; // another process unpacked it while this one waited
      const from = await this.remakeSource(diffId);
      if (!from) throw this.missing(diffId);
      await this.makeFrom(diffId, from);
    }, { timeoutMs: 30 * 60_000 });
    return snap;
  }

  /** The layer (snapshot and tar-split) made again from a blob that holds it. */
  private async makeFrom(diffId: Digest, from: SplitSource): Promise<void> {
    const file = this.blobs.path(from.digest);
    // Hashed on this thread (no sizeHint), beside the inflate and the file writes in libuv's pool.
    if (from.digest === diffId) return void (await this.fromStream(createReadStream(file, { highWaterMark: 1024 * 1024 }), { expected: diffId }));
    await withBlobContent(file, from.mediaType, this.options.limits?.maxBytes, (tar) => this.fromStream(tar, { expected: diffId, source: from }));
  }

  /**
   * Re-makes a damaged or missing snapshot (and its tar-split) from a blob of the layer, if
   * one is kept. Returns the blob used, or undefined. The copy here stays in place until the
   * new one is complete (commit() keeps whichever is intact): a remake that fails (the blob is
   * damaged too, the disk is full) or is killed leaves the layer as it found it, never less.
   */
  async remake(diffId: Digest): Promise<Digest | undefined> {
    const from = await this.remakeSource(diffId);
    if (!from) return undefined;
    await this.makeFrom(diffId, from);
    return from.digest;
  }

  /** A blob the snapshot can be re-made from: the legacy tar, or a compressed blob. */
  private async remakeSource(diffId: Digest): Promise<SplitSource | undefined> {
    if (await this.blobs.has(diffId)) return { digest: diffId, mediaType: LAYER_TYPE };
    const packed = await readPacked(this.packedPath(diffId), diffId);
    if (packed && (await this.blobs.has(packed.source.digest))) return packed.source;
    const recorded = await this.trailer(diffId).then((t) => t.source, () => undefined);
    const source = recorded ?? (await this.options.findSource(diffId));
    return source && (await this.blobs.has(source.digest)) ? source : undefined;
  }

  /**
   * The layer's tar, rebuilt from its snapshot (or read from a legacy blob), checked against
   * the diff_id as it streams: damage is thrown as a DamagedError naming the layer (and the
   * file), at the latest after the last chunk. Chunks are fresh buffers.
   */
  async *tarStream(diffId: Digest, options: RebuildOptions & { splitFile?: string } = {}): AsyncGenerator<Buffer> {
    const splitFile = options.splitFile ?? this.splitPath(diffId);
    let source: AsyncIterable<Buffer>;
    let size: number;
    const packed = options.splitFile ? undefined : await this.packed(diffId);
    if (packed) {
      // Still packed: the tar is the blob's content (checked against the diff_id below).
      source = decompressed(this.blobs.stream(packed.source.digest), this.options.limits?.maxBytes);
      size = packed.size;
    } else if (options.splitFile || (await exists(splitFile))) {
      const t = options.splitFile ? await readTrailer(splitFile).catch((e: unknown) => Promise.reject(damage(diffId, e))) : await this.trailer(diffId);
      const snap = this.snapshotPath(diffId);
      if (!(await exists(snap))) throw new DamagedError(subject(diffId), `its snapshot "${snap}" is missing`);
      source = rebuildTar(snap, splitFile, t, options);
      size = t.size;
    } else if (await this.blobs.has(diffId)) {
      source = createReadStream(this.blobs.path(diffId)) as AsyncIterable<Buffer>;
      size = await this.blobs.size(diffId);
    } else throw this.missing(diffId);
    const hash = new StreamDigest(() => size);
    try {
      for await (const chunk of source) {
        await hash.update(chunk);
        yield chunk;
      }
    } catch (err) {
      await hash.abort();
      throw damage(diffId, err);
    }
    const got = await hash.digest();
    if (got !== diffId) throw new DamagedError(subject(diffId), `its content does not match its digest (got "${got}")`);
  }

  /** undefined when the layer's tar rebuilds to its diff_id, else what is wrong (reads the whole layer). */
  async verify(diffId: Digest, options: RebuildOptions & { splitFile?: string } = {}): Promise<string | undefined> {
    try {
      for await (const _ of this.tarStream(diffId, options)) void _;
      return undefined;
    } catch (err) {
      if (isDamage(err)) return err.problem;
      throw err;
    }
  }

  /**
   * The cheap check: the tar-split reads to its end and every file it names is in the snapshot
   * with its size (one stat per file, no content read). undefined when all is there, else what
   * is wrong. A legacy layer (no tar-split) checks its blob's presence.
   */
  async quickCheck(diffId: Digest): Promise<string | undefined> {
    const snap = this.snapshotPath(diffId);
    const splitFile = this.splitPath(diffId);
    const packed = await this.packed(diffId);
    if (packed) return (await this.blobs.has(packed.source.digest)) ? undefined : `its compressed blob "${packed.source.digest}" is missing`;
    if (!(await exists(splitFile))) return (await this.blobs.has(diffId)) ? undefined : 'its tar-split is missing';
    if (!(await exists(snap))) return `its snapshot "${snap}" is missing`;
    try {
      const t = await this.trailer(diffId);
      const extras = new Set(t.extras.map(([i]) => i));
      for await (const r of readRecords(splitFile, t)) {
        if (r.kind !== 'file' || extras.has(r.index)) continue;
        const st = await fs.lstat(path.join(snap, r.path)).catch(() => undefined);
        if (!st) return `file "${r.path}" is missing from its snapshot`;
        if (!st.isFile() || st.size !== r.size) return `file "${r.path}" of its snapshot has ${st.size} bytes, the layer says ${r.size}`;
      }
      return undefined;
    } catch (err) {
      if (isDamage(err)) return err.problem;
      if (err instanceof SplitError) return err.message;
      throw err;
    }
  }

  /** Stores a layer from its (uncompressed) tar stream: extracted into its snapshot while its tar-split is recorded. */
  async fromStream(source: ChunkSource, options: ImportOptions = {}): Promise<LayerInfo> {
    await this.options.beforeWrite();
    const tmp = tempName(this.dir);
    await fs.mkdir(tmp, { mode: 0o755 });
    const split = SplitWriter.create(this.tmpDir);
    const hash = new StreamDigest(options.sizeHint);
    let finished = false;
    try {
      const hashed = (async function* () {
        for await (const chunk of source) {
          await hash.update(chunk);
          failpoint('layer.chunk');
          yield chunk;
        }
      })();
      const { unpackLayer } = await import('./layer-unpack.js');
      const { warnings } = await unpackLayer(hashed, tmp, { limits: this.options.limits, tmpDir: this.tmpDir, split });
      const diffId = await hash.digest();
      if (options.expected && options.expected !== diffId) throw new StrataError(`digest mismatch: expected "${options.expected}", got "${diffId}"`);
      if (split.bytes !== hash.bytes) throw new StrataError(`layer "${diffId}": its tar-split describes ${split.bytes} bytes of ${hash.bytes}`);
      const warn = this.options.onWarning ?? ((m: string) => process.stderr.write(`WARNING: ${m}\n`));
      for (const w of warnings) warn(`layer ${digestHex(diffId).slice(0, 12)}: ${w}`);
      await split.finish({ diffId, source: options.source });
      finished = true;
      failpoint('layer.written');
      await this.commit(diffId, tmp, split.path);
      return { diffId, digest: diffId, size: hash.bytes, mediaType: LAYER_TYPE };
    } finally {
      if (!finished) {
        await hash.abort();
        await split.abort();
      }
      await fs.rm(split.path, { force: true });
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Packs `dir` (overlay form) into a layer (layer-adopt.ts): with `takeOwnership`, `dir`
   * becomes the snapshot by rename, and is gone when this returns or throws.
   */
  async fromDir(dir: string, options: { sourceDateEpoch?: number; takeOwnership?: boolean } = {}): Promise<LayerInfo> {
    await this.options.beforeWrite();
    const { layerFromDir } = await import('./layer-adopt.js');
    return layerFromDir(this, dir, options);
  }

  /**
   * Puts a finished snapshot (`dir`, in layers/ under a temp name) and tar-split (`splitFile`)
   * in place as layer `diffId`. A layer already here is not trusted blindly: its tar is rebuilt
   * and hashed (with its own tar-split, else with the new one, which converts a legacy layer);
   * if neither gives the diff_id, the new copy replaces the damaged one. Leaves `dir` and
   * `splitFile` to the caller to remove when they were not used.
   */
  async commit(diffId: Digest, dir: string, splitFile: string): Promise<void> {
    const snap = this.snapshotPath(diffId);
    const splitDst = this.splitPath(diffId);
    let doomed: string | undefined;
    if (await exists(snap)) {
      if ((await exists(splitDst)) && !(await this.verify(diffId))) return this.touch(splitDst);
      if (!(await this.verify(diffId, { splitFile }))) {
        await fs.rename(splitFile, splitDst); // the snapshot is intact: keep it, with the new tar-split
        await this.blobs.remove(diffId);
        await fsyncDir(this.dir);
        await fs.rm(this.packedPath(diffId), { force: true });
        return;
      }
      // Damaged, and this copy is intact: it takes the damaged one's place, which is deleted
      // only once this one is there (a kill meanwhile leaves a temp that a sweep deletes).
      doomed = tempName(this.dir, '.damaged');
      await fs.rename(snap, doomed).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await fs.rename(splitFile, splitDst);
    failpoint('layer.split-placed');
    await fs.rename(dir, snap).catch(async (err: NodeJS.ErrnoException) => {
      // Another process finished the same layer first: keep theirs.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
    await fsyncDir(this.dir);
    if (doomed) await fs.rm(doomed, { recursive: true, force: true });
    await this.blobs.remove(diffId); // a legacy tar is no longer needed
    await fs.rm(this.packedPath(diffId), { force: true }); // unpacked: the record has served
  }

  /** Marks a reused layer as young, so a concurrent garbage collection spares it. */
  private async touch(file: string): Promise<void> {
    const now = new Date();
    await fs.utimes(file, now, now).catch(() => undefined);
  }

  /** When the layer was last written or reused (its tar-split's mtime, else its snapshot's). */
  async mtimeMs(diffId: Digest): Promise<number> {
    for (const p of [this.splitPath(diffId), this.snapshotPath(diffId), this.packedPath(diffId), this.blobs.path(diffId)]) {
      const st = await fs.lstat(p).catch(() => undefined);
      if (st) return st.mtimeMs;
    }
    return 0;
  }

  /** Removes the layer's snapshot, tar-split, packed record and legacy tar (a packed layer's compressed blob is its image's). */
  async remove(diffId: Digest): Promise<void> {
    await this.blobs.remove(diffId);
    await fs.rm(this.packedPath(diffId), { force: true });
    await fs.rm(this.splitPath(diffId), { force: true });
    const snap = this.snapshotPath(diffId);
    if (await exists(snap)) {
      // Rename first so a half-deleted snapshot is never visible under its real name.
      const doomed = tempName(this.dir, '.rm');
      await fs.rename(snap, doomed);
      await fs.rm(doomed, { recursive: true, force: true });
    }
  }
}
