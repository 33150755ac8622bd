// `strata system check`: the store verified against itself. The fast mode checks presence
// and sizes (every referenced blob's size against its descriptor, every file a layer's
// tar-split names against the snapshot); the full mode hashes (every blob against its
// digest, every layer's tar rebuilt from its snapshot against its diff_id). With repair, what
// can be re-made from an intact copy is re-made (a snapshot from a pulled image's compressed
// blob, a previous-layout layer converted), what points at nothing is dropped (index entries
// whose manifest or config is gone, cache entries whose layer is gone or damaged beyond
// repair), and leftovers are swept. Nothing referenced is ever deleted: a damaged image or
// layer with no intact copy is reported with what the user can do.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isDamage } from './damage.js';
import { isDigest } from './digest.js';
import { atomicWriteJson, tempOwner } from './fsutil.js';
import { sweepStoreLeftovers } from './leftovers.js';
import { emptyIndex, entryFor, imageIdOf, readIndex, refName, writeIndex, type OciIndex } from './index-file.js';
import { withLock } from './lock.js';
import type { Store } from './store.js';
import type { Digest, ImageConfig, Manifest } from './types.js';
import { checkBlobs, checkCache, checkContainers, checkLayers, type Refs } from './check-layers.js';
import type { CheckOptions, CheckReport, CheckRun, Finding } from './check-report.js';

export type { CheckOptions, CheckReport, Finding, FindingKind } from './check-report.js';

/** Verifies the store at `store.root`; with `repair`, mends what can be mended. */
export async function checkStore(store: Store, options: CheckOptions = {}): Promise<CheckReport> {
  const report: CheckReport = { full: !!options.full, repair: !!options.repair, images: 0, layers: 0, blobs: 0, cacheEntries: 0, containers: 0, bytesRead: 0, findings: [] };
  const cutoff = Date.now() - (options.minAgeMs ?? 3_600_000);
  const run: CheckRun = { store, options, report, add: (f) => (report.findings.push(f), f), old: (t) => t < cutoff };
  await checkLayout(run);
  const idx = await checkIndex(run);
  const refs = await checkImages(run, idx);
  await checkContainers(run, refs);
  await checkCache(run, refs);
  await checkLayers(run, refs);
  await checkBlobs(run, refs);
  await checkLeftovers(run);
  return report;
}

async function checkLayout(run: CheckRun): Promise<void> {
  const file = path.join(run.store.root, 'oci-layout');
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  let ok = false;
  try {
    ok = text !== undefined && (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion === '1.0.0';
  } catch {
    ok = false;
  }
  if (ok) return;
  const f = run.add({ kind: 'damage', subject: `store layout file "${file}"`, problem: text === undefined ? 'it is missing' : 'it is not an OCI layout file' });
  if (run.options.repair) {
    await atomicWriteJson(file, { imageLayoutVersion: '1.0.0' });
    f.repaired = 'rewritten';
  }
}

/** index.json; a damaged one is moved aside and (repair) rebuilt from the manifests the store holds, unnamed. */
async function checkIndex(run: CheckRun): Promise<OciIndex> {
  try {
    return await run.store.readIndex();
  } catch (err) {
    if (!isDamage(err)) throw err;
    const f = run.add({ kind: 'damage', subject: err.subject, problem: err.problem, advice: 'run "strata system check --repair" to rebuild it from the images the store holds (their names are lost)' });
    if (!run.options.repair) return emptyIndex();
    const store = run.store;
    return withLock(path.join(store.root, 'lock'), async () => {
      const aside = `${store.indexFile}.damaged-${Date.now()}`;
      await fs.rename(store.indexFile, aside);
      const idx = emptyIndex();
      for (const d of await store.blobs.list()) {
        const m = await store.blobs.readJson<Manifest>(d).catch(() => undefined);
        if (!m || typeof m !== 'object' || !m.config || !Array.isArray(m.layers)) continue;
        const size = await store.blobs.size(d);
        idx.manifests.push(entryFor({ digest: d, size }, m.config.digest));
      }
      await writeIndex(store.indexFile, idx);
      f.repaired = `rebuilt with ${idx.manifests.length} unnamed image(s); the damaged file is kept as "${aside}"`;
      f.advice = undefined;
      return idx;
    });
  }
}

/** Each image's manifest and config (checked against their digests: cheap), and what its layers are. */
async function checkImages(run: CheckRun, idx: OciIndex): Promise<Refs> {
  const { store } = run;
  const refs: Refs = { layers: new Map(), blobs: new Map(), checked: new Set() };
  const byManifest = new Map<Digest, string[]>();
  for (const d of idx.manifests) byManifest.set(d.digest, [...(byManifest.get(d.digest) ?? []), ...(refName(d) ? [refName(d)!] : [])]);
  const dropped = new Map<Digest, Finding>();
  for (const [digest, names] of byManifest) {
    run.report.images++;
    const id = idx.manifests.map((d) => (d.digest === digest ? imageIdOf(d) : undefined)).find((x) => x);
    const subject = `image "${names[0] ?? id ?? digest}"`;
    const fail = (err: unknown): undefined => {
      if (!isDamage(err)) throw err;
      // A manifest or config that is gone leaves the entry pointing at nothing: repair drops it.
      const f = run.add({ kind: 'damage', subject: `${subject}: ${err.subject}`, problem: err.missing ? 'it is missing from the store' : err.problem });
      if (err.missing) dropped.set(digest, f);
      else f.advice = `remove it (strata rmi -f ${names[0] ? `"${names[0]}"` : id ?? digest}) and pull, load or build it again`;
      return undefined;
    };
    refs.checked.add(digest);
    const manifest = await store.blobs.readJson<Manifest>(digest, 'manifest').catch(fail);
    if (!manifest) continue;
    const configDigest = manifest.config?.digest;
    if (!isDigest(configDigest) || !Array.isArray(manifest.layers)) {
      run.add({ kind: 'damage', subject: `${subject}: manifest "${digest}"`, problem: 'it is not an image manifest', advice: 'remove the image and pull, load or build it again' });
      continue;
    }
    refs.checked.add(configDigest);
    const config = await store.blobs.readJson<ImageConfig>(configDigest, 'config').catch(fail);
    if (!config) continue;
    const diffIds = config.rootfs?.diff_ids ?? [];
    for (const [i, l] of (manifest.layers ?? []).entries()) {
      const diffId = diffIds[i];
      if (!diffId) continue;
      refs.layers.set(diffId, [...(refs.layers.get(diffId) ?? []), subject]);
      if (l.digest !== diffId) refs.blobs.set(l.digest, { size: l.size, diffId, subject });
    }
  }
  if (dropped.size && run.options.repair) {
    await store.updateIndex((i) => {
      i.manifests = i.manifests.filter((d) => !dropped.has(d.digest));
    });
    for (const f of dropped.values()) f.repaired = 'its index entry is dropped (it pointed at nothing)';
  }
  return refs;
}

/** Temp files, scratch dirs and outside temps of writers that are gone (leftovers.ts); removed with repair. */
async function checkLeftovers(run: CheckRun): Promise<void> {
  const repair = !!run.options.repair;
  for (const p of await sweepStoreLeftovers(run.store.root, { dryRun: !repair })) {
    const pid = tempOwner(path.basename(p))?.pid;
    const problem = `left by a writer that is gone${pid === undefined ? '' : ` (pid ${pid})`}`;
    run.add({ kind: 'leftover', subject: `"${p}"`, problem, repaired: repair ? 'removed' : undefined });
  }
}
