// The image store at the state root: an OCI image layout (oci-layout, index.json,
// blobs/sha256/) that skopeo and umoci read, plus unpacked layer snapshots in layers/<hex>/
// for overlay lowerdirs, tmp/ for writes in progress and `lock` guarding index updates.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { NotFoundError, StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { BlobStore } from './blobs.js';
import { assertDigest, isDigest } from './digest.js';
import { atomicWriteJson, exists } from './fsutil.js';
import { removeDeadTemps } from './leftovers.js';
import {
  CONFIG_TYPE, LAYER_TYPE, MANIFEST_TYPE, dropName, entryFor, imageIdOf, readIndex, refName, setName, writeIndex,
  type OciIndex,
} from './index-file.js';
import { imagesInUse, liveDigests, referencedBlobs, sweep, type GcOptions } from './gc.js';
import { LayerStore } from './layers.js';
import { withLock } from './lock.js';
import { DamagedError, inImage, isDamage } from './damage.js';
import type { SplitSource } from './tar-split.js';
import type { RebuildOptions } from './layer-rebuild.js';
import { decompressed } from './decompress.js';
import { normalizeTag, parseReference, formatReference } from './refs.js';
import { stateRoot } from './paths.js';
import type { ChunkSource, TarLimits } from './tar/reader.js';
import type { Descriptor, Digest, Image, ImageConfig, ImageStore, LayerInfo, Manifest } from './types.js';

export interface StoreOptions {
  /** Limits for every layer extracted into the store (decompression-bomb guard). */
  limits?: TarLimits;
  /** Entries skipped while extracting a layer (device nodes, trusted.* xattrs). Default: stderr. */
  onWarning?: (message: string) => void;
}

export interface CreateLayerOptions {
  /** Clamp every mtime in the layer to at most this (seconds since the epoch). */
  sourceDateEpoch?: number;
  /** The caller hands the directory over: it becomes the layer's snapshot (or is removed). */
  takeOwnership?: boolean;
}

export class Store implements ImageStore {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly tmpDir: string;
  readonly layersDir: string;
  readonly indexFile: string;
  private readonly lockFile: string;
  private cleaned = false;

  constructor(
    readonly root: string,
    readonly options: StoreOptions = {},
  ) {
    this.tmpDir = path.join(root, 'tmp');
    this.layersDir = path.join(root, 'layers');
    this.indexFile = path.join(root, 'index.json');
    this.lockFile = path.join(root, 'lock');
    this.blobs = new BlobStore(root, this.tmpDir);
    this.layers = new LayerStore(this.layersDir, this.tmpDir, this.blobs, {
      limits: options.limits,
      onWarning: options.onWarning,
      beforeWrite: () => this.beforeWrite(),
      findSource: (diffId) => this.compressedSourceOf(diffId),
    });
  }

  /** Creates the layout on first use; later calls cost one stat. */
  async init(): Promise<void> {
    if (await exists(path.join(this.root, 'oci-layout'))) return;
    for (const d of [this.blobs.dir, this.tmpDir, this.layersDir]) await fs.mkdir(d, { recursive: true });
    if (!(await exists(this.indexFile))) await withLock(this.lockFile, async () => {
      if (!(await exists(this.indexFile))) await writeIndex(this.indexFile, (await readIndex(this.indexFile)));
    });
    await atomicWriteJson(path.join(this.root, 'oci-layout'), { imageLayoutVersion: '1.0.0' });
  }

  /** Before writing: forget what processes killed mid-write left behind (once per process). */
  private async beforeWrite(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await removeDeadTemps(this.tmpDir);
    await removeDeadTemps(this.layersDir);
    await removeDeadTemps(this.root); // index.json / oci-layout replacements
  }

  readIndex(): Promise<OciIndex> {
    return readIndex(this.indexFile);
  }

  /**
   * Read-modify-write of index.json under the store lock. An index left as it was is not
   * written again (a warm rebuild under the same tag pays no fsync for it).
   */
  async updateIndex<T>(fn: (idx: OciIndex) => Promise<T> | T): Promise<T> {
    return withLock(this.lockFile, async () => {
      const idx = await readIndex(this.indexFile);
      const before = JSON.stringify(idx);
      const result = await fn(idx);
      if (JSON.stringify(idx) !== before) await writeIndex(this.indexFile, idx);
      return result;
    });
  }

  // ---- images -------------------------------------------------------------------------------

  /** An image's manifest and config, each checked against its digest; damage is named as part of the image. */
  private async loadImage(manifestDigest: Digest, names: string[], id?: Digest): Promise<Image> {
    const named = inImage(names[0] ?? id ?? manifestDigest);
    const manifest = await this.blobs.readJson<Manifest>(manifestDigest, 'manifest').catch(named);
    if (!isDigest(manifest.config?.digest) || !Array.isArray(manifest.layers)) named(new DamagedError(`manifest "${manifestDigest}"`, 'it is not an image manifest'));
    const config = await this.blobs.readJson<ImageConfig>(manifest.config.digest, 'config').catch(named);
    if (!Array.isArray(config.rootfs?.diff_ids) || config.rootfs.diff_ids.length !== manifest.layers.length) {
      named(new DamagedError(`config "${manifest.config.digest}"`, 'its diff_ids do not match its manifest\'s layers'));
    }
    const size = manifest.layers.reduce((n, l) => n + l.size, 0);
    return { id: manifest.config.digest, manifestDigest, manifest, config, names, size };
  }

  /** Index entries grouped by image ID (entries written by other tools get their ID from the manifest). */
  private async groups(idx: OciIndex): Promise<Map<Digest, { manifest: Digest; names: string[] }>> {
    const out = new Map<Digest, { manifest: Digest; names: string[] }>();
    for (const d of idx.manifests) {
      if (d.mediaType && d.mediaType !== MANIFEST_TYPE && d.mediaType !== 'application/vnd.docker.distribution.manifest.v2+json') continue;
      const id = imageIdOf(d) ?? assertDigest((await this.blobs.readJson<Manifest>(d.digest, 'manifest').catch(inImage(refName(d) ?? d.digest))).config?.digest, 'config digest');
      const g = out.get(id) ?? { manifest: d.digest, names: [] };
      const name = refName(d);
      if (name && !g.names.includes(name)) g.names.push(name);
      out.set(id, g);
    }
    return out;
  }

  async listImages(): Promise<Image[]> {
    const groups = await this.groups(await this.readIndex());
    return Promise.all([...groups.entries()].map(([id, g]) => this.loadImage(g.manifest, g.names, id)));
  }

  async resolveImage(refOrId: string): Promise<Image> {
    const hit = await this.findImage(refOrId);
    return this.loadImage(hit.manifestDigest, hit.names, hit.id);
  }

  /**
   * Which image a reference or ID names, from index.json alone (its manifest and config are not
   * read, so a damaged image can still be named, e.g. to remove it). `id` is absent only for an
   * entry another tool wrote without strata's image ID annotation.
   */
  async findImage(refOrId: string): Promise<{ id?: Digest; manifestDigest: Digest; names: string[] }> {
    const idx = await this.readIndex();
    const namesOf = (pick: (d: Descriptor) => boolean) => {
      const hits = idx.manifests.filter(pick);
      if (!hits.length) return undefined;
      const same = idx.manifests.filter((d) => d.digest === hits[0].digest);
      return { id: imageIdOf(hits[0]), manifestDigest: hits[0].digest, names: [...new Set(same.map(refName).filter((n): n is string => !!n))] };
    };
    // A full ID first, then a reference, then a unique ID prefix (Docker's order).
    const full = /^sha256:[a-f0-9]{64}$/.test(refOrId) ? refOrId : /^[a-f0-9]{64}$/.test(refOrId) ? `sha256:${refOrId}` : undefined;
    let hit = full ? namesOf((d) => imageIdOf(d) === full) : undefined;
    if (!hit) {
      let ref;
      try {
        ref = parseReference(refOrId);
      } catch {
        ref = undefined;
      }
      if (ref?.digest) hit = namesOf((d) => d.digest === ref.digest);
      else if (ref) {
        const name = formatReference(ref);
        hit = namesOf((d) => refName(d) === name);
      }
    }
    if (!hit && /^(sha256:)?[a-f0-9]{1,64}$/.test(refOrId)) {
      const prefix = refOrId.startsWith('sha256:') ? refOrId : `sha256:${refOrId}`;
      const groups = await this.groups(idx);
      const ids = [...groups.keys()].filter((id) => id.startsWith(prefix));
      if (ids.length > 1) throw new StrataError(`image ID prefix "${refOrId}" is ambiguous`);
      if (ids.length === 1) hit = { id: ids[0], manifestDigest: groups.get(ids[0])!.manifest, names: groups.get(ids[0])!.names };
    }
    if (!hit) throw new NotFoundError(`no such image: "${refOrId}"`);
    return hit;
  }


  async tag(imageId: Digest, ref: string): Promise<void> {
    assertDigest(imageId, 'image ID');
    const name = normalizeTag(ref);
    await this.beforeWrite();
    await this.updateIndex(async (idx) => {
      const entry = idx.manifests.find((d) => imageIdOf(d) === imageId);
      if (!entry) throw new StrataError(`no such image: "${imageId}"`);
      setName(idx, entry, name);
    });
  }

  async untag(ref: string): Promise<boolean> {
    const name = normalizeTag(ref);
    return this.updateIndex((idx) => dropName(idx, name));
  }

  /**
   * Removes an image from the index, with its manifest, config and the layers and blobs that
   * nothing else holds (another image, the build cache, a container, a build's lease: gc.ts).
   * A full sweep is prune's job. With `unlessInUse`, an image in use is left as it is: false.
   */
  async removeImage(imageId: Digest, gc: GcOptions = {}): Promise<boolean> {
    assertDigest(imageId, 'image ID');
    // A damaged image can be removed too: what its manifest names is then left to the full sweep.
    const image = await this.resolveImage(imageId).catch((err: unknown) => (isDamage(err) ? undefined : Promise.reject(err)));
    return this.updateIndex(async (idx) => {
      if (gc.unlessInUse && (await imagesInUse(this.root)).has(imageId)) return false;
      const manifests = new Set(idx.manifests.filter((d) => imageIdOf(d) === imageId).map((d) => d.digest));
      if (image) manifests.add(image.manifestDigest);
      if (manifests.size === 0) throw new StrataError(`no such image: "${imageId}"`);
      idx.manifests = idx.manifests.filter((d) => imageIdOf(d) !== imageId && !manifests.has(d.digest));
      const live = await liveDigests(this, idx, gc.keepLayers);
      for (const d of [...manifests, imageId]) if (!live.has(d)) await this.blobs.remove(d);
      if (!image) return true;
      for (const l of image.manifest.layers) if (isDigest(l.digest) && !live.has(l.digest)) await this.blobs.remove(l.digest);
      for (const d of image.config.rootfs.diff_ids) if (isDigest(d) && !live.has(d)) await this.layers.remove(d);
      return true;
    });
  }

  /** Every blob and layer the index's images refer to (gc.ts). */
  referencedBlobs(idx: OciIndex): Promise<Set<Digest>> {
    return referencedBlobs(this.blobs, idx);
  }

  /**
   * Removes blobs and layers nothing holds: no image, cache entry, container or lease (gc.ts).
   * Returns the bytes freed.
   */
  async collectGarbage(options: GcOptions = {}): Promise<number> {
    await this.beforeWrite();
    return withLock(this.lockFile, async () => sweep(this, await this.readIndex(), options));
  }

  async writeImage(config: ImageConfig, layers: LayerInfo[], options: { tags?: string[] } = {}): Promise<Image> {
    const diffIds = layers.map((l) => assertDigest(l.diffId, 'layer diff ID'));
    if (config.rootfs?.diff_ids?.length && config.rootfs.diff_ids.join() !== diffIds.join()) {
      throw new StrataError('image config diff_ids do not match its layers');
    }
    const cfg: ImageConfig = { ...config, rootfs: { type: 'layers', diff_ids: diffIds } };
    return this.writeImageBytes(Buffer.from(JSON.stringify(cfg)), layers, options);
  }

  /**
   * Like writeImage, with the config's exact bytes (a loaded image keeps its ID, which is the
   * digest of those bytes). Its rootfs.diff_ids must name `layers`, in order.
   */
  async writeImageBytes(configBytes: Buffer, layers: LayerInfo[], options: { tags?: string[] } = {}): Promise<Image> {
    let cfg: ImageConfig;
    try {
      cfg = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch {
      throw new StrataError('image config is not valid JSON');
    }
    const diffIds = layers.map((l) => assertDigest(l.diffId, 'layer diff ID'));
    if ((cfg.rootfs?.diff_ids ?? []).join() !== diffIds.join()) throw new StrataError('image config diff_ids do not match its layers');
    const names = (options.tags ?? []).map(normalizeTag);
    await this.init();
    await this.beforeWrite();
    const configBlob = await this.blobs.writeBytes(configBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: CONFIG_TYPE, digest: configBlob.digest, size: configBlob.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType || LAYER_TYPE, digest: assertDigest(l.digest), size: l.size })),
    };
    const manifestBlob = await this.blobs.writeBytes(JSON.stringify(manifest));
    failpoint('image.before-index');
    await this.updateIndex(async (idx) => {
      // A concurrent rmi may have collected a blob we reuse; check under the lock.
      if (!(await this.blobs.has(configBlob.digest))) await this.blobs.writeBytes(configBytes);
      if (!(await this.blobs.has(manifestBlob.digest))) await this.blobs.writeBytes(JSON.stringify(manifest));
      for (const [i, l] of manifest.layers.entries()) {
        if (!(await this.layers.has(diffIds[i]))) throw new StrataError(`layer "${diffIds[i]}" is missing from the store`);
        if (l.digest !== diffIds[i] && !(await this.blobs.has(l.digest))) throw new StrataError(`layer blob "${l.digest}" is missing from the store`);
      }
      const entry = entryFor(manifestBlob, configBlob.digest);
      for (const name of names) setName(idx, entry, name);
      if (!idx.manifests.some((d) => imageIdOf(d) === configBlob.digest)) idx.manifests.push(entry);
    });
    return { id: configBlob.digest, manifestDigest: manifestBlob.digest, manifest, config: cfg, names, size: manifest.layers.reduce((n, l) => n + l.size, 0) };
  }

  // ---- layers (layers.ts) -------------------------------------------------------------------

  async hasLayer(diffId: Digest): Promise<boolean> {
    return this.layers.has(diffId);
  }

  layerPath(diffId: Digest): Promise<string> {
    return this.layers.path(diffId);
  }

  /**
   * The layer's tar, rebuilt byte for byte and checked against its diff_id as it streams (for
   * save and push): damage is thrown as a DamagedError naming the layer, at the latest after
   * the last chunk. Chunks are fresh buffers, unless `allocate` gives them (a rebuilt tar's).
   */
  layerTarStream(diffId: Digest, options: Pick<RebuildOptions, 'allocate'> = {}): AsyncGenerator<Buffer> {
    return this.layers.tarStream(assertDigest(diffId, 'layer diff ID'), options);
  }

  /** Bytes of the layer's (uncompressed) tar. */
  layerSize(diffId: Digest): Promise<number> {
    return this.layers.size(assertDigest(diffId, 'layer diff ID'));
  }

  /**
   * Packs `dir` (overlay form: 0/0 char-device whiteouts, opaque xattr) into a layer: its
   * diff_id hashed from the tar as it is generated, its snapshot and tar-split kept. With
   * `takeOwnership`, the caller hands `dir` over (it must be on the store's filesystem and no
   * longer used): it becomes the layer's snapshot by rename instead of being extracted again,
   * and is gone when this returns (moved, or removed if the layer existed).
   */
  async createLayerFromDir(dir: string, options: CreateLayerOptions = {}): Promise<LayerInfo> {
    await this.init();
    return this.layers.fromDir(dir, options);
  }

  /**
   * Stores a layer from a tar stream (gzip'ed or not): extracted safely into its snapshot while
   * its tar-split is recorded; nothing is kept if it cannot be. `expectedDiffId`, when given, is verified.
   */
  async importLayer(source: ChunkSource, expectedDiffId?: Digest, options: { sizeHint?: () => number | undefined } = {}): Promise<LayerInfo> {
    await this.init();
    return this.layers.fromStream(decompressed(source, this.options.limits?.maxBytes), { expected: expectedDiffId, sizeHint: options.sizeHint });
  }

  /**
   * Stores a registry's compressed layer blob as it is (verified against `digest`), so that a
   * pulled image's manifest keeps pointing at it and its digest survives a push, and the layer
   * it holds (verified against `diffId`), unless that layer is already here. A blob whose
   * digest is its diff_id (an uncompressed layer) is not kept: its tar is rebuilt byte for byte.
   */
  async importCompressedLayer(source: ChunkSource, blob: { digest: Digest; diffId: Digest; mediaType: string; size?: number }): Promise<LayerInfo> {
    await this.init();
    const digest = assertDigest(blob.digest, 'layer digest');
    const diffId = assertDigest(blob.diffId, 'layer diff ID');
    if (digest === diffId) return { ...(await this.importLayer(source, diffId, { sizeHint: () => blob.size })), mediaType: blob.mediaType };
    await this.beforeWrite();
    const chunks = Symbol.asyncIterator in source ? source : (async function* () { yield* source; })();
    const written = await this.blobs.writeStream(chunks, digest);
    const have = await this.layers.files(diffId);
    if (!have.snapshot || !have.split || (await this.layers.quickCheck(diffId))) {
      const from = createReadStream(this.blobs.path(digest));
      await this.layers.fromStream(decompressed(from, this.options.limits?.maxBytes), { expected: diffId, source: { digest, mediaType: blob.mediaType } });
    }
    return { diffId, digest, size: written.size, mediaType: blob.mediaType };
  }

  /**
   * Reads a layer's uncompressed tar to its end without storing it: its diff_id hashed (and
   * compared with `expected`), its names and links checked as extraction will, entries and bytes
   * counted against the store's limits (layer-packed.ts). For a layer to be kept packed.
   */
  async scanLayer(source: ChunkSource, expected: Digest): Promise<{ diffId: Digest; size: number }> {
    const { scanLayerTar } = await import('./layer-packed.js');
    return scanLayerTar(source, { expected: assertDigest(expected, 'layer diff ID'), limits: this.options.limits });
  }

  /**
   * Keeps layer `diffId` packed in the compressed blob `blob` (in blobs/ already, its digest
   * and content verified: scanLayer), to be unpacked when its files are first needed
   * (layerPath). A layer already unpacked here is left as it is.
   */
  async keepPackedLayer(diffId: Digest, blob: { digest: Digest; mediaType: string; size: number }): Promise<void> {
    await this.init();
    const d = assertDigest(diffId, 'layer diff ID');
    const digest = assertDigest(blob.digest, 'layer digest');
    if (!(await this.blobs.has(digest))) throw new StrataError(`layer blob "${digest}" is missing from the store`);
    await this.layers.recordPacked(d, { digest, mediaType: blob.mediaType }, blob.size);
  }

  /** A compressed blob some image keeps for layer `diffId` (a pulled image's), if any. */
  private async compressedSourceOf(diffId: Digest): Promise<SplitSource | undefined> {
    for (const d of (await this.readIndex()).manifests) {
      const m = await this.blobs.readJson<Manifest>(d.digest).catch(() => undefined);
      if (!m || !isDigest(m.config?.digest)) continue;
      const cfg = await this.blobs.readJson<ImageConfig>(m.config.digest).catch(() => undefined);
      const i = cfg?.rootfs?.diff_ids?.indexOf(diffId) ?? -1;
      const l = i >= 0 ? m.layers?.[i] : undefined;
      if (l && isDigest(l.digest) && l.digest !== diffId) return { digest: l.digest, mediaType: l.mediaType };
    }
    return undefined;
  }
}

/** Extraction limits from the environment: STRATA_MAX_LAYER_BYTES, STRATA_MAX_LAYER_ENTRIES. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): TarLimits {
  const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  return { maxBytes: num(env.STRATA_MAX_LAYER_BYTES), maxEntries: num(env.STRATA_MAX_LAYER_ENTRIES) };
}

/** The store at `root` (default: the state root). Cheap: one stat; nothing else is read until asked. */
export async function openStore(root: string = stateRoot(), options: StoreOptions = {}): Promise<Store> {
  const store = new Store(root, { limits: limitsFromEnv(), ...options });
  await store.init();
  return store;
}

export { decompressed };
