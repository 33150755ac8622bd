// The parts of `system check` (check.ts) that go through layers, blobs, the build cache and
// container records: what refers to each layer, then each layer and blob checked (fast:
// presence and sizes; full: hashes), repaired where an intact copy exists.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CacheIndex } from './cache-index.js';
import { isDamage } from './damage.js';
import type { CheckRun, Finding } from './check-report.js';
import type { Digest } from './types.js';

/** Who refers to what, gathered before layers and blobs are checked. */
export interface Refs {
  /** Layers images use: diff_id -> the images (as finding subjects). */
  layers: Map<Digest, string[]>;
  /** A pulled image's compressed layer blobs: digest -> its descriptor's size, its layer, the image. */
  blobs: Map<Digest, { size: number; diffId: Digest; subject: string }>;
  /** Blobs read and checked already (manifests, configs). */
  checked: Set<Digest>;
  /** Layers containers use: diff_id -> the containers. */
  containerLayers?: Map<Digest, string[]>;
  /** Layers build cache entries use: diff_id -> the entries' keys. */
  cacheLayers?: Map<Digest, string[]>;
}

function add(map: Map<Digest, string[]>, key: Digest, value: string): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

/** Container records: each readable, and the layers each uses. */
export async function checkContainers(run: CheckRun, refs: Refs): Promise<void> {
  refs.containerLayers = new Map();
  const dir = path.join(run.store.root, 'containers');
  for (const id of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(id)) continue;
    run.report.containers++;
    const file = path.join(dir, id, 'config.json');
    let record: { Name?: string; Strata?: { layers?: Digest[] } };
    try {
      record = JSON.parse(await fs.readFile(file, 'utf8')) as typeof record;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // being created or removed
      run.add({ kind: 'damage', subject: `container "${id.slice(0, 12)}"`, problem: `its record "${file}" is not valid JSON`, advice: 'its files are left as they are (its upper dir holds what it wrote)' });
      continue;
    }
    const subject = `container "${(record.Name ?? '').replace(/^\//, '') || id.slice(0, 12)}"`;
    for (const l of record.Strata?.layers ?? []) add(refs.containerLayers, l, subject);
  }
}

/** The build cache index: readable, and the layers its entries use. */
export async function checkCache(run: CheckRun, refs: Refs): Promise<void> {
  refs.cacheLayers = new Map();
  const cache = new CacheIndex(run.store.root);
  const file = path.join(cache.dir, 'index.json');
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      JSON.parse(text);
    } catch {
      const f = run.add({ kind: 'damage', subject: `build cache index "${file}"`, problem: 'it is not valid JSON (builds start with an empty cache)' });
      if (run.options.repair) {
        const aside = `${file}.damaged-${Date.now()}`;
        await fs.rename(file, aside);
        f.repaired = `moved to "${aside}"; the cache starts over`;
      }
      return;
    }
  }
  for (const e of await cache.list()) {
    run.report.cacheEntries++;
    if (e.layer) add(refs.cacheLayers, e.layer, e.key);
  }
}

type Add = (f: Finding) => Finding;

/** Adds what was hashed to the report (awaited first: `x += await y` loses concurrent updates). */
async function countRead(run: CheckRun, size: Promise<number>): Promise<void> {
  const n = await size;
  run.report.bytesRead += n;
}

/** Runs `fn` over `items` (sorted), `n` at a time; the findings are reported in the items' order. */
async function each<T>(run: CheckRun, items: T[], n: number, fn: (item: T, add: Add) => Promise<void>): Promise<void> {
  const sorted = [...items].sort();
  const slots: Finding[][] = sorted.map(() => []);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, sorted.length) }, async () => {
    while (next < sorted.length) {
      const i = next++;
      await fn(sorted[i], (f) => (slots[i].push(f), f));
    }
  }));
  for (const f of slots.flat()) run.add(f);
}

/** Every layer: fast, its tar-split against its snapshot's files; full, its tar rebuilt and hashed. */
export async function checkLayers(run: CheckRun, refs: Refs): Promise<void> {
  const { layers } = run.store;
  const all = new Set([...(await layers.list()), ...refs.layers.keys(), ...refs.containerLayers!.keys(), ...refs.cacheLayers!.keys()]);
  const dropKeys: { keys: string[]; finding: Finding }[] = [];
  // Layers in parallel: the rebuild reads files on this thread while the pool hashes.
  await each(run, [...all], Math.max(1, Math.min(os.availableParallelism(), 4)), async (diffId, add) => {
    run.report.layers++;
    const users = [...(refs.layers.get(diffId) ?? []), ...(refs.containerLayers!.get(diffId) ?? [])];
    const keys = refs.cacheLayers!.get(diffId) ?? [];
    const subject = `layer "${diffId}"`;
    const files = await layers.files(diffId);
    if (files.legacy && !files.split) return legacyLayer(run, diffId, users, add);
    if (!files.snapshot && !files.split && users.length + keys.length === 0) return;
    let problem: string | undefined;
    if (files.packed && !files.snapshot) {
      // Still packed (layer-packed.ts): fast, its blob is there (its size is checked with the
      // blobs); full, the blob decompressed and hashed against the diff_id, nothing unpacked.
      if (run.options.full) {
        problem = await layers.verify(diffId);
        await countRead(run, layers.size(diffId).catch(() => 0));
      } else problem = await layers.quickCheck(diffId);
    } else if (!files.snapshot || !files.split) problem = !files.snapshot ? (files.split ? 'its snapshot is missing' : 'it is missing from the store') : 'its tar-split is missing';
    else if (run.options.full) {
      problem = await layers.verify(diffId, { checkCrc: true });
      await countRead(run, layers.size(diffId).catch(() => 0));
    } else problem = await layers.quickCheck(diffId);
    if (!problem) return;
    if (users.length + keys.length === 0) {
      // Nothing refers to it: garbage (unless young: a build may still be writing it).
      const f = add({ kind: 'leftover', subject, problem: `${problem} (no image, container or cache entry uses it)` });
      if (run.options.repair && run.old(await layers.mtimeMs(diffId))) {
        await layers.remove(diffId);
        f.repaired = 'removed';
      }
      return;
    }
    const f = add({ kind: 'damage', subject: users.length ? `${users[0]}: ${subject}` : subject, problem });
    if (run.options.repair) {
      const from = await layers.remake(diffId).catch((err: unknown) => {
        f.problem += `; re-making it failed: ${(err as Error).message}`;
        return undefined;
      });
      if (from) {
        f.repaired = `re-made from blob "${from}"`;
        return;
      }
      if (keys.length) dropKeys.push({ keys, finding: f });
    }
    if (!f.repaired) f.advice = users.length ? `no intact copy is kept: remove ${users.join(', ')} and pull, load or build again` : 'no intact copy is kept';
  });
  if (dropKeys.length) {
    await new CacheIndex(run.store.root).remove(dropKeys.flatMap((d) => d.keys));
    for (const { keys, finding } of dropKeys) {
      finding.repaired = `its ${keys.length} build cache entr${keys.length === 1 ? 'y is' : 'ies are'} dropped (the next build makes the layer again and replaces the damaged copy)`;
      if (!finding.subject.startsWith('image ') && !finding.subject.startsWith('container ')) finding.advice = undefined;
    }
  }
}

/** A layer of the previous layout (tar blob + snapshot): checked, and converted by repair. */
async function legacyLayer(run: CheckRun, diffId: Digest, users: string[], add: Add): Promise<void> {
  const { store } = run;
  const subject = `layer "${diffId}"`;
  if (run.options.full) {
    const problem = await store.blobs.verify(diffId);
    await countRead(run, store.blobs.size(diffId).catch(() => 0));
    if (problem) {
      add({ kind: 'damage', subject: users.length ? `${users[0]}: ${subject}` : subject, problem: `its tar blob: ${problem}`, advice: 'remove the images that use it and pull, load or build them again' });
      return;
    }
  }
  const f = add({ kind: 'note', subject, problem: 'kept in the previous layout (a tar blob beside its snapshot)', advice: 'run "strata system check --repair" to keep it once' });
  if (!run.options.repair) return;
  try {
    await store.layers.remake(diffId);
    f.repaired = 'converted (snapshot and tar-split; the tar blob is removed)';
    f.advice = undefined;
  } catch (err) {
    f.problem += `; converting it failed: ${isDamage(err) ? err.problem : (err as Error).message}`;
  }
}

/** Every blob: full, hashed; fast, a pulled image's layer blobs against their descriptors' sizes. */
export async function checkBlobs(run: CheckRun, refs: Refs): Promise<void> {
  const { blobs, layers } = run.store;
  const present = new Set(await blobs.list());
  for (const [digest, ref] of refs.blobs) {
    if (!present.has(digest)) run.add({ kind: 'damage', subject: `${ref.subject}: layer blob "${digest}"`, problem: 'it is missing from the store', advice: 'the image still runs from its layers; pull it again to push or save it as it came' });
  }
  await each(run, [...present], 2, async (digest, add) => {
    run.report.blobs++;
    if (refs.checked.has(digest)) return; // manifests and configs: read and checked already
    const ref = refs.blobs.get(digest);
    if (!ref && (await layers.files(digest)).snapshot) return; // a previous-layout layer tar: checked with its layer
    let problem: string | undefined;
    if (run.options.full) {
      problem = await blobs.verify(digest);
      await countRead(run, blobs.size(digest).catch(() => 0));
    } else if (ref) {
      const size = await blobs.size(digest);
      if (size !== ref.size) problem = `it has ${size} bytes, its image's manifest says ${ref.size}`;
    }
    if (!problem) return;
    if (ref) {
      add({ kind: 'damage', subject: `${ref.subject}: layer blob "${digest}"`, problem, advice: 'the image still runs from its layers; pull it again to push or save it as it came' });
      return;
    }
    const f = add({ kind: 'leftover', subject: `blob "${digest}"`, problem: `${problem} (no image uses it)` });
    if (run.options.repair) {
      await blobs.remove(digest);
      f.repaired = 'removed';
    }
  });
}
