// The local build cache: which cache key produced which layer, when, and how often it was
// reused. One JSON index (replaced atomically under a lock, so concurrent builds never lose
// each other's entries) plus one immutable inputs file per key (the canonical data the key
// hashes), which is what explains a later miss. Per slot (the same step across builds) the
// index also keeps the keys the latest builds used, newest first: a miss is compared with
// what the previous build of the step used, not with whatever entry was created last.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BuildCache, CacheEntry, CachePrunePolicy, CachePruneResult, CacheQuery, KeyInputs, MissExplanation, NewCacheEntry } from './build-cache.js';
import { explainMiss } from './cache-explain.js';
import { selectPrunable } from './cache-prune.js';
import { atomicWrite, atomicWriteJson, readJsonFile } from './fsutil.js';
import { withLock } from './lock.js';
import { failpoint } from '../failpoint.js';
import { compareBytes } from '../sort-order.js';

export type { CacheEntry } from './build-cache.js';

interface IndexFile {
  version: 1;
  entries: Record<string, CacheEntry>;
  /** slot -> keys its latest builds used, newest first (absent in indexes of older versions). */
  slots?: Record<string, string[]>;
}

interface IndexData {
  entries: Record<string, CacheEntry>;
  slots: Record<string, string[]>;
}

const HEX = /^[0-9a-f]{64}$/;
/** Keys remembered per slot: enough to find one on the same parent after a few changes and undos. */
const SLOT_HISTORY = 8;

/** Layers the build cache refers to: image GC keeps them until `strata cache prune` drops the entries. */
export async function cachedLayers(stateRoot: string): Promise<string[]> {
  return (await new CacheIndex(stateRoot).list()).map((e) => e.layer).filter((l): l is string => !!l);
}

export class CacheIndex implements BuildCache {
  readonly name = 'local';
  readonly dir: string;
  private snapshot: IndexData | undefined;
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

  private async read(): Promise<IndexData> {
    try {
      const file = await readJsonFile<IndexFile>(this.indexFile);
      return { entries: file.entries, slots: file.slots ?? {} };
    } catch (err) {
      // Missing, or (after a power loss without fsync) damaged: the cache starts over.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return { entries: {}, slots: {} };
      throw err;
    }
  }

  /** The index as this process last read or wrote it (read once per process; writes refresh it). */
  private async data(): Promise<IndexData> {
    this.snapshot ??= await this.read();
    return this.snapshot;
  }

  async list(): Promise<CacheEntry[]> {
    return Object.values((await this.data()).entries);
  }

  /** The same as list() (the name older callers use). */
  entries(): Promise<CacheEntry[]> {
    return this.list();
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return (await this.data()).entries[key];
  }

  async lookup(keys: readonly string[]): Promise<Map<string, CacheEntry>> {
    const { entries } = await this.data();
    const found = new Map<string, CacheEntry>();
    for (const k of keys) if (entries[k]) found.set(k, entries[k]);
    return found;
  }

  async inputs(key: string): Promise<KeyInputs | undefined> {
    try {
      return await readJsonFile<KeyInputs>(this.inputsFile(key));
    } catch {
      return undefined;
    }
  }

  async explain(query: CacheQuery): Promise<MissExplanation> {
    const entry = await this.previous(query);
    const inputs = entry && (await this.inputs(entry.key));
    const previous = entry && inputs ? { entry, inputs } : undefined;
    return { reason: explainMiss(query.inputs, inputs, { step: entry?.step, base: query.base }), previous };
  }

  /**
   * The entry to compare a miss with: of those the slot's latest builds used, the newest on the
   * same parent key; else an entry of the same kind on that parent from elsewhere (the step
   * moved, or its stage was renamed); else the one the last build of the slot used.
   */
  private async previous(q: CacheQuery): Promise<CacheEntry | undefined> {
    const { entries, slots } = await this.data();
    const used = (slots[q.slot] ?? []).filter((k) => k !== q.key && entries[k]).map((k) => entries[k]);
    // Entries recorded before slots kept a history: the slot's, most recently used first.
    const older = Object.values(entries).filter((e) => e.slot === q.slot && e.key !== q.key && !used.includes(e)).sort(byLastUse);
    const parent = q.inputs.parent;
    for (const e of [...used, ...older]) if ((e.parent ?? (await this.inputs(e.key))?.parent) === parent) return e;
    const kind = q.step.split(' ', 1)[0];
    const sibling = Object.values(entries).filter((e) => e.parent === parent && e.key !== q.key && e.step.split(' ', 1)[0] === kind)
      .sort((a, b) => Number(b.step === q.step) - Number(a.step === q.step) || byLastUse(a, b))[0];
    return sibling ?? used[0] ?? older[0];
  }

  /**
   * Read-modify-write under the lock. `durable: false` (hit counters) skips the fsyncs: the
   * rename is still atomic for any crash of the process, and a warm build stays cheap.
   */
  private async update(fn: (data: IndexData) => void, durable = true): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await withLock(path.join(this.dir, 'index.lock'), async () => {
      const data = await this.read();
      fn(data);
      const file: IndexFile = { version: 1, entries: data.entries, slots: data.slots };
      await atomicWrite(this.indexFile, JSON.stringify(file), { durable, failpoint: 'cache.index-written' });
      this.snapshot = data;
    });
  }

  /**
   * Starts writing a key's inputs file (durably) ahead of record(), e.g. while the step's layer
   * is packed: the two fsync'ed writes overlap, and record() still adds the index entry only
   * once both the layer and this file are in place. A file written for a step that then fails
   * is referenced by nothing (and rewritten identically if the key is built again).
   */
  recordInputs(key: string, inputs: KeyInputs): Promise<void> {
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
  async record(entry: NewCacheEntry, inputs: KeyInputs): Promise<CacheEntry> {
    try {
      await this.recordInputs(entry.key, inputs);
    } finally {
      this.inputsWrites.delete(entry.key);
    }
    const full: CacheEntry = { ...entry, parent: entry.parent ?? inputs.parent, hits: 0, lastUsed: entry.created };
    await this.update((data) => {
      data.entries[entry.key] = full;
      useInSlot(data, entry.slot, entry.key);
    });
    return full;
  }

  async used(steps: readonly { key: string; slot: string }[], now = new Date()): Promise<void> {
    if (steps.length === 0) return;
    await this.update((data) => {
      for (const { key, slot } of steps) {
        const e = data.entries[key];
        if (!e) continue;
        e.hits++;
        e.lastUsed = now.toISOString();
        useInSlot(data, slot, key);
      }
    }, false);
  }

  /** Removes entries (and their inputs files); returns the removed entries. */
  async remove(keys: string[]): Promise<CacheEntry[]> {
    const removed: CacheEntry[] = [];
    const doomed = new Set(keys);
    await this.update((data) => {
      for (const k of keys) {
        if (data.entries[k]) removed.push(data.entries[k]);
        delete data.entries[k];
      }
      for (const [slot, used] of Object.entries(data.slots)) {
        const left = used.filter((k) => !doomed.has(k));
        if (left.length) data.slots[slot] = left;
        else delete data.slots[slot];
      }
    });
    await Promise.all(removed.map((e) => fs.rm(this.inputsFile(e.key), { force: true })));
    return removed;
  }

  /** Drops the selected entries; their layers stay blobs of the store until its GC finds them unused. */
  async prune(policy: CachePrunePolicy): Promise<CachePruneResult> {
    const { entries } = await this.read();
    const removed = await this.remove(selectPrunable(Object.values(entries), policy).map((e) => e.key));
    return { removed, reclaimed: 0 };
  }
}

function useInSlot(data: IndexData, slot: string, key: string): void {
  data.slots[slot] = [key, ...(data.slots[slot] ?? []).filter((k) => k !== key)].slice(0, SLOT_HISTORY);
}

function byLastUse(a: CacheEntry, b: CacheEntry): number {
  return compareBytes(b.lastUsed, a.lastUsed) || compareBytes(b.created, a.created);
}
