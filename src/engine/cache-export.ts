// `--cache-to`: after the image is written, each step's entry goes to the cache it names —
// mode=min the steps of the final image (its stage and the stages it is FROM), mode=max every
// step of every stage built. An entry whose key the cache has is left as it is; a layer is
// mounted where it already is in that registry (another cache, the image's repository), and
// one that never came to this machine (found elsewhere, not needed here) is not downloaded
// for it unless it must be.
import type { PreparedStage } from '../builder/index.js';
import { StrataError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { StepCacheStore } from '../registry/index.js';
import { portableSlot } from './cache-ahead.js';
import { entryPointers, type SharedBuildCache, type StepSlot } from './shared-cache.js';

type Step = PreparedStage['steps'][number];

export interface ExportTarget {
  cache: StepCacheStore;
  mode: 'min' | 'max';
}

export interface ExportResult {
  cache: string;
  written: number;
  present: number;
}

/** Steps' slots, the local one and the one any machine computes for the same Dockerfile step. */
export function stepSlots(stages: readonly PreparedStage[], dockerfileName: string): Map<string, StepSlot> {
  const out = new Map<string, StepSlot>();
  for (const ps of stages) {
    for (const s of ps.steps) {
      const portable = portableSlot(dockerfileName, ps.label, s.position);
      out.set(s.key, { slot: s.slot, portable });
    }
  }
  return out;
}

/** mode=min: the target stage (the last one prepared) and the stages it is built FROM. */
export function exportedSteps(stages: readonly PreparedStage[], mode: 'min' | 'max'): { ps: PreparedStage; step: Step }[] {
  let chosen: PreparedStage[] = [...stages];
  if (mode === 'min') {
    chosen = [];
    const byIndex = new Map(stages.map((s) => [s.stage.index, s]));
    for (let ps: PreparedStage | undefined = stages[stages.length - 1]; ps; ps = ps.baseStage === undefined ? undefined : byIndex.get(ps.baseStage)) chosen.unshift(ps);
  }
  return chosen.flatMap((ps) => ps.steps.map((step) => ({ ps, step })));
}

export async function exportCache(o: {
  targets: readonly ExportTarget[];
  stages: readonly PreparedStage[];
  shared: SharedBuildCache;
  store: Store;
  slots: Map<string, StepSlot>;
}): Promise<ExportResult[]> {
  const results: ExportResult[] = [];
  for (const t of o.targets) {
    const r: ExportResult = { cache: t.cache.name, written: 0, present: 0 };
    try {
      await eachLimited(exportedSteps(o.stages, t.mode), 4, async ({ ps, step }) => {
        const done = await exportStep(o, t.cache, ps, step);
        if (done) r[done]++;
      });
      await t.cache.exported?.();
    } catch (err) {
      const e = err as Error & { exitCode?: number };
      throw new StrataError(`exporting cache to ${t.cache.name}: ${e.message}`, e.exitCode ?? 125, { cause: err });
    }
    results.push(r);
  }
  return results;
}

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function exportStep(o: Parameters<typeof exportCache>[0], cache: StepCacheStore, ps: PreparedStage, step: Step): Promise<'written' | 'present' | undefined> {
  const local = (await o.shared.local.lookup([step.key])).get(step.key);
  const remote = o.shared.foundElsewhere(step.key);
  const created = local?.created ?? remote?.entry.created;
  if (!created) return undefined; // not built (a failed or cancelled build exports nothing of it)
  const diffId = local ? local.layer : remote!.entry.layer?.diffId;
  const here = diffId ? await o.store.hasLayer(diffId as never) : false;
  let layer;
  if (diffId) {
    const tarSize = here ? await o.store.layerSize(diffId as never) : remote?.entry.layer?.tarSize ?? 0;
    const blob = local?.layerDigest && local.layerDigest !== diffId ? { digest: local.layerDigest, size: local.size, mediaType: local.layerMediaType ?? '' } : undefined;
    layer = { diffId, tarSize, blob, from: here ? undefined : remote, ensureLocal: () => o.shared.ensureLayer(diffId) };
  }
  const slot = o.slots.get(step.key);
  const entry = { key: step.key, parent: step.inputs.parent, stage: ps.label, step: step.display, created };
  return cache.write({
    store: o.store, entry, layer,
    config: { ...entry, config: { created_by: step.createdBy }, inputs: step.inputs },
    pointers: entryPointers(step.inputs, slot?.portable),
  });
}
