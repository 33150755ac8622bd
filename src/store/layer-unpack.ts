// Layers and copy archives extracted by the copier (copier/put.ts): an OCI layer tar into a
// snapshot directory in overlay form (`.wh.NAME` -> 0/0 char device, `.wh..wh..opq` ->
// trusted.overlay.opaque=y), a tar from `cp -` into a container directory with docker cp's
// rules. Both are extracted safely (nothing outside the destination, nothing through a
// symlink); size and entry-count limits bound decompression bombs.
import { put, type PutResult } from './copier/put.js';
import { readTar, type ChunkSource, type TarEntry, type TarLimits } from './tar/reader.js';


export interface UnpackOptions {
  limits?: TarLimits;
  /** Where setfattr's input file goes (the store's tmp dir). */
  tmpDir: string;
}

/**
 * How `cp - CONTAINER:DIR` differs from a layer: `.wh.*` names are ordinary files (no
 * whiteouts, no opaque xattr), and, as Docker's copy, an existing directory is never replaced
 * by a non-directory nor the reverse.
 */
export interface CopyExtractOptions extends UnpackOptions {
  plainNames: true;
  /** How the destination directory is named in messages (the container path), "/" by default. */
  shownAs?: string;
}

export type UnpackResult = PutResult;

/** Extracts a layer tar (uncompressed) into `dest`, an existing empty directory. */
export async function unpackLayer(source: ChunkSource, dest: string, options: UnpackOptions): Promise<UnpackResult> {
  return put(readTar(source, options.limits), dest, { tmpDir: options.tmpDir, whiteouts: true });
}

/**
 * Extracts a tar (plain or compressed) into the existing directory `dest` with the layer
 * rules (nothing written outside `dest`, through a symlink or as a hard link out), for
 * `cp - CONTAINER:DIR`: see CopyExtractOptions.
 */
export async function extractCopy(source: ChunkSource, dest: string, options: CopyExtractOptions): Promise<UnpackResult> {
  const { decompressed } = await import('./decompress.js');
  return placeEntries(readTar(decompressed(source, options.limits?.maxBytes), options.limits), dest, options);
}

/**
 * Places entries (read from a tar, or made from a host tree by `cp`) into the existing
 * directory `dest` with the copy rules of extractCopy.
 */
export async function placeEntries(entries: AsyncIterable<TarEntry>, dest: string, options: CopyExtractOptions): Promise<UnpackResult> {
  return put(entries, dest, { tmpDir: options.tmpDir, keepKinds: true, shownAs: options.shownAs });
}
