// sha256 of a file's content, read synchronously in 1 MiB chunks into a caller's buffer (a
// large file is never held in memory). Used by the pool's workers and, for a few small files,
// on the calling thread: starting a worker costs more CPU than hashing a few MiB (see INLINE_*).
import { closeSync, openSync, readSync } from 'node:fs';
import { newSha256 } from './sha256.js';

export const READ_CHUNK = 1024 * 1024;

export function hashFileSync(path: string, buf: Buffer): string {
  const hash = newSha256();
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Up to this much content (and INLINE_HASH_FILES files) is hashed on the calling thread:
 * booting a pool worker (a Node environment plus piscina) costs ~100 ms of CPU, sha256 ~2 ms
 * per MiB. Past it the pool's threads win (hashing overlaps the caller's own work).
 */
export const INLINE_HASH_BYTES = 8 * 1024 * 1024;
export const INLINE_HASH_FILES = 256;

/** sha256 hex of each file, in order, on this thread (for a handful of small files). */
export function hashFilesHere(paths: string[]): string[] {
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  return paths.map((p) => hashFileSync(p, buf));
}
