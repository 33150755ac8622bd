// The hash folder's public API: sha256 of data and files on the calling thread, and the piscina
// pool (pool.ts) that hashes many files or long streams off it. The pool's module is loaded on
// first use, through this file: it locates its worker beside itself (the CLI's bundles keep it
// outside, see scripts/bundle-cli.mjs), and commands that never hash never load piscina.
import type * as Pool from './pool.js';

export { newSha256, sha256Digest } from './sha256.js';
export { hashFileSync, hashFilesHere, INLINE_HASH_BYTES, INLINE_HASH_FILES, READ_CHUNK } from './file-hash.js';
export type { PassHasher, StreamHasher } from './pool.js';
export { poolThreads, TASKS_PER_THREAD } from './threads.js';

let pool: Promise<typeof Pool> | undefined;

function loadPool(): Promise<typeof Pool> {
  pool ??= import('./pool.js');
  return pool;
}

/** sha256 hex of each file's content, in the order given (in the pool's threads). */
export async function hashFiles(paths: string[]): Promise<string[]> {
  return (await loadPool()).hashFiles(paths);
}

/** sha256 hex of one file's content (in a pool thread). */
export async function hashFile(file: string): Promise<string> {
  return (await loadPool()).hashFile(file);
}

/** A sha256 of a stream computed in a pool thread (see pool.ts createStreamHasher). */
export async function createStreamHasher(): Promise<Pool.StreamHasher> {
  return (await loadPool()).createStreamHasher();
}

/** A sha256 computed in a pool thread from buffers passed through it without copies (pool.ts createPassHasher). */
export async function createPassHasher(): Promise<Pool.PassHasher> {
  return (await loadPool()).createPassHasher();
}

/** Stops the pool's threads so a process can exit at once; nothing to do if it was never loaded. */
export async function closeHashPool(): Promise<void> {
  if (pool) await (await pool).closeHashPool();
}

/**
 * The gzip of a stream, deflated block by block on every core and byte-stable (deflate.ts);
 * zlib and the pool load only when this is called.
 */
export async function* gzipBlocks(source: AsyncIterable<Uint8Array>, options?: import('./deflate.js').GzipOptions): AsyncGenerator<Buffer> {
  yield* (await import('./deflate.js')).gzipBlocks(source, options);
}
export type { GzipOptions } from './deflate.js';
