// `pull`: reference → manifest (through an index, the platform's entry) → config → layers
// fetched three at a time, each verified before anything refers to it → the image written with
// the registry's exact manifest and config bytes and named. Nothing is named, and no manifest
// written, unless every blob arrived and matched.
import { StrataError } from '../errors.js';
import { timing } from '../timing.js';
import { failpoint } from '../failpoint.js';
import { isDigest, Lease } from '../store/index.js';
import { familiarName, familiarRepository, formatReference, imageByRepoDigest, recordRepoDigest, repositoryName, type Image, type Reference } from '../store/index.js';
import { BlobInfoCache } from './blob-info.js';
import { Repository, type FetchedManifest } from './client.js';
import { pullTransports, qualify, type RegistryOptions } from './endpoints.js';
import { RegistryError } from './errors.js';
import { fetchLayer } from './layer-fetch.js';
import { sweepPartials } from './partials.js';
import { isIndex, isManifest, layerCompression } from './media-types.js';
import { formatPlatform, matches, parsePlatform, type Platform } from './platform.js';
import type { ProgressSink } from './progress-events.js';
import { hasBlob, hasLayer, readBlobBytes, resolveImage, tempDir, writeBlobBytes, writePulledImage, type Store } from './store-access.js';

export interface PullOptions extends RegistryOptions {
  store: Store;
  /** "os/arch[/variant]"; default the host's. */
  platform?: string;
  progress?: ProgressSink;
  /** Layers downloaded at once (Docker's default: 3). */
  concurrency?: number;
}

export interface PullResult {
  image: Image;
  /** The full reference pulled, e.g. "docker.io/library/busybox:latest". */
  reference: string;
  /** The digest the reference resolved to (an index's, when the image came through one). */
  digest: string;
  /** False when the name already named this image (Docker's "Image is up to date"). */
  downloaded: boolean;
  /** Docker's warning for a single-platform image that is not of the platform asked for (pulled all the same). */
  platformWarning?: string;
}

const CONFIG_MAX = 16 * 1024 * 1024;

interface Descriptor { mediaType?: string; digest: string; size: number; platform?: Partial<Platform> }
interface ManifestDoc { schemaVersion?: number; mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] }

function parseDoc(m: FetchedManifest): ManifestDoc {
  const doc = JSON.parse(m.bytes.toString('utf8')) as ManifestDoc;
  if (doc.schemaVersion !== 2) throw new StrataError(`unsupported manifest (schema version ${String(doc.schemaVersion)}): only v2 schema 2 and OCI manifests are supported`);
  return doc;
}

/** The manifest from the first endpoint that has it (mirrors first). */
export async function resolveManifest(ref: Reference, o: RegistryOptions): Promise<{ repo: Repository; top: FetchedManifest }> {
  const endpoints = pullTransports(ref, o);
  for (let i = 0; ; i++) {
    const repo = new Repository(endpoints[i], ref.path);
    try {
      return { repo, top: await repo.manifest(ref.digest ?? ref.tag ?? 'latest') };
    } catch (err) {
      const last = i === endpoints.length - 1;
      // A mirror that lacks the image or is down: the next endpoint may have it.
      if (last || !(err instanceof RegistryError) || (err.status !== undefined && !err.notFound)) throw err;
    }
  }
}

async function selectPlatform(repo: Repository, top: FetchedManifest, want: Platform): Promise<FetchedManifest> {
  if (!isIndex(top.mediaType) && !parseDoc(top).manifests) return top;
  const entries = (parseDoc(top).manifests ?? []).filter((d) => isDigest(d.digest));
  const pick = entries.find((d) => matches(want, d.platform));
  if (!pick) {
    const have = entries.map((d) => (d.platform ? formatPlatform(d.platform as Platform) : '?')).join(', ');
    throw new StrataError(`no image for platform "${formatPlatform(want)}" in the index (it has: ${have || 'nothing'})`);
  }
  const m = await repo.manifest(pick.digest);
  if (pick.size && m.bytes.length !== pick.size) throw new StrataError(`manifest "${pick.digest}" is ${m.bytes.length} bytes, the index says ${pick.size}`);
  return m;
}

async function fetchConfig(store: Store, repo: Repository, d: Descriptor): Promise<Buffer> {
  if (!isDigest(d.digest) || !(d.size >= 0) || d.size > CONFIG_MAX) throw new StrataError('manifest has no valid config descriptor');
  if (await hasBlob(store, d.digest)) return readBlobBytes(store, d.digest);
  const { body } = await repo.blob(d.digest);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > d.size) {
      body.destroy();
      throw new StrataError(`config "${d.digest}" is larger than its manifest says (${d.size} bytes)`);
    }
    parts.push(c);
  }
  const bytes = Buffer.concat(parts);
  await writeBlobBytes(store, bytes, d.digest); // verifies the digest
  return bytes;
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure is thrown after all settle. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

export async function pull(text: string, o: PullOptions): Promise<PullResult> {
  const ref = qualify(text, o);
  const reference = formatReference(ref);
  let r: PullResult;
  try {
    r = await pullReference(ref, o);
  } catch (err) {
    // Docker's words for a repository this user may not pull (or that does not exist).
    if (err instanceof RegistryError && err.code === 'DENIED') {
      throw new StrataError(`pull access denied for ${familiarRepository(ref)}, repository does not exist or may require 'docker login': ${err.message}`, err.exitCode, { cause: err });
    }
    // And for what the registry does not have (moby's translatePullError).
    if (err instanceof RegistryError && (err.code === 'MANIFEST_UNKNOWN' || (!err.code && err.message === 'manifest unknown'))) {
      throw new StrataError(`manifest for ${familiarName(reference)} not found: ${err.message}`, err.exitCode, { cause: err });
    }
    if (err instanceof RegistryError && err.code === 'NAME_UNKNOWN') {
      throw new StrataError(`repository ${familiarRepository(ref)} not found: ${err.message}`, err.exitCode, { cause: err });
    }
    if (err instanceof StrataError) throw new StrataError(`pulling "${reference}": ${err.message}`, err.exitCode, { cause: err });
    throw err;
  }
  if (o.platform) {
    const want = parsePlatform(o.platform);
    const { os, architecture, variant } = r.image.config;
    const have = { os, architecture, ...(variant ? { variant } : {}) };
    if (!matches(want, have)) {
      r.platformWarning = `image with reference ${familiarRepository(ref)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`;
    }
  }
  return r;
}

async function pullReference(ref: Reference, o: PullOptions): Promise<PullResult> {
  const store = o.store;
  const want = parsePlatform(o.platform);
  const p = o.progress;
  const repository = repositoryName(ref);
  if (ref.digest) {
    // By digest, and pulled before: nothing to ask.
    const known = await imageByRepoDigest(store, repository, ref.digest);
    const image = known ? await resolveImage(store, known).catch(() => undefined) : undefined;
    if (image) return { image, reference: formatReference(ref), digest: ref.digest, downloaded: false };
  }
  timing('pull: begun');
  // What the name points at here is read while the manifest is asked for.
  const name = ref.tag ? formatReference({ ...ref, digest: undefined }) : undefined;
  const named = name ? resolveImage(store, name).catch(() => undefined) : Promise.resolve(undefined);
  const { repo, top } = await resolveManifest(ref, o);
  timing('pull: manifest fetched');
  p?.line(`${ref.digest ?? ref.tag}: Pulling from ${ref.path}`);
  const chosen = await selectPlatform(repo, top, want);
  // The name already points at this very manifest: nothing to fetch or write.
  const current = await named;
  if (current && current.manifestDigest === chosen.digest) {
    await recordRepoDigest(store, current.id, repository, top.digest);
    return { image: current, reference: formatReference(ref), digest: top.digest, downloaded: false };
  }
  const doc = parseDoc(chosen);
  if (!isManifest(chosen.mediaType) || !doc.config || !Array.isArray(doc.layers)) throw new StrataError(`unsupported manifest type "${chosen.mediaType}"`);
  // A lease (store/leases.ts) holds what the pull finds here or writes until the index names the
  // image: a collection meanwhile (`image prune -a`, `cache prune -a`) keeps a layer the pull
  // counted as "Already exists", however long the downloads take.
  const lease = Lease.create(store.root, 'pull');
  try {
    const r = await pullLeased(o, ref, repo, top, chosen, { config: doc.config, layers: doc.layers }, lease);
    // Docker's "Downloaded newer image": the name is new here, or now names another image.
    return { ...r, downloaded: r.downloaded || current?.id !== r.image.id };
  } finally {
    await lease.release();
  }
}

async function pullLeased(
  o: PullOptions, ref: Reference, repo: Repository, top: FetchedManifest, chosen: FetchedManifest, doc: { config: Descriptor; layers: Descriptor[] }, lease: Lease,
): Promise<PullResult> {
  const store = o.store;
  const p = o.progress;
  const repository = repositoryName(ref);
  if (isDigest(doc.config.digest)) await lease.add([doc.config.digest]);
  const configBytes = await fetchConfig(store, repo, doc.config);
  let config: { rootfs?: { diff_ids?: string[] }; os?: string; architecture?: string };
  try {
    config = JSON.parse(configBytes.toString('utf8')) as typeof config;
  } catch {
    throw new StrataError(`image config "${doc.config.digest}" is not valid JSON`);
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== doc.layers.length) throw new StrataError('image config and manifest disagree on the number of layers');
  const layers = doc.layers.map((d, i) => {
    const compression = layerCompression(d.mediaType ?? '');
    if (!compression) throw new StrataError(`unsupported layer type "${d.mediaType}"`);
    if (!isDigest(d.digest) || !isDigest(diffIds[i]) || !(Number.isSafeInteger(d.size) && d.size >= 0)) throw new StrataError(`invalid layer descriptor "${String(d.digest)}"`);
    return { digest: d.digest, size: d.size, diffId: diffIds[i], compression, mediaType: d.mediaType };
  });
  await lease.add(layers.flatMap((l) => [l.digest, l.diffId]));
  let downloaded = false;
  const missing: typeof layers = [];
  for (const l of layers) {
    const id = l.digest.slice(7, 19);
    const present = (await hasLayer(store, l.diffId)) && (l.compression === 'none' || (await hasBlob(store, l.digest)));
    if (present) p?.layer(id, 'Already exists');
    else if (!missing.some((m) => m.digest === l.digest)) {
      missing.push(l);
      p?.layer(id, 'Pulling fs layer');
    }
  }
  const maxBytes = store.options.limits?.maxBytes ?? 64 * 1024 ** 3;
  // Downloads that earlier pulls abandoned (never those this one may resume).
  if (missing.length) await sweepPartials(await tempDir(store), { keep: missing.map((l) => l.digest) });
  await eachLimited(missing, o.concurrency ?? 3, async (l) => {
    const id = l.digest.slice(7, 19);
    downloaded = true;
    await fetchLayer(store, repo, l, {
      progress: (done, total) => p?.layer(id, 'Downloading', done, total),
      phase: (s) => p?.layer(id, s),
    }, maxBytes);
    p?.layer(id, 'Pull complete');
  });
  failpoint('pull.before-image');
  const image = await writePulledImage(store, {
    manifestBytes: chosen.bytes, mediaType: chosen.mediaType, configBytes,
    names: ref.tag ? [formatReference({ ...ref, digest: undefined })] : [],
  });
  await recordRepoDigest(store, image.id, repository, top.digest);
  // Where these blobs live: a push to another repository of this registry mounts them.
  const info = new BlobInfoCache(store);
  for (const l of layers) await info.addLocation(l.digest, ref.domain, ref.path);
  await info.save();
  return { image, reference: formatReference(ref), digest: top.digest, downloaded };
}
