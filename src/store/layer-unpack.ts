// Tars extracted by the copier (copier/put.ts): an OCI layer into a snapshot directory in
// overlay form (`.wh.NAME` -> 0/0 char device, `.wh..wh..opq` -> trusted.overlay.opaque=y,
// its tar-split recorded as it is read), a tar from `cp -` into a container directory with
// docker cp's rules, an ADD archive confined to its destination as Docker's Untar in a
// chroot. Nothing is written outside the destination; size and entry-count limits bound
// decompression bombs.
import { cleanComponents } from './copier/names.js';
import { put, type PutResult } from './copier/put.js';
import { readTar, type ChunkSource, type TarEntry, type TarLimits } from './tar/reader.js';
import type { SplitWriter } from './tar-split.js';

export interface UnpackOptions {
  limits?: TarLimits;
  /** Where setfattr's input file goes (the store's tmp dir). */
  tmpDir: string;
  /** Records the tar as it is read (tar-split.ts), so it can be rebuilt from the snapshot. */
  split?: SplitWriter;
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
  /** Called with each entry before it is placed: throws to refuse it (and stop the copy). */
  check?: (e: TarEntry) => void;
  /** The container root the destination lies in, when others may change it meanwhile (PutOptions.anchoredIn). */
  anchoredIn?: string;
}

/**
 * ADD's local archives, as Docker's Untar in a chroot at the destination: `.wh.*` names are
 * ordinary files, an entry replaces what is in its way, names are cleaned ("/etc/x" is "etc/x";
 * only ".." above the destination is refused), and links in the tree, the archive's own
 * included, are followed inside the destination as if it were the root.
 */
export interface ArchiveExtractOptions extends UnpackOptions {
  confined: true;
}

export type UnpackResult = PutResult;

export interface ExtractResult extends UnpackResult {
  /** The archive's entry names, cleaned (relative to the destination, no trailing "/"). */
  names: string[];
}

/** Extracts a layer tar (uncompressed) into `dest`, an existing empty directory. */
export async function unpackLayer(source: ChunkSource, dest: string, options: UnpackOptions): Promise<UnpackResult> {
  return put(readTar(source, options.limits, options.split), dest, { rules: 'layer', tmpDir: options.tmpDir, split: options.split });
}

/**
 * Extracts a tar (plain or compressed) into the existing directory `dest` with the layer
 * rules (nothing written outside `dest`, through a symlink or as a hard link out), for
 * `cp - CONTAINER:DIR` (see CopyExtractOptions), or, for ADD, confined to `dest` as if it were
 * the root (see ArchiveExtractOptions).
 */
export async function extractCopy(source: ChunkSource, dest: string, options: CopyExtractOptions | ArchiveExtractOptions): Promise<ExtractResult> {
  const { decompressed } = await import('./decompress.js');
  const names: string[] = [];
  async function* noted(): AsyncGenerator<TarEntry> {
    for await (const e of readTar(decompressed(source, options.limits?.maxBytes), options.limits)) {
      names.push(e.path);
      yield e;
    }
  }
  const result = await placeEntries(noted(), dest, options);
  // Every name was accepted by the extraction: cleaning it cannot throw.
  return { ...result, names: names.map((n) => cleanComponents(n).join('/')).filter(Boolean) };
}

/**
 * Places entries (read from a tar, or made from a host tree by `cp`) into the existing
 * directory `dest` with the rules of extractCopy.
 */
export async function placeEntries(entries: AsyncIterable<TarEntry>, dest: string, options: CopyExtractOptions | ArchiveExtractOptions): Promise<UnpackResult> {
  if ('confined' in options) return put(entries, dest, { rules: 'archive', tmpDir: options.tmpDir });
  return put(entries, dest, { rules: 'cp', tmpDir: options.tmpDir, shownAs: options.shownAs, check: options.check, anchoredIn: options.anchoredIn });
}
