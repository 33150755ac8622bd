// The build cache as an OCI image layout on disk (`type=local,dest=DIR` / `src=DIR`): the
// same entries as in a registry (cache-format.ts), index.json naming each entry's manifest by
// its key (org.opencontainers.image.ref.name). Layers are kept as plain tars (digest = diff_id):
// nothing to compress on the way out, nothing to decompress on the way in. Writers take a lock
// beside index.json and replace it atomically; blobs are written to a temp name and renamed.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { newSha256, sha256Digest } from '../hash/index.js';
import { assertDigest, atomicWriteJson, digestHex, tempName, withLock, type Store } from '../store/index.js';
import { CACHE_CONFIG_TYPE, entryManifest, isKeyTag, parseEntryManifest, parseStepConfig, type Descriptor, type FoundEntry, type StepConfig } from './cache-format.js';
import type { EntryToWrite, StepCacheStore } from './cache-store.js';
import { OCI_INDEX, OCI_LAYER, OCI_MANIFEST } from './media-types.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const MAX_SMALL = 64 * 1024 * 1024;

interface Index { schemaVersion: 2; mediaType?: string; manifests: Descriptor[] }

export class LayoutCache implements StepCacheStore {
  readonly name: string;
  constructor(readonly dir: string) {
    this.name = dir;
  }

  private async index(): Promise<Index> {
    let text: string;
    try {
      text = await fs.readFile(path.join(this.dir, 'index.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
      throw err;
    }
    try {
      const j = JSON.parse(text) as Index;
      if (!Array.isArray(j.manifests)) throw new Error('no manifests');
      return j;
    } catch {
      throw new StrataError(`${path.join(this.dir, 'index.json')} is not an OCI image index`);
    }
  }

  /** A blob's path, after checking that nothing on the way is a symlink (the layout may come from elsewhere). */
  private async blobPath(digest: string): Promise<string> {
    const hex = digestHex(assertDigest(digest));
    let p = this.dir;
    for (const part of ['blobs', 'sha256', hex]) {
      p = path.join(p, part);
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st) throw new StrataError(`blob ${digest} is missing from the cache in ${this.dir}`);
      if (st.isSymbolicLink() || (part === hex ? !st.isFile() : !st.isDirectory())) throw new StrataError(`${p} in the cache in ${this.dir} is not a plain ${part === hex ? 'file' : 'directory'}`);
    }
    return p;
  }

  private async readSmall(digest: string): Promise<Buffer> {
    const file = await this.blobPath(digest);
    if ((await fs.stat(file)).size > MAX_SMALL) throw new StrataError(`blob ${digest} in ${this.dir} is too large for a manifest or config`);
    const bytes = await fs.readFile(file);
    if (sha256Digest(bytes) !== digest) throw new StrataError(`blob ${digest} in ${this.dir} does not match its digest`);
    return bytes;
  }

  async present(keys: readonly string[]): Promise<Set<string>> {
    const tags = new Set((await this.index()).manifests.map((d) => d.annotations?.[REF_NAME]));
    return new Set(keys.filter((k) => tags.has(k)));
  }

  async entry(tag: string): Promise<FoundEntry | undefined> {
    const d = (await this.index()).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!d) return undefined;
    return parseEntryManifest(await this.readSmall(d.digest), d.digest, this.name);
  }

  async config(e: FoundEntry): Promise<StepConfig> {
    return parseStepConfig(await this.readSmall(e.config.digest), this.name);
  }

  async fetchLayer(store: Store, e: FoundEntry): Promise<void> {
    if (!e.layer) return;
    await store.importLayer(createReadStream(await this.blobPath(e.layer.digest)), assertDigest(e.layer.diffId), { sizeHint: () => e.layer!.tarSize });
  }

  /** Writes a blob unless present: to a temp name, hashed as written, renamed when it matched. */
  private async putBlob(digest: string, write: (file: string) => Promise<string>): Promise<void> {
    const dir = path.join(this.dir, 'blobs', 'sha256');
    const file = path.join(dir, digestHex(assertDigest(digest)));
    // Present: touched, so that a prune running meanwhile keeps it (it spares recent blobs).
    const now = new Date();
    if (await fs.utimes(file, now, now).then(() => true, () => false)) return;
    await fs.mkdir(dir, { recursive: true });
    const tmp = tempName(dir);
    try {
      const got = await write(tmp);
      if (got !== digest) throw new StrataError(`writing blob ${digest} to ${this.dir}: content hashed to ${got}`);
      await fs.rename(tmp, file);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  private putBytes(bytes: Buffer): Promise<void> {
    const digest = sha256Digest(bytes);
    return this.putBlob(digest, async (tmp) => {
      await fs.writeFile(tmp, bytes, { flag: 'wx' });
      return digest;
    });
  }

  async write(w: EntryToWrite): Promise<'written' | 'present'> {
    if ((await this.present([w.entry.key])).size) return 'present';
    let layer;
    if (w.layer) {
      const l = w.layer;
      await l.ensureLocal();
      await this.putBlob(l.diffId, async (tmp) => {
        const fh = await fs.open(tmp, 'wx', 0o644);
        const hash = newSha256();
        try {
          for await (const c of w.store.layerTarStream(assertDigest(l.diffId))) {
            hash.update(c);
            await fh.write(c);
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
        return `sha256:${hash.digest('hex')}`;
      });
      layer = { diffId: l.diffId, digest: l.diffId, size: l.tarSize, mediaType: OCI_LAYER, tarSize: l.tarSize };
    }
    const configBytes = Buffer.from(JSON.stringify(w.config));
    await this.putBytes(configBytes);
    const manifest = entryManifest({ ...w.entry, layer }, { mediaType: CACHE_CONFIG_TYPE, digest: sha256Digest(configBytes), size: configBytes.length });
    await this.putBytes(manifest);
    const desc = { mediaType: OCI_MANIFEST, digest: sha256Digest(manifest), size: manifest.length };
    return this.updateIndex(async (idx) => {
      const named = (tag: string) => idx.manifests.findIndex((m) => m.annotations?.[REF_NAME] === tag);
      if (named(w.entry.key) >= 0) return 'present';
      for (const tag of [w.entry.key, ...w.pointers]) {
        const at = named(tag);
        if (at >= 0) idx.manifests.splice(at, 1);
        idx.manifests.push({ ...desc, annotations: { [REF_NAME]: tag } });
      }
      return 'written';
    });
  }

  private async updateIndex<T>(fn: (idx: Index) => Promise<T>): Promise<T> {
    await fs.mkdir(this.dir, { recursive: true });
    return withLock(path.join(this.dir, 'index.json.lock'), async () => {
      const idx = await this.index();
      const result = await fn(idx);
      await fs.writeFile(path.join(this.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');
      await atomicWriteJson(path.join(this.dir, 'index.json'), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: idx.manifests });
      return result;
    });
  }

  async list(): Promise<FoundEntry[]> {
    const out: FoundEntry[] = [];
    for (const d of (await this.index()).manifests) {
      const tag = d.annotations?.[REF_NAME];
      if (!tag || !isKeyTag(tag)) continue;
      const e = parseEntryManifest(await this.readSmall(d.digest), d.digest, this.name);
      if (e.key === tag) out.push(e);
    }
    return out;
  }

  /** Drops the entry's names from index.json, then the blobs no remaining manifest refers to. */
  async remove(e: FoundEntry): Promise<void> {
    await this.updateIndex(async (idx) => {
      idx.manifests = idx.manifests.filter((m) => m.digest !== e.manifestDigest);
      const keep = new Set<string>();
      for (const m of idx.manifests) {
        keep.add(m.digest);
        const f = parseEntryManifest(await this.readSmall(m.digest), m.digest, this.name);
        keep.add(f.config.digest);
        if (f.layer) keep.add(f.layer.digest);
      }
      const dir = path.join(this.dir, 'blobs', 'sha256');
      // A blob written in the last hour may belong to an entry a writer is about to name.
      const recent = Date.now() - 3600_000;
      for (const name of await fs.readdir(dir).catch(() => [])) {
        if (!/^[a-f0-9]{64}$/.test(name) || keep.has(`sha256:${name}`)) continue;
        const st = await fs.lstat(path.join(dir, name)).catch(() => undefined);
        if (st?.isFile() && st.mtimeMs < recent) await fs.rm(path.join(dir, name), { force: true });
      }
    });
  }
}
