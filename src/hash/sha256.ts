// sha256 on the calling thread, for what is small or already in memory (the pool, pool.ts,
// takes files and long streams).
import type { Hash } from 'node:crypto';

/**
 * A sha256 hash. node:crypto is loaded on first use: `strata run` loads the store's modules but
 * hashes nothing, and loading it costs every start several ms (see src/random.ts).
 */
export function newSha256(): Hash {
  return process.getBuiltinModule('node:crypto').createHash('sha256');
}

/** "sha256:<hex>" of the data. */
export function sha256Digest(data: string | Uint8Array): `sha256:${string}` {
  return `sha256:${newSha256().update(data).digest('hex')}`;
}
