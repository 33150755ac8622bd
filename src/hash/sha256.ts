// sha256 on the calling thread, for what is small or already in memory (the pool, pool.ts,
// takes files and long streams).
import type { Hash } from 'node:crypto';
import { sha256HexSmall } from './sha256-small.js';

/** Up to this size a digest is computed in JavaScript while node:crypto is not loaded yet. */
const SMALL = 16 * 1024;
let cryptoLoaded = false;

/**
 * A sha256 hash. node:crypto is loaded on first use: `strata run` loads the store's modules and
 * hashes only a few small blobs (sha256Digest), and loading it costs every start several ms (see
 * src/random.ts).
 */
export function newSha256(): Hash {
  cryptoLoaded = true;
  return process.getBuiltinModule('node:crypto').createHash('sha256');
}

/** "sha256:<hex>" of the data. */
export function sha256Digest(data: string | Uint8Array): `sha256:${string}` {
  // A `run` checks its image's manifest and config and hashes nothing else: not worth loading
  // node:crypto for (some 10 ms on a slow machine; sha256-small.ts). Once loaded, it is faster.
  if (!cryptoLoaded && data.length <= SMALL) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length <= SMALL) return `sha256:${sha256HexSmall(bytes)}`;
  }
  return `sha256:${newSha256().update(data).digest('hex')}`;
}
