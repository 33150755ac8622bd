// The store folder's public API: images (OCI layout, blobs, layer snapshots, refs), the build
// cache index, container records, volumes, locks and the state root. Modules that bring heavy
// dependencies (tar streams, archives) are loaded on first use through the functions at the end,
// so that `strata run` and the light commands never load them (scripts/bundle-cli.mjs keeps
// layer-pack/layer-unpack out of the run bundle).
import type { Writable } from 'node:stream';
import type { ArchiveFormat, SaveItem } from './archive/save.js';
import type { LoadOptions, LoadResult } from './archive/load.js';
import type { CopyEntry } from './copier/get.js';
import type { PutOptions, PutResult } from './copier/put.js';
import type { ArchiveExtractOptions, CopyExtractOptions, ExtractResult, UnpackResult } from './layer-unpack.js';
import type { CheckOptions, CheckReport } from './check.js';
import type { Store } from './store.js';
import type { ChunkSource, TarEntry } from './tar/reader.js';

export type * from './types.js';
export { Store, openStore, limitsFromEnv, type StoreOptions, type CreateLayerOptions } from './store.js';
export { containerDigests, imagesInUse, liveDigests, type GcOptions, type GcTarget } from './gc.js';
export { Lease, leasedDigests, leasedImages, leasesDir, readLeases, type LeasedSet, type LeaseRecord } from './leases.js';
export { assertDigest, digestHex, isDigest } from './digest.js';
export { DamagedError, inImage, isDamage } from './damage.js';
export { familiarName, familiarRepository, formatReference, normalizeTag, parseReference, repositoryName, type Reference } from './refs.js';
export { stateRoot } from './paths.js';
export type {
  BuildCache, CacheEntry, CachePrunePolicy, CachePruneResult, CacheQuery, KeyInputs, MissExplanation, NewCacheEntry,
} from './build-cache.js';
export { CacheIndex, cachedLayers } from './cache-index.js';
export { explainMiss, type ExplainContext } from './cache-explain.js';
export { selectPrunable } from './cache-prune.js';
export { ContainerStore, validateName } from './containers.js';
export {
  STORAGE_DRIVER, ZERO_TIME, initialState, newContainerId,
  type ContainerMount, type ContainerRecord, type ContainerRunConfig, type ContainerState, type ContainerStatus, type EndpointSettings, type HostConfig,
} from './container-record.js';
export {
  DEFAULT_NETWORK, NetworkStore, RESERVED_NETWORKS, newNetworkId, type EndpointRecord, type NetworkRecord,
} from './networks.js';
export {
  ANONYMOUS_VOLUME_LABEL, createVolume, diskUsage, findVolume, getVolume, isVolumeName, listVolumes, volumesDir, volumeInUse,
  type CreateVolumeOptions, type Volume,
} from './volumes.js';
export { checkVolumeOptions, volumeKind, type VolumeKind } from './volume-options.js';
export { dropVolume, moveVolumeAside, restoreVolume, sweepVolumeAsides, type VolumeAside, type VolumeSweep } from './volume-asides.js';
export { withLock, processStartTime, type LockOptions } from './lock.js';
export {
  atomicReplace, atomicWrite, atomicWriteJson, atomicWriteSync, noteOutsideTemp, pidAlive, readJsonFile, tempName, tempOwner, type AtomicWriteOptions,
} from './fsutil.js';
export { ownerGone, ownerStamp, parseOwner, type Owner } from './owner.js';
export {
  buildScratchDir, makeTempDir, makeTempDirSync, mountsUnder, removeDeadScratch, removeDeadTemps, removeLeftover, scratchName,
  sweepStoreLeftovers, tempDirsOf, type SweepOptions,
} from './leftovers.js';
export { mountsInside, removeTree, removeTreeSync } from './remove-tree.js';
export { adoptVerifiedBlob, writePulledImage, type PulledImage } from './pulled.js';
export { BUSYBOX_BINARY, BUSYBOX_REF, createBusybox, ensureBusybox, imageArchitecture, isStaticElf } from './busybox.js';
export type { ArchiveFormat, SaveItem } from './archive/save.js';
export type { LoadOptions, LoadResult, LoadedImage } from './archive/load.js';
export type { ChunkSource, EntryType, TarEntry, TarLimits } from './tar/reader.js';
export { decompressed } from './decompress.js';

export type { CheckOptions, CheckReport, Finding, FindingKind } from './check.js';

/** Verifies the store against itself and, with `repair`, mends what can be mended (check.ts). */
export async function checkStore(store: Store, options?: CheckOptions): Promise<CheckReport> {
  return (await import('./check.js')).checkStore(store, options);
}

/** Writes images to `out` as a docker-archive or oci-archive (archive/save.ts). */
export async function saveImages(store: Store, items: SaveItem[], out: Writable, format: ArchiveFormat): Promise<void> {
  return (await import('./archive/save.js')).saveImages(store, items, out, format);
}

/** Loads the images of a docker-archive or oci-archive (archive/load.ts). */
export async function loadArchive(store: Store, source: ChunkSource, options?: LoadOptions): Promise<LoadResult> {
  return (await import('./archive/load.js')).loadArchive(store, source, options);
}

/**
 * Extracts a tar (plain or compressed) into `dest` as `cp` does (plain names, nothing through a
 * link), or as ADD does (ArchiveExtractOptions: confined to dest as if it were the root) (layer-unpack.ts).
 */
export async function extractCopy(source: ChunkSource, dest: string, options: CopyExtractOptions | ArchiveExtractOptions): Promise<ExtractResult> {
  return (await import('./layer-unpack.js')).extractCopy(source, dest, options);
}
/** Writes tar entries into `dest` with extractCopy's rules (layer-unpack.ts). */
export async function placeEntries(entries: AsyncIterable<TarEntry>, dest: string, options: CopyExtractOptions): Promise<UnpackResult> {
  return (await import('./layer-unpack.js')).placeEntries(entries, dest, options);
}
export type { ArchiveExtractOptions, CopyExtractOptions, ExtractResult, UnpackResult } from './layer-unpack.js';

// The copier: a tree read as entries (get), entries placed into a directory (put), wildcards.
export { anchoredTree, hostTree, nodeOf, typeOf, type TreeNode, type TreeSource } from './copier/tree.js';
export { Anchor, fdPath } from './copier/anchor.js';
export { treeEntries, type CopyEntry, type GetOptions } from './copier/get.js';
export { glob, globRegex, hasWildcards } from './copier/glob.js';
export type { PutOptions, PutResult } from './copier/put.js';

/** Writes copier entries to `out` as a tar and ends it (copier/tar.ts); returns the entry count. */
export async function writeEntriesTar(entries: AsyncIterable<CopyEntry>, out: Writable): Promise<number> {
  return (await import('./copier/tar.js')).writeEntriesTar(entries, out);
}

/** Places entries into the existing directory `dest`, with the rules the options name (copier/put.ts). */
export async function put(entries: AsyncIterable<CopyEntry>, dest: string, options: PutOptions): Promise<PutResult> {
  return (await import('./copier/put.js')).put(entries, dest, options);
}
export { allRepoDigests, digestReferencedImages, forgetRepoDigests, imageByRepoDigest, recordRepoDigest, repoDigestsOf } from './repo-digests.js';
export { appendContainerRemoval, appendEvent, containerRecordEvents, eventsFile, readEvents, type EventRecord } from './events.js';
