// ADD's local archives, unpacked into a step's upper dir as Docker's Untar does in a chroot at
// the destination (store/layer-unpack.ts, ArchiveExtractOptions): absolute names land under the
// destination, links the archive makes (to "/" too) are followed inside it, and only what would
// land outside it (a name climbing above it with "..") is refused, naming the archive and entry.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StrataError, systemCause } from '../errors.js';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const BLOCK = 512;

/**
 * Whether ADD unpacks a file, as BuildKit decides (isArchivePath): it is a tar, plain or
 * compressed (gzip, bzip2, xz, zstd), if its content, decompressed, starts with a valid tar
 * header. A compressed file that holds no tar (data.json.gz) is copied as it is.
 */
export async function archiveKind(file: string): Promise<ArchiveKind | undefined> {
  const { decompressed } = await import('../store/index.js');
  const fh = await fs.open(file, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(6);
    head = head.subarray(0, (await fh.read(head, 0, 6, 0)).bytesRead);
  } finally {
    await fh.close();
  }
  const kind: ArchiveKind = head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : head.subarray(0, 3).toString('latin1') === 'BZh' ? 'bzip2'
    : head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ? 'xz' : head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])) ? 'zstd' : 'tar';
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = createReadStream(file, kind === 'tar' ? { end: BLOCK - 1 } : {});
  const it = decompressed(stream);
  try {
    for await (const chunk of it) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= BLOCK) break;
    }
  } catch {
    return undefined; // not what its magic says: copied as a file
  } finally {
    await it.return(undefined);
    stream.destroy();
  }
  return size >= BLOCK && isTarHeader(Buffer.concat(chunks).subarray(0, BLOCK)) ? kind : undefined;
}

/** Go's archive/tar reading a first header: not all zeros, and its checksum right (unsigned or signed sum). */
function isTarHeader(block: Buffer): boolean {
  if (block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/**
 * Extracts an archive (plain, gzip, bzip2, xz or zstd) into `dir`. Returns the archive's entry paths
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
