// The image store at the state root: an OCI image layout (oci-layout, index.json,
// blobs/sha256/) that skopeo and umoci read, plus unpacked layer snapshots in layers/<hex>/
// for overlay lowerdirs, tmp/ for writes in progress and `lock` guarding index updates.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { StrataError } from '../errors.js';
import { BlobStore } from './blobs.js';
import { cachedLayers } from './cache-index.js';
import { assertDigest, digestHex, isDigest } from './digest.js';
import { atomicWriteJson, exists, removeDeadTemps, tempName } from './fsutil.js';
import {
  CONFIG_TYPE, LAYER_TYPE, MANIFEST_TYPE, dropName, entryFor, imageIdOf, readIndex, refName, setName, writeIndex,
  type OciIndex,
} from './index-file.js';
import type { SnapshotPrep } from './layer-pack.js';
import { withLock } from './lock.js';
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

export interface GcOptions {
  /** Layers to keep even if no image refers to them (e.g. used by containers). */
  keepLayers?: Iterable<Digest>;
  /** collectGarbage spares blobs written or reused more recently than this (default 1 hour). */
  minAgeMs?: number;
}

export class Store implements ImageStore {
  readonly blobs: BlobStore;
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

  /** Read-modify-write of index.json under the store lock. */
  async updateIndex<T>(fn: (idx: OciIndex) => Promise<T> | T): Promise<T> {
    return withLock(this.lockFile, async () => {
      const idx = await readIndex(this.indexFile);
      const result = await fn(idx);
      await writeIndex(this.indexFile, idx);
      return result;
    });
  }

  // ---- images -------------------------------------------------------------------------------

  private async loadImage(manifestDigest: Digest, names: string[]): Promise<Image> {
    const manifest = await this.blobs.readJson<Manifest>(manifestDigest);
    const id = assertDigest(manifest.config?.digest, 'config digest');
    const config = await this.blobs.readJson<ImageConfig>(id);
    const size = manifest.layers.reduce((n, l) => n + l.size, 0);
    return { id, manifestDigest, manifest, config, names, size };
  }

  /** Index entries grouped by image ID (entries written by other tools get their ID from the manifest). */
  private async groups(idx: OciIndex): Promise<Map<Digest, { manifest: Digest; names: string[] }>> {
    const out = new Map<Digest, { manifest: Digest; names: string[] }>();
    for (const d of idx.manifests) {
      if (d.mediaType && d.mediaType !== MANIFEST_TYPE && d.mediaType !== 'application/vnd.docker.distribution.manifest.v2+json') continue;
      const id = imageIdOf(d) ?? assertDigest((await this.blobs.readJson<Manifest>(d.digest)).config?.digest, 'config digest');
      const g = out.get(id) ?? { manifest: d.digest, names: [] };
      const name = refName(d);
      if (name && !g.names.includes(name)) g.names.push(name);
      out.set(id, g);
    }
    return out;
  }

  async listImages(): Promise<Image[]> {
    const groups = await this.groups(await this.readIndex());
    return Promise.all([...groups.values()].map((g) => this.loadImage(g.manifest, g.names)));
  }

  async resolveImage(refOrId: string): Promise<Image> {
    const idx = await this.readIndex();
    const namesOf = (pick: (d: Descriptor) => boolean) => {
      const hits = idx.manifests.filter(pick);
      return hits.length ? { manifest: hits[0].digest, names: [...new Set(idx.manifests.filter((d) => d.digest === hits[0].digest).map(refName).filter((n): n is string => !!n))] } : undefined;
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
      if (ids.length === 1) hit = { manifest: groups.get(ids[0])!.manifest, names: groups.get(ids[0])!.names };
    }
    if (!hit) throw new StrataError(`no such image: "${refOrId}"`);
    return this.loadImage(hit.manifest, hit.names);
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

  async removeImage(imageId: Digest, gc: GcOptions = {}): Promise<void> {
    assertDigest(imageId, 'image ID');
    const image = await this.resolveImage(imageId);
    await this.updateIndex(async (idx) => {
      idx.manifests = idx.manifests.filter((d) => imageIdOf(d) !== imageId && d.digest !== image.manifestDigest);
      // Drop this image's blobs that no remaining image refers to (a full sweep is prune's job).
      const used = await this.referencedBlobs(idx);
      const keep = new Set([...(gc.keepLayers ?? []), ...(await cachedLayers(this.root))]);
      for (const d of [image.manifestDigest, image.id]) if (!used.has(d)) await this.blobs.remove(d);
      // A pulled image's manifest names compressed blobs; its layers are the config's diff_ids.
      for (const d of new Set([...image.manifest.layers.map((l) => l.digest), ...(image.config.rootfs?.diff_ids ?? [])])) {
        if (used.has(d) || keep.has(d) || !isDigest(d)) continue;
        await this.removeLayer(d);
      }
    });
  }

  /** Every blob the index's images refer to (manifests, configs, layers). */
  async referencedBlobs(idx: OciIndex): Promise<Set<Digest>> {
    const used = new Set<Digest>();
    for (const d of idx.manifests) {
      if (used.has(d.digest)) continue;
      used.add(d.digest);
      const m = await this.blobs.readJson<Manifest>(d.digest).catch(() => undefined);
      if (!m) continue;
      if (isDigest(m.config?.digest)) {
        used.add(m.config.digest);
        // Pulled images keep the registry's compressed blobs in the manifest; their uncompressed
        // layers (snapshots' sources) are named by the config's diff_ids.
        if ((m.layers ?? []).some((l) => l.digest && !(l.mediaType ?? '').endsWith('.tar'))) {
          const cfg = await this.blobs.readJson<ImageConfig>(m.config.digest).catch(() => undefined);
          for (const d of cfg?.rootfs?.diff_ids ?? []) if (isDigest(d)) used.add(d);
        }
      }
      for (const l of m.layers ?? []) if (isDigest(l.digest)) used.add(l.digest);
    }
    return used;
  }

  /** Removes blobs and snapshots no image refers to. Returns the bytes freed. */
  async collectGarbage(options: GcOptions = {}): Promise<number> {
    await this.beforeWrite();
    const keep = new Set([...(options.keepLayers ?? []), ...(await cachedLayers(this.root))]);
    // Blobs written (or reused) recently may belong to an image still being built or loaded.
    const cutoff = Date.now() - (options.minAgeMs ?? 3_600_000);
    const young = async (p: string) => ((await fs.lstat(p).catch(() => undefined))?.mtimeMs ?? 0) > cutoff;
    return withLock(this.lockFile, async () => {
      const used = await this.referencedBlobs(await this.readIndex());
      let freed = 0;
      for (const d of await this.blobs.list()) {
        if (used.has(d) || keep.has(d) || (await young(this.blobs.path(d)))) continue;
        freed += await this.blobs.size(d).catch(() => 0);
        await this.removeLayer(d);
      }
      for (const name of await fs.readdir(this.layersDir).catch(() => [] as string[])) {
        if (!/^[a-f0-9]{64}$/.test(name)) continue;
        const d = `sha256:${name}`;
        if (used.has(d) || keep.has(d) || (await this.blobs.has(d)) || (await young(path.join(this.layersDir, name)))) continue;
        await this.removeLayer(d);
      }
      return freed;
    });
  }

  private async removeLayer(digest: Digest): Promise<void> {
    await this.blobs.remove(digest);
    const snap = path.join(this.layersDir, digestHex(digest));
    if (await exists(snap)) {
      // Rename first so a half-deleted snapshot is never visible under its real name.
      const doomed = tempName(this.layersDir, '.rm');
      await fs.rename(snap, doomed);
      await fs.rm(doomed, { recursive: true, force: true });
    }
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
    await this.updateIndex(async (idx) => {
      // A concurrent rmi may have collected a blob we reuse; check under the lock.
      if (!(await this.blobs.has(configBlob.digest))) await this.blobs.writeBytes(configBytes);
      if (!(await this.blobs.has(manifestBlob.digest))) await this.blobs.writeBytes(JSON.stringify(manifest));
      for (const l of manifest.layers) {
        if (!(await this.blobs.has(l.digest))) throw new StrataError(`layer "${l.digest}" is missing from the store`);
      }
      const entry = entryFor(manifestBlob, configBlob.digest);
      for (const name of names) setName(idx, entry, name);
      if (!idx.manifests.some((d) => imageIdOf(d) === configBlob.digest)) idx.manifests.push(entry);
    });
    return { id: configBlob.digest, manifestDigest: manifestBlob.digest, manifest, config: cfg, names, size: manifest.layers.reduce((n, l) => n + l.size, 0) };
  }

  // ---- layers -------------------------------------------------------------------------------

  async hasLayer(diffId: Digest): Promise<boolean> {
    return this.blobs.has(diffId);
  }

  async layerPath(diffId: Digest): Promise<string> {
    const snap = path.join(this.layersDir, digestHex(diffId));
    if (await exists(snap)) return snap;
    if (!(await this.blobs.has(diffId))) throw new StrataError(`layer "${diffId}" is missing from the store`);
    await this.unpackSnapshot(diffId);
    return snap;
  }

  /** (Re)creates layers/<hex>/ from the layer blob: unpacked under a temp name, then renamed. */
  private async unpackSnapshot(diffId: Digest): Promise<void> {
    await this.beforeWrite();
    const snap = path.join(this.layersDir, digestHex(diffId));
    const tmp = tempName(this.layersDir);
    await fs.mkdir(tmp, { mode: 0o755 });
    try {
      const { unpackLayer } = await import('./layer-unpack.js');
      const { warnings } = await unpackLayer(createReadStream(this.blobs.path(diffId)), tmp, { limits: this.options.limits, tmpDir: this.tmpDir });
      const warn = this.options.onWarning ?? ((m: string) => process.stderr.write(`WARNING: ${m}\n`));
      for (const w of warnings) warn(`layer ${digestHex(diffId).slice(0, 12)}: ${w}`);
      await fs.rename(tmp, snap).catch(async (err: NodeJS.ErrnoException) => {
        // Another process finished the same snapshot first: keep theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Packs `dir` (overlay form: 0/0 char-device whiteouts, opaque xattr) into a layer blob. With
   * `takeOwnership`, the caller hands `dir` over (it must be on the store's filesystem and no
   * longer used): it becomes the layer's snapshot by rename instead of being extracted again
   * from the blob, and is gone when this returns (moved, or removed if the snapshot existed).
   */
  async createLayerFromDir(dir: string, options: CreateLayerOptions = {}): Promise<LayerInfo> {
    await this.init();
    await this.beforeWrite();
    const src = path.resolve(dir);
    const prep: SnapshotPrep | undefined = options.takeOwnership ? { usable: true, strip: new Map() } : undefined;
    const { packLayer } = await import('./layer-pack.js');
    try {
      let fileBytes: number | undefined;
      const tar = packLayer(src, { sourceDateEpoch: options.sourceDateEpoch, prepare: prep, onWalked: (n) => (fileBytes = n) });
      const blob = await this.blobs.writeStream(tar, undefined, { sizeHint: () => fileBytes });
      if (prep?.usable) await this.adoptSnapshot(src, blob.digest, prep);
      return await this.finishLayer(blob.digest, blob.size);
    } finally {
      if (prep) await fs.rm(src, { recursive: true, force: true });
    }
  }

  /**
   * Moves a packed directory into place as the snapshot of `diffId` (when that does not exist
   * yet): first to a temp name in layers/ (a crash leaves a dead temp the next write removes),
   * where it gets an extracted snapshot's root (0755, 0:0, no xattrs) and loses the xattrs an
   * extraction would not set, then renamed to its real name. A different filesystem (EXDEV)
   * leaves `dir` where it is; the snapshot is then extracted from the blob as usual.
   */
  private async adoptSnapshot(dir: string, diffId: Digest, prep: SnapshotPrep): Promise<void> {
    const snap = path.join(this.layersDir, digestHex(diffId));
    if (await exists(snap)) return; // built before: keep that one (the caller's dir is removed)
    const tmp = tempName(this.layersDir);
    try {
      await fs.rename(dir, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EXDEV') return;
      throw err;
    }
    try {
      const strip = new Map([...prep.strip].map(([p, names]) => [p === dir ? tmp : path.join(tmp, path.relative(dir, p)), names]));
      const { removeXattrs } = await import('./xattr.js');
      await removeXattrs(strip);
      await fs.lchown(tmp, 0, 0).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPERM') throw err; // not root: extraction could not chown either
      });
      await fs.chmod(tmp, 0o755);
      await fs.rename(tmp, snap).catch(async (err: NodeJS.ErrnoException) => {
        // Another process finished the same snapshot first: keep theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  /**
 * Stores a layer from a tar stream (gzip'ed or not; kept uncompressed), checks it extracts
 * safely into its snapshot, and returns it. `expectedDiffId`, when given, is verified.
   */
  async importLayer(source: ChunkSource, expectedDiffId?: Digest): Promise<LayerInfo> {
    await this.init();
    await this.beforeWrite();
    const blob = await this.blobs.writeStream(decompressed(source, this.options.limits?.maxBytes), expectedDiffId);
    return this.finishLayer(blob.digest, blob.size);
  }

  private async finishLayer(digest: Digest, size: number): Promise<LayerInfo> {
    try {
      await this.layerPath(digest);
    } catch (err) {
      // A layer that cannot be extracted safely is not kept, unless an image already uses it.
      const used = await this.referencedBlobs(await this.readIndex());
      if (!used.has(digest)) await this.blobs.remove(digest);
      throw err;
    }
    return { diffId: digest, digest, size, mediaType: LAYER_TYPE };
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
