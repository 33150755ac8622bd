// What this machine knows of blobs beyond the store (as containers/image's blob info cache):
// the compressed digest a layer's diff_id gave (our gzip is byte-stable, so it is the same every
// time: a second push asks HEAD and compresses nothing), and the repositories known to hold a
// blob (a push to another repository of that registry mounts it instead of uploading).
// STATE_ROOT/registry/blob-info.json, replaced atomically; losing an entry to a race costs time only.
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteJson } from '../store/index.js';
import { cacheFile, type Store } from './store-access.js';

export interface CompressedBlob {
  digest: string;
  size: number;
}

interface BlobInfo {
  /** diff_id → compression variant ("gzip:6:1048576") → blob. */
  compressed: Record<string, Record<string, CompressedBlob>>;
  /** blob digest → "registry/repository" names holding it. */
  locations: Record<string, string[]>;
}

export class BlobInfoCache {
  private data?: BlobInfo;
  private dirty = false;
  constructor(private readonly store: Store) {}

  private async load(): Promise<BlobInfo> {
    if (!this.data) {
      try {
        this.data = JSON.parse(await fs.readFile(cacheFile(this.store, 'blob-info.json'), 'utf8')) as BlobInfo;
      } catch {
        this.data = { compressed: {}, locations: {} };
      }
      this.data.compressed ??= {};
      this.data.locations ??= {};
    }
    return this.data;
  }

  async compressed(diffId: string, variant: string): Promise<CompressedBlob | undefined> {
    return (await this.load()).compressed[diffId]?.[variant];
  }

  async setCompressed(diffId: string, variant: string, blob: CompressedBlob): Promise<void> {
    const d = await this.load();
    (d.compressed[diffId] ??= {})[variant] = blob;
    this.dirty = true;
  }

  /** Repositories ("host/path") of `registry` known to hold the blob. */
  async locations(digest: string, registry: string): Promise<string[]> {
    return ((await this.load()).locations[digest] ?? []).filter((l) => l.startsWith(`${registry}/`)).map((l) => l.slice(registry.length + 1));
  }

  async addLocation(digest: string, registry: string, repository: string): Promise<void> {
    const d = await this.load();
    const name = `${registry}/${repository}`;
    const list = d.locations[digest] ?? [];
    if (list.includes(name)) return;
    d.locations[digest] = [name, ...list].slice(0, 16);
    this.dirty = true;
  }

  /** Writes what changed, merged over what other processes wrote meanwhile. */
  async save(): Promise<void> {
    if (!this.dirty || !this.data) return;
    const mine = this.data;
    this.data = undefined;
    const now = await this.load();
    for (const [k, v] of Object.entries(mine.compressed)) now.compressed[k] = { ...now.compressed[k], ...v };
    for (const [k, v] of Object.entries(mine.locations)) now.locations[k] = [...new Set([...v, ...(now.locations[k] ?? [])])].slice(0, 16);
    const file = cacheFile(this.store, 'blob-info.json');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await atomicWriteJson(file, now);
    this.dirty = false;
  }
}
