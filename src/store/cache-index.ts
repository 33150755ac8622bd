// The build cache index: which cache key produced which layer, when, and how often it was
// reused. One JSON index (replaced atomically under a lock, so concurrent builds never lose
// each other's entries) plus one immutable inputs file per key (the canonical data the key
// hashes), which is what explains a later miss. The store knows nothing of Dockerfiles: inputs
// are opaque JSON here.
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteJson, readJsonFile, tempName } from './fsutil.js';
import { withLock } from './lock.js';
import { failpoint } from '../failpoint.js';

export interface CacheEntry {
  /** The cache key (sha256 hex of the canonical inputs). */
  key: string;
  /** Groups entries of "the same step" across builds (context, Dockerfile, stage, position): the latest one explains a miss. */
  slot: string;
  /** Stage name or index, for listings. */
  stage: string;
  /** The instruction, as shown in progress output. */
  step: string;
  /** The layer's diff_id; absent for steps that make no layer. */
  layer?: string;
  /** Bytes of the layer. */
  size: number;
  /** ISO time the step was built; reused as its history time so a warm build gives the same image. */
  created: string;
  lastUsed: string;
  hits: number;
}

interface IndexFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

const HEX = /^[0-9a-f]{64}$/;

/** Layers the build cache refers to: image GC keeps them until `strata cache prune` drops the entries. */
export async function cachedLayers(stateRoot: string): Promise<string[]> {
  return (await new CacheIndex(stateRoot).entries()).map((e) => e.layer).filter((l): l is string => !!l);
}

export class CacheIndex {
  readonly dir: string;
  private snapshot: Record<string, CacheEntry> | undefined;
  private readonly inputsWrites = new Map<string, Promise<void>>();

  constructor(stateRoot: string) {
    this.dir = path.join(stateRoot, 'build', 'cache');
  }

  private get indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  private inputsFile(key: string): string {
    if (!HEX.test(key)) throw new Error(`invalid cache key "${key}"`);
    return path.join(this.dir, 'inputs', `${key}.json`);
  }

  private async read(): Promise<Record<string, CacheEntry>> {
    try {
      return (await readJsonFile<IndexFile>(this.indexFile)).entries;
    } catch (err) {
      // Missing, or (after a power loss without fsync) damaged: the cache starts over.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return {};
      throw err;
    }
  }

  /** All entries (read once per process; writes refresh it). */
  async entries(): Promise<CacheEntry[]> {
    this.snapshot ??= await this.read();
    return Object.values(this.snapshot);
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    this.snapshot ??= await this.read();
    return this.snapshot[key];
  }

  /** The most recently created entry of a slot other than `exceptKey`. */
  async latestInSlot(slot: string, exceptKey?: string): Promise<CacheEntry | undefined> {
    let best: CacheEntry | undefined;
    for (const e of await this.entries()) {
      if (e.slot === slot && e.key !== exceptKey && (!best || e.created > best.created)) best = e;
    }
    return best;
  }

  async inputs<T = unknown>(key: string): Promise<T | undefined> {
    try {
      return await readJsonFile<T>(this.inputsFile(key));
    } catch {
      return undefined;
    }
  }

  /**
   * Read-modify-write under the lock. `durable: false` (hit counters) skips the fsyncs: the
   * rename is still atomic for any crash of the process, and a warm build stays cheap.
   */
  private async update(fn: (entries: Record<string, CacheEntry>) => void, durable = true): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await withLock(path.join(this.dir, 'index.lock'), async () => {
      const entries = await this.read();
      fn(entries);
      const data: IndexFile = { version: 1, entries };
      if (durable) {
        await atomicWriteJson(this.indexFile, data, 'cache.index-written');
      } else {
        const tmp = tempName(this.dir);
        try {
          await fs.writeFile(tmp, JSON.stringify(data));
          failpoint('cache.index-written');
          await fs.rename(tmp, this.indexFile);
        } catch (err) {
          await fs.rm(tmp, { force: true });
          throw err;
        }
      }
      this.snapshot = entries;
    });
  }

  /**
   * Starts writing a key's inputs file (durably) ahead of record(), e.g. while the step's layer
   * is packed: the two fsync'ed writes overlap, and record() still adds the index entry only
   * once both the layer and this file are in place. A file written for a step that then fails
   * is referenced by nothing (and rewritten identically if the key is built again).
   */
  writeInputs(key: string, inputs: unknown): Promise<void> {
    let written = this.inputsWrites.get(key);
    if (!written) {
      written = (async () => {
        await fs.mkdir(path.join(this.dir, 'inputs'), { recursive: true });
        await atomicWriteJson(this.inputsFile(key), inputs);
      })();
      written.catch(() => undefined); // awaited by record(); a failed step may never get there
      this.inputsWrites.set(key, written);
    }
    return written;
  }

  /** Records a built step: its inputs file first, then the index entry that points at it. */
  async record(entry: Omit<CacheEntry, 'hits' | 'lastUsed'>, inputs: unknown): Promise<CacheEntry> {
    try {
      await this.writeInputs(entry.key, inputs);
    } finally {
      this.inputsWrites.delete(entry.key);
    }
    const full: CacheEntry = { ...entry, hits: 0, lastUsed: entry.created };
    await this.update((entries) => {
      entries[entry.key] = full;
    });
    return full;
  }

  /** Counts a reuse of each key. */
  async touch(keys: string[], now = new Date()): Promise<void> {
    if (keys.length === 0) return;
    await this.update((entries) => {
      for (const k of keys) {
        const e = entries[k];
        if (e) {
          e.hits++;
          e.lastUsed = now.toISOString();
        }
      }
    }, false);
  }

  /** Removes entries (and their inputs files); returns the removed entries. */
  async remove(keys: string[]): Promise<CacheEntry[]> {
    const removed: CacheEntry[] = [];
    await this.update((entries) => {
      for (const k of keys) {
        if (entries[k]) removed.push(entries[k]);
        delete entries[k];
      }
    });
    await Promise.all(removed.map((e) => fs.rm(this.inputsFile(e.key), { force: true })));
    return removed;
  }
}
