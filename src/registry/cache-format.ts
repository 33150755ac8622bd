// One build-cache entry as OCI data, the same in a registry and in an OCI layout on disk: a
// small image manifest tagged by the step's cache key. Its config blob (our own media type)
// holds the key's inputs and the step's config change, so a miss against it is explained as
// a local one; its one layer (none for a step that made no layer) is the step's layer blob;
// its annotations carry what a lookup needs without reading the config.
import { StrataError } from '../errors.js';
import { isDigest, type KeyInputs } from '../store/index.js';
import { DOCKER_LIST, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST, isManifest } from './media-types.js';
import { compareBytes } from '../sort-order.js';

export const CACHE_CONFIG_TYPE = 'application/vnd.strata.cache.step.v1+json';

const A = {
  key: 'io.strata.cache.key',
  parent: 'io.strata.cache.parent',
  stage: 'io.strata.cache.stage',
  step: 'io.strata.cache.step',
  created: 'org.opencontainers.image.created',
  diffId: 'io.strata.layer.diff-id',
  tarSize: 'io.strata.layer.tar-size',
} as const;

/** What a step's entry says, as read from its manifest (the inputs are in the config blob). */
export interface StepEntry {
  key: string;
  parent: string;
  stage: string;
  step: string;
  /** When the step was built: reused as its history time, so every machine makes the same image. */
  created: string;
  /** The step's layer: the blob as stored (gzip in a registry, a plain tar in a layout) and its diff_id. */
  layer?: { diffId: string; digest: string; size: number; mediaType: string; tarSize: number };
}

/** The config blob: everything about the step, for explanations and listings. */
export interface StepConfig {
  key: string;
  parent: string;
  stage: string;
  step: string;
  created: string;
  /** Image config fields the step set (its history row). */
  config?: Record<string, unknown>;
  inputs: KeyInputs;
}

/** An entry as found: its manifest digest (what prune deletes) and where its config is. */
export interface FoundEntry extends StepEntry {
  manifestDigest: string;
  config: { digest: string; size: number };
}

export interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }

/** The manifest of an entry; `config` describes the StepConfig blob. */
export function entryManifest(e: StepEntry, config: Descriptor): Buffer {
  const layers: Descriptor[] = e.layer
    ? [{ mediaType: e.layer.mediaType, digest: e.layer.digest, size: e.layer.size, annotations: { [A.diffId]: e.layer.diffId, [A.tarSize]: String(e.layer.tarSize) } }]
    : [];
  return Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers,
    annotations: { [A.key]: e.key, [A.parent]: e.parent, [A.stage]: e.stage, [A.step]: e.step, [A.created]: e.created },
  }));
}

const KEY = /^[a-f0-9]{64}$/;
const str = (v: unknown): v is string => typeof v === 'string';

/**
 * Reads an entry's manifest, checking every field before anything uses it (a cache is input
 * from elsewhere). `where` names the cache in the error.
 */
export function parseEntryManifest(bytes: Buffer, digest: string, where: string): FoundEntry {
  const bad = (what: string) => new StrataError(`cache entry ${digest} in ${where} is not a strata cache entry: ${what}`);
  let m: { config?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, unknown> };
  try {
    m = JSON.parse(bytes.toString('utf8')) as typeof m;
  } catch {
    throw bad('not JSON');
  }
  const a = m.annotations ?? {};
  if (m.config?.mediaType !== CACHE_CONFIG_TYPE || !isDigest(m.config.digest) || !Number.isSafeInteger(m.config.size)) throw bad('config');
  for (const k of [A.key, A.parent, A.stage, A.step, A.created]) if (!str(a[k])) throw bad(`annotation ${k}`);
  if (!KEY.test(a[A.key] as string) || Number.isNaN(Date.parse(a[A.created] as string))) throw bad('key or time');
  const layers = m.layers ?? [];
  if (!Array.isArray(layers) || layers.length > 1) throw bad('layers');
  let layer: StepEntry['layer'];
  if (layers.length) {
    const l = layers[0];
    const diffId = l.annotations?.[A.diffId];
    const tarSize = Number(l.annotations?.[A.tarSize]);
    if (![OCI_LAYER, OCI_LAYER_GZIP].includes(l.mediaType) || !isDigest(l.digest) || !isDigest(diffId) || !Number.isSafeInteger(l.size) || !Number.isSafeInteger(tarSize)) throw bad('layer');
    if (l.mediaType === OCI_LAYER && l.digest !== diffId) throw bad('layer digest');
    layer = { diffId, digest: l.digest, size: l.size, mediaType: l.mediaType, tarSize };
  }
  return {
    key: a[A.key] as string, parent: a[A.parent] as string, stage: a[A.stage] as string, step: a[A.step] as string,
    created: a[A.created] as string, layer, manifestDigest: digest, config: { digest: m.config.digest, size: m.config.size },
  };
}

/** The config blob's bytes, checked: its inputs are compared field by field with a build's. */
export function parseStepConfig(bytes: Buffer, where: string): StepConfig {
  let c: StepConfig;
  try {
    c = JSON.parse(bytes.toString('utf8')) as StepConfig;
  } catch {
    throw new StrataError(`a cache entry's config in ${where} is not JSON`);
  }
  const i = c?.inputs;
  if (!i || !str(i.type) || !str(i.parent) || !str(i.instruction)) throw new StrataError(`a cache entry's config in ${where} has no key inputs`);
  return c;
}

/** Tags of pointers ("the latest entry built on parent P at this step", ...): KIND-ID, never a bare key. */
export const pointerTag = (kind: string, id: string): string => `${kind}-${id}`;
export const isKeyTag = (tag: string): boolean => KEY.test(tag);

/** Marks an OCI index at a cache ref's tag as strata's list of that tag's entries. */
const INDEX_MARK = 'io.strata.cache.index';

/** A tag's index entry: an entry manifest of the same repository, with its key. */
export interface IndexedEntry { key: string; digest: string; size: number }

/**
 * The index a cache ref's tag names (`--cache-to type=registry,ref=REG/REPO:TAG`): the entries
 * the export wrote or found there, each an entry manifest of the repository, by its key.
 */
export function cacheIndex(entries: readonly IndexedEntry[], created: string): Buffer {
  const manifests = [...entries].sort((a, b) => compareBytes(a.key, b.key))
    .map((e) => ({ mediaType: OCI_MANIFEST, digest: e.digest, size: e.size, annotations: { [A.key]: e.key } }));
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests, annotations: { [INDEX_MARK]: '1', [A.created]: created } }));
}

/** A tag's index, checked, by key (what the tag names may be anything: an image, another tool's cache). */
export function parseCacheIndex(bytes: Buffer, mediaType: string): Map<string, IndexedEntry> {
  const bad = (what: string) => new StrataError(`not a strata build cache: ${what}`);
  if (isManifest(mediaType)) throw bad('it names an image');
  if (mediaType !== OCI_INDEX && mediaType !== DOCKER_LIST) throw bad(`it names a manifest of type "${mediaType}"`);
  let m: { manifests?: Descriptor[]; annotations?: Record<string, unknown> };
  try {
    m = JSON.parse(bytes.toString('utf8')) as typeof m;
  } catch {
    throw bad('not JSON');
  }
  // An image index, or another tool's cache (BuildKit's is an index too): nothing strata can read.
  if (mediaType !== OCI_INDEX || m.annotations?.[INDEX_MARK] !== '1') throw bad('it names an index of something else (an image for several platforms, or another tool\'s cache)');
  if (!Array.isArray(m.manifests)) throw bad('manifests');
  const out = new Map<string, IndexedEntry>();
  for (const d of m.manifests) {
    const key = d?.annotations?.[A.key];
    if (d?.mediaType !== OCI_MANIFEST || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || !str(key) || !KEY.test(key)) throw bad('an entry');
    out.set(key, { key, digest: d.digest, size: d.size });
  }
  return out;
}
