// `load`: a docker-archive (manifest.json) or an OCI layout in a tar (index.json), as
// `docker save` / `podman save` write them, gzip'ed as a whole or per layer. The archive is
// read once, front to back: small files (JSON) stay in memory, the rest is spooled into the
// store's tmp/; then each image's layers are imported (verified against the config's
// diff_ids, stored uncompressed) and the config's exact bytes kept, so the image ID survives.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError, writing } from '../../errors.js';
import { failpoint } from '../../failpoint.js';
import { assertDigest, isDigest } from '../digest.js';
import { tempName } from '../fsutil.js';
import { CONTAINERD_NAME, REF_NAME } from '../index-file.js';
import { Lease } from '../leases.js';
import { imageArchitecture } from '../busybox.js';
import { safeComponents } from '../copier/names.js';
import { normalizeTag } from '../refs.js';
import { decompressed, type Store } from '../store.js';
import { sniff } from '../decompress.js';
import { readTar, type ChunkSource, type TarLimits } from '../tar/reader.js';
import type { Descriptor, Digest, ImageConfig, LayerInfo, Manifest } from '../types.js';

const IN_MEMORY = 4 * 1024 * 1024;

export interface LoadedImage {
  id: Digest;
  names: string[];
}

export interface LoadResult {
  images: LoadedImage[];
  warnings: string[];
}

/** The archive's files: small ones in memory, large ones spooled to temp files. */
class Spool {
  private mem = new Map<string, Buffer>();
  private files = new Map<string, string>();
  private links = new Map<string, string>();
  /** Large files that are layer tars, imported straight into the store as they were read. */
  private layers = new Map<string, LayerInfo>();
  constructor(
    private readonly store: Store,
    /** Holds every layer imported until the images naming them are in the index. */
    readonly lease: Lease,
    private readonly inMemoryMax = IN_MEMORY,
  ) {}

  async add(name: string, body: AsyncGenerator<Buffer>, size: number): Promise<void> {
    if (size <= this.inMemoryMax) {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(Buffer.from(c));
      this.mem.set(name, Buffer.concat(parts));
      return;
    }
    // Which file is a layer is known only from manifest.json, often at the end of the archive;
    // a big file that is a tar (or compressed) is imported right away instead of spooled.
    const head: Buffer[] = [];
    let headLen = 0;
    while (headLen < 512) {
      const r = await body.next();
      if (r.done) break;
      head.push(r.value);
      headLen += r.value.length;
    }
    const first = Buffer.concat(head);
    const rest = (async function* () {
      yield first;
      yield* body;
    })();
    if (sniff(first) || first.subarray(257, 262).toString('latin1') === 'ustar') {
      const layer = await writing(`layer "${name}"`, () => this.store.importLayer(rest));
      await this.lease.add([layer.diffId]); // just written or touched: young until the lease holds it
      this.layers.set(name, layer);
      failpoint('load.layer-imported');
      return;
    }
    const file = tempName(this.store.tmpDir, '.spool');
    this.files.set(name, file);
    const fh = await fs.open(file, 'wx', 0o600);
    try {
      await writing(`"${name}"`, async () => {
        for await (const c of rest) await fh.write(c);
      });
    } finally {
      await fh.close();
    }
  }

  layer(name: string): LayerInfo | undefined {
    return this.layers.get(this.resolve(name));
  }

  link(name: string, target: string): void {
    this.links.set(name, target);
  }

  private resolve(name: string): string {
    for (let i = 0; i < 16 && this.links.has(name); i++) name = this.links.get(name)!;
    return name;
  }

  has(name: string): boolean {
    const n = this.resolve(name);
    return this.mem.has(n) || this.files.has(n) || this.layers.has(n);
  }

  async bytes(name: string): Promise<Buffer> {
    const n = this.resolve(name);
    const m = this.mem.get(n);
    if (m) return m;
    const f = this.files.get(n);
    if (!f) throw new StrataError(`archive is missing "${name}"`);
    const st = await fs.stat(f);
    if (st.size > 64 * 1024 * 1024) throw new StrataError(`"${name}" is too large for a JSON document`);
    return fs.readFile(f);
  }

  open(name: string): ChunkSource {
    const n = this.resolve(name);
    const m = this.mem.get(n);
    if (m) return [m];
    const f = this.files.get(n);
    if (!f) throw new StrataError(`archive is missing "${name}"`);
    return createReadStream(f);
  }

  async cleanup(): Promise<void> {
    for (const f of this.files.values()) await fs.rm(f, { force: true });
  }
}

async function readArchive(store: Store, source: ChunkSource, limits: TarLimits | undefined, spool: Spool): Promise<void> {
  for await (const e of readTar(decompressed(source, limits?.maxBytes), limits)) {
    const parts = safeComponents(e.path, { allowAbsolute: false });
    const name = parts.join('/');
    if (e.type === 'file') await spool.add(name, e.body(), e.size);
    else if (e.type === 'symlink' || e.type === 'link') {
      // Old docker archives link a repeated layer to its first copy: resolve inside the archive.
      const base = e.type === 'symlink' ? parts.slice(0, -1) : [];
      const target = path.posix.normalize([...base, e.linkpath].join('/'));
      if (target.startsWith('../') || target.startsWith('/')) throw new StrataError(`refusing archive entry "${e.path}": link points outside the archive`);
      spool.link(name, target);
    }
  }
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch {
    throw new StrataError(`invalid JSON in "${what}"`);
  }
}

const blobName = (digest: string) => `blobs/sha256/${assertDigest(digest).slice(7)}`;

async function importLayers(store: Store, spool: Spool, files: string[], config: ImageConfig): Promise<LayerInfo[]> {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== files.length) throw new StrataError('image config and manifest disagree on the number of layers');
  const layers: LayerInfo[] = [];
  for (let i = 0; i < files.length; i++) {
    const expected = assertDigest(diffIds[i], 'layer diff ID');
    const early = spool.layer(files[i]);
    if (early && early.diffId !== expected) throw new StrataError(`digest mismatch: expected "${expected}", got "${early.diffId}"`);
    if (early) layers.push(early);
    else {
      await spool.lease.add([expected]);
      layers.push(await writing(`layer "${files[i]}"`, () => store.importLayer(spool.open(files[i]!), expected)));
      failpoint('load.layer-imported');
    }
  }
  return layers;
}

async function loadDocker(store: Store, spool: Spool): Promise<LoadedImage[]> {
  const entries = parseJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(await spool.bytes('manifest.json'), 'manifest.json');
  const out: LoadedImage[] = [];
  for (const m of entries) {
    const configBytes = await spool.bytes(safeComponents(m.Config).join('/'));
    const config = parseJson<ImageConfig>(configBytes, m.Config);
    const layers = await importLayers(store, spool, m.Layers.map((l) => safeComponents(l).join('/')), config);
    failpoint('load.before-tag');
    const img = await writing(`image "${m.Config}"`, () => store.writeImageBytes(configBytes, layers, { tags: m.RepoTags ?? [] }));
    out.push({ id: img.id, names: img.names });
  }
  return out;
}

/** A name from an OCI index entry: a full reference; a bare tag ("latest") names nothing. */
function ociName(d: Descriptor): string | undefined {
  const n = d.annotations?.[CONTAINERD_NAME] ?? d.annotations?.[REF_NAME];
  if (!n || !/[/:]/.test(n)) return undefined;
  try {
    return normalizeTag(n);
  } catch {
    return undefined;
  }
}

async function loadOci(store: Store, spool: Spool, warnings: string[]): Promise<LoadedImage[]> {
  const index = parseJson<{ manifests?: Descriptor[] }>(await spool.bytes('index.json'), 'index.json');
  const byImage = new Map<Digest, LoadedImage>();
  for (const top of index.manifests ?? []) {
    let desc = top;
    let doc = parseJson<Manifest & { manifests?: Descriptor[] }>(await spool.bytes(blobName(desc.digest)), desc.digest);
    if (doc.manifests) {
      // An image index: take this machine's platform.
      const arch = imageArchitecture();
      const pick = doc.manifests.find((m) => m.platform?.architecture === arch && m.platform?.os === 'linux') ?? doc.manifests[0];
      if (!pick) continue;
      desc = pick;
      doc = parseJson(await spool.bytes(blobName(desc.digest)), desc.digest);
    }
    if (!isDigest(doc.config?.digest)) throw new StrataError(`manifest "${desc.digest}" has no valid config`);
    const configBytes = await spool.bytes(blobName(doc.config.digest));
    const config = parseJson<ImageConfig>(configBytes, doc.config.digest);
    const layers = await importLayers(store, spool, doc.layers.map((l) => blobName(l.digest)), config);
    const name = ociName(top);
    if (!name && top.annotations?.[REF_NAME]) warnings.push(`ignoring ref name "${top.annotations[REF_NAME]}": not a full image reference`);
    failpoint('load.before-tag');
    const img = await writing(`image "${doc.config.digest}"`, () => store.writeImageBytes(configBytes, layers, { tags: name ? [name] : [] }));
    const seen = byImage.get(img.id) ?? { id: img.id, names: [] };
    if (name) seen.names.push(name);
    byImage.set(img.id, seen);
  }
  return [...byImage.values()];
}

export interface LoadOptions {
  limits?: TarLimits;
  /** Files up to this size are kept in memory (default 4 MiB); larger ones are spooled or imported. */
  inMemoryMax?: number;
}

export async function loadArchive(store: Store, source: ChunkSource, options: LoadOptions = {}): Promise<LoadResult> {
  const limits = options.limits;
  await store.init();
  // A lease (leases.ts): a collection during the load (`image prune -a`, `cache prune -a`) keeps
  // the layers imported so far however long the load takes, until the index names them.
  const lease = Lease.create(store.root, 'load');
  const spool = new Spool(store, lease, options.inMemoryMax);
  const warnings: string[] = [];
  try {
    await readArchive(store, source, limits ?? store.options.limits, spool);
    if (spool.has('manifest.json')) return { images: await loadDocker(store, spool), warnings };
    if (spool.has('index.json')) return { images: await loadOci(store, spool, warnings), warnings };
    throw new StrataError('archive is neither a docker-archive nor an OCI layout: no manifest.json or index.json');
  } finally {
    await spool.cleanup();
    await lease.release();
  }
}
