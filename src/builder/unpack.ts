// ADD's local archives, unpacked into a step's upper dir as Docker's Untar does in a chroot at
// the destination (store/layer-unpack.ts, ArchiveExtractOptions): absolute names land under the
// destination, links the archive makes (to "/" too) are followed inside it, and only what would
// land outside it (a name climbing above it with "..") is refused, naming the archive and entry.
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StrataError, systemCause } from '../errors.js';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

/**
 * Extracts an archive (plain, gzip, bzip2 or xz) into `dir`. Returns the archive's entry paths
 * as they landed (relative to `dir`, cleaned, without a trailing "/").
 */
export async function unpackArchive(file: string, dir: string): Promise<string[]> {
  const { extractCopy, limitsFromEnv } = await import('../store/index.js');
  try {
    return (await extractCopy(createReadStream(file), dir, { confined: true, tmpDir: os.tmpdir(), limits: limitsFromEnv() })).names;
  } catch (err) {
    const why = err instanceof StrataError ? err.message : systemCause(err);
    throw new StrataError(`unpacking "${path.basename(file)}": ${why}`, 125, { cause: err });
  }
}
