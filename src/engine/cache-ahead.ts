// Layers fetched ahead of the lookup. A step's key needs its COPY sources hashed (on a fresh
// machine: the whole context), but its parent key is known before: for the first step of a
// stage on an image, before any hashing. The entry an imported cache's `p-` pointer names for
// the same step of the Dockerfile on the same parent is most likely the one the key will hit,
// so its layer starts downloading (and is verified) meanwhile, beside the hashing. It reaches
// the store only when the real key turns out to be that entry's; otherwise it is stopped and
// its temp file removed.
import { createHash } from 'node:crypto';
import type { StepParent } from '../builder/index.js';
import type { FoundEntry, LayerAhead, StepCacheStore } from '../registry/index.js';
import type { Digest, Store } from '../store/index.js';
import { timing } from '../timing.js';

interface Ahead {
  cache: StepCacheStore;
  entry: FoundEntry;
  layer: LayerAhead;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The same step of the same Dockerfile on any machine (the local slot names local paths). */
export function portableSlot(dockerfileName: string, stage: string, position: number): string {
  return sha(`${dockerfileName}\0${stage}\0${position}`);
}

/** The `p-` pointer an entry moves to itself: the latest entry of this step on this parent. */
export function parentPointer(parent: string, portable: string): string {
  return `p-${sha(`${parent}\0${portable}`)}`;
}

export class CacheAhead {
  /** By the key of the entry the pointer named. */
  private readonly ahead = new Map<string, Ahead>();
  /** Pointer reads under way (a take waits for them: they are quick, the layer is not). */
  private readonly asking = new Set<Promise<void>>();
  private closed = false;
  private dropping: Promise<void> = Promise.resolve();

  constructor(private readonly sources: readonly StepCacheStore[], private readonly store: Store, private readonly dockerfileName: string) {}

  /** A step's parent is known: the layer of the entry its pointer names starts downloading. */
  stepParent(p: StepParent): void {
    if (this.closed || !this.sources.some((s) => s.fetchAhead)) return;
    const tag = parentPointer(p.parent, portableSlot(this.dockerfileName, p.stage, p.position));
    const asking: Promise<void> = this.start(tag).catch(() => undefined).finally(() => this.asking.delete(asking));
    this.asking.add(asking);
  }

  private async start(tag: string): Promise<void> {
    for (const cache of this.sources) {
      if (!cache.fetchAhead) continue;
      const entry = await cache.entry(tag);
      const l = entry?.layer;
      if (!entry || !l) continue;
      if (this.closed || this.ahead.has(entry.key) || (await this.store.hasLayer(l.diffId as Digest))) return;
      const layer = cache.fetchAhead(this.store, entry);
      if (!layer) continue;
      timing(`cache ahead: fetching ${l.diffId.slice(7, 19)} for ${entry.key.slice(0, 12)} from ${cache.name}`);
      this.ahead.set(entry.key, { cache, entry, layer });
      return;
    }
  }

  /**
   * The layer fetched ahead for `entry`, if it is the same entry (same key, same layer) found
   * in the same cache: it is then the caller's to keep (or discard).
   */
  async take(cache: StepCacheStore, entry: FoundEntry): Promise<LayerAhead | undefined> {
    await Promise.all(this.asking);
    const a = this.ahead.get(entry.key);
    if (!a || a.cache !== cache || a.entry.layer?.digest !== entry.layer?.digest || a.entry.layer?.diffId !== entry.layer?.diffId) return undefined;
    this.ahead.delete(entry.key);
    return a.layer;
  }

  /** The build's keys are known: what was fetched for other keys is dropped now (close waits for it). */
  keysKnown(keys: ReadonlySet<string>): void {
    this.dropping = Promise.all([this.dropping, Promise.all(this.asking).then(() => this.drop((key) => !keys.has(key)))]).then(() => undefined);
  }

  /** The build is over: nothing more starts, and what was not taken is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.asking);
    await this.dropping;
    await this.drop(() => true);
  }

  private async drop(which: (key: string) => boolean): Promise<void> {
    const gone = [...this.ahead].filter(([key]) => which(key));
    for (const [key] of gone) this.ahead.delete(key);
    for (const [key] of gone) timing(`cache ahead: dropped ${key.slice(0, 12)}`);
    await Promise.all(gone.map(([, a]) => a.layer.discard()));
  }
}
