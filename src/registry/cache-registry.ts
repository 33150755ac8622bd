// The build cache in a registry repository: one small manifest per step, tagged by its cache
// key (cache-format.ts). Lookups are HEAD requests, all at once; a layer is mounted from the
// repository that holds it (another cache, the image's repository) before it is ever uploaded,
// and downloaded only when asked. An entry is written only where its key has none, so entries
// never replace each other; prune deletes manifests by digest.
//
// A ref with a tag (BuildKit's `ref=REG/REPO:TAG`) is the same repository's entries seen through
// the OCI index at TAG: an export writes its entries as above, then points TAG at an index of
// the entries it wrote or found (cache-format.ts cacheIndex); an import sees only the entries
// that index names (one GET instead of a HEAD per key). Entries stay tagged by key, so tags of
// one repository share them: an entry another tag's export wrote is found, not written again.
import { StrataError } from '../errors.js';
import { sha256Digest } from '../hash/index.js';
import { formatReference, type Store } from '../store/index.js';
import { BlobInfoCache } from './blob-info.js';
import { CACHE_CONFIG_TYPE, cacheIndex, entryManifest, isKeyTag, parseCacheIndex, parseEntryManifest, parseStepConfig, type FoundEntry, type IndexedEntry, type StepConfig, type StepEntry } from './cache-format.js';
import { eachLimited, type EntryToWrite, type LayerAhead, type StepCacheStore } from './cache-store.js';
import { Repository } from './client.js';
import { pushTransport, qualify, type RegistryOptions } from './endpoints.js';
import { RegistryError } from './errors.js';
import { receiveAhead } from './layer-ahead.js';
import { fetchLayer, type LayerToFetch } from './layer-fetch.js';
import { OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, layerCompression } from './media-types.js';
import { pushLayer, pushStoredBlob } from './push-blob.js';
import { header } from './transport.js';

/** Requests in flight at once (HEADs of a lookup, tag reads of a prune). */
const PARALLEL = 16;
const maxBytesOf = (store: Store) => store.options.limits?.maxBytes ?? 64 * 1024 ** 3;
/** A config blob is a few KiB (inputs of a COPY of many files: more); more than this is not ours. */
const CONFIG_MAX = 64 * 1024 * 1024;
/** Pointer tags (cache-format.ts pointerTag): a ref's own tag must not be one. */
const RESERVED_TAG = /^[a-z]-[a-f0-9]{64}$/;

export class RegistryCache implements StepCacheStore {
  readonly name: string;
  private readonly repo: Repository;
  private readonly domain: string;
  /** The ref's tag or digest: its index names the entries this cache holds. None: every entry of the repository. */
  private readonly at?: string;
  private index?: Promise<Map<string, IndexedEntry>>;
  /** The entries this cache's writes wrote or found, for the tag's index. */
  private readonly exportedEntries = new Map<string, IndexedEntry>();

  /** `ref`: REGISTRY/REPOSITORY (the tags are the keys), or REGISTRY/REPOSITORY:TAG (an index of entries at TAG). */
  constructor(ref: string, o: RegistryOptions = {}) {
    let parsed;
    try {
      parsed = qualify(ref, o, { defaultTag: false });
    } catch (err) {
      throw new StrataError(`invalid cache ref "${ref}": ${(err as Error).message}`);
    }
    if (parsed.tag && (isKeyTag(parsed.tag) || RESERVED_TAG.test(parsed.tag))) throw new StrataError(`invalid cache ref "${ref}": tag "${parsed.tag}" has the form of the cache's own tags`);
    this.domain = parsed.domain;
    this.at = parsed.digest ?? parsed.tag;
    this.name = formatReference(parsed);
    this.repo = new Repository(pushTransport(parsed, o), parsed.path, true);
  }

  /** The repository inside the registry ("team/app-cache"), for mounts from it. */
  get path(): string {
    return this.repo.name;
  }

  get registry(): string {
    return this.domain;
  }

  async present(keys: readonly string[]): Promise<Set<string>> {
    if (this.at) {
      const listed = await this.listed();
      return new Set(keys.filter((k) => listed.has(k)));
    }
    const found = new Set<string>();
    await eachLimited(keys, PARALLEL, async (k) => {
      if (await this.repo.manifestDigest(k)) found.add(k);
    });
    return found;
  }

  /** The entries the ref's tag (or digest) names, read once; its absence fails every lookup (the build warns and goes on). */
  private listed(): Promise<Map<string, IndexedEntry>> {
    this.index ??= (async () => {
      try {
        const m = await this.repo.manifest(this.at!);
        return parseCacheIndex(m.bytes, m.mediaType);
      } catch (err) {
        if (err instanceof RegistryError && err.notFound) throw new StrataError('not found', 125, { cause: err });
        throw err;
      }
    })();
    return this.index;
  }

  async entry(tag: string): Promise<FoundEntry | undefined> {
    if (!this.at) return this.entryAt(tag);
    const listed = await this.listed();
    if (isKeyTag(tag)) {
      // The very manifest the index names (by digest: what the export saw).
      const d = listed.get(tag);
      const e = d && (await this.entryAt(d.digest));
      return e?.key === tag ? e : undefined;
    }
    // A pointer, only to an entry the index names.
    const e = await this.entryAt(tag);
    return e && listed.has(e.key) ? e : undefined;
  }

  private async entryAt(reference: string): Promise<FoundEntry | undefined> {
    try {
      const m = await this.repo.manifest(reference);
      if (m.mediaType !== OCI_MANIFEST) return undefined;
      return parseEntryManifest(m.bytes, m.digest, this.name);
    } catch (err) {
      if (err instanceof RegistryError && err.notFound) return undefined;
      throw err;
    }
  }

  async config(e: FoundEntry): Promise<StepConfig> {
    if (e.config.size > CONFIG_MAX) throw new StrataError(`a cache entry's config in ${this.name} is larger than ${CONFIG_MAX} bytes`);
    const { body } = await this.repo.blob(e.config.digest);
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > e.config.size) {
        body.destroy();
        break;
      }
      parts.push(c);
    }
    const bytes = Buffer.concat(parts);
    if (sha256Digest(bytes) !== e.config.digest) throw new StrataError(`a cache entry's config in ${this.name} does not match its digest ${e.config.digest}`);
    return parseStepConfig(bytes, this.name);
  }

  async fetchLayer(store: Store, e: FoundEntry): Promise<void> {
    const l = this.layerToFetch(e);
    if (!l) return;
    const quiet = { progress: () => undefined, phase: () => undefined };
    await fetchLayer(store, this.repo, l, quiet, maxBytesOf(store));
    await this.noteLocation(store, l.digest);
  }

  fetchAhead(store: Store, e: FoundEntry): LayerAhead | undefined {
    const l = this.layerToFetch(e);
    if (!l || l.compression === 'none') return undefined;
    return receiveAhead(store, this.repo, l, maxBytesOf(store), () => this.noteLocation(store, l.digest));
  }

  private layerToFetch(e: FoundEntry): LayerToFetch | undefined {
    const l = e.layer;
    return l && { digest: l.digest, size: l.size, diffId: l.diffId, compression: layerCompression(l.mediaType) ?? 'none', mediaType: l.mediaType };
  }

  /** A later push of the blob elsewhere in this registry mounts it from here. */
  private async noteLocation(store: Store, digest: string): Promise<void> {
    const info = new BlobInfoCache(store);
    await info.addLocation(digest, this.domain, this.repo.name);
    await info.save();
  }

  async write(w: EntryToWrite): Promise<'written' | 'present'> {
    const key = w.entry.key;
    if (await this.foundAt(key)) return 'present';
    const info = new BlobInfoCache(w.store);
    try {
      const ctx = { store: w.store, repo: this.repo, registry: this.domain, info, status: () => undefined };
      let layer: StepEntry['layer'];
      if (w.layer) {
        const l = w.layer;
        const from = l.from;
        // A layer in another cache of this registry is mounted, never downloaded and sent back.
        if (from?.cache instanceof RegistryCache && from.cache.domain === this.domain && from.entry.layer && (await this.mountFrom(from.entry.layer.digest, from.cache.path))) {
          layer = { ...from.entry.layer };
        } else if (l.blob && (await w.store.blobs.has(l.blob.digest))) {
          await pushStoredBlob(ctx, l.blob.digest);
          layer = { diffId: l.diffId, digest: l.blob.digest, size: l.blob.size, mediaType: l.blob.mediaType, tarSize: l.tarSize };
        } else {
          await l.ensureLocal();
          // Mounted from the image's repository when a push put it there, else gzip'ed and sent.
          const blob = await pushLayer(ctx, l.diffId, l.tarSize);
          layer = { diffId: l.diffId, digest: blob.digest, size: blob.size, mediaType: OCI_LAYER_GZIP, tarSize: l.tarSize };
        }
      }
      const configBytes = Buffer.from(JSON.stringify(w.config));
      const configDigest = sha256Digest(configBytes);
      if ((await this.repo.blobSize(configDigest)) === undefined) await this.repo.uploadWhole(await this.repo.startUpload(), configDigest, configBytes);
      const manifest = entryManifest({ ...w.entry, layer }, { mediaType: CACHE_CONFIG_TYPE, digest: configDigest, size: configBytes.length });
      // Asked again right before the write: another builder may have written the key meanwhile.
      if (await this.foundAt(key)) return 'present';
      try {
        await this.repo.putManifest(key, manifest, OCI_MANIFEST);
      } catch (err) {
        // Another builder writing the same key at the same moment: its entry is as good.
        if (await this.foundAt(key).catch(() => false)) return 'present';
        throw err;
      }
      this.exportedEntries.set(key, { key, digest: sha256Digest(manifest), size: manifest.length });
      // Pointers are hints for miss explanations: one lost to a concurrent writer costs nothing.
      for (const p of w.pointers) await this.repo.putManifest(p, manifest, OCI_MANIFEST).catch(() => undefined);
      return 'written';
    } finally {
      await info.save();
    }
  }

  /** Does the repository have an entry for the key? If so it is one this export names in its tag's index. */
  private async foundAt(key: string): Promise<boolean> {
    const h = await this.repo.manifestHead(key);
    if (!h) return false;
    const size = h.size ?? (await this.repo.manifest(h.digest)).bytes.length;
    this.exportedEntries.set(key, { key, digest: h.digest, size });
    return true;
  }

  /** After an export's writes: a ref with a tag points it at an index of the entries written or found. */
  async exported(): Promise<void> {
    if (!this.at) return;
    if (this.at.startsWith('sha256:')) throw new StrataError(`cannot export cache to ${this.name}: a digest names fixed content; name a tag or the repository`);
    await this.repo.putManifest(this.at, cacheIndex([...this.exportedEntries.values()], new Date().toISOString()), OCI_INDEX);
  }

  private async mountFrom(digest: string, from: string): Promise<boolean> {
    if ((await this.repo.blobSize(digest)) !== undefined) return true;
    const r = await this.repo.mount(digest, from).catch(() => false);
    if (typeof r === 'string') {
      // An upload session was opened instead: not mounted (the session expires on its own).
      return false;
    }
    return r;
  }

  /** Every entry of the repository, also for a ref with a tag: tags share the entries (what a prune goes through). */
  async list(): Promise<FoundEntry[]> {
    const tags = (await this.tags()).filter(isKeyTag);
    const out: FoundEntry[] = [];
    await eachLimited(tags, PARALLEL, async (t) => {
      const e = await this.entryAt(t);
      if (e && e.key === t) out.push(e);
    });
    return out;
  }

  async remove(e: FoundEntry): Promise<void> {
    try {
      const res = await this.repo.transport.request('DELETE', `/v2/${this.repo.name}/manifests/${e.manifestDigest}`, { scopes: this.repo.scopes(), ok: (s) => s === 202 || s === 200 });
      await res.body.dump();
    } catch (err) {
      if (err instanceof RegistryError && err.notFound) return; // another prune was first
      throw err;
    }
  }

  /** Every tag of the repository (the spec's pagination: n and the Link header). */
  private async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${this.repo.name}/tags/list?n=1000`;
    while (next) {
      let res;
      try {
        res = await this.repo.transport.request('GET', next, { scopes: this.repo.scopes() });
      } catch (err) {
        if (err instanceof RegistryError && err.notFound) return out;
        throw err;
      }
      const j = JSON.parse(await res.body.text()) as { tags?: string[] | null };
      out.push(...(j.tags ?? []).filter((t) => typeof t === 'string'));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      next = link ? link[1] : undefined;
    }
    return out;
  }
}
