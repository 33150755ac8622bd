// Digests: the only strings from which the store builds paths, so they are validated first.
import type { Hash } from 'node:crypto';
import { StrataError } from '../errors.js';
import type { Digest } from './types.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

/** Throws unless `value` is "sha256:<64 lower-case hex>". */
export function assertDigest(value: unknown, what = 'digest'): Digest {
  if (!isDigest(value)) throw new StrataError(`invalid ${what} "${String(value)}": expected sha256:<64 hex>`);
  return value;
}

/** The hex part of a validated digest. */
export function digestHex(digest: Digest): string {
  return assertDigest(digest).slice('sha256:'.length);
}

/**
 * A sha256 hash. node:crypto is loaded on first use: `strata run` loads the store's modules but
 * hashes nothing, and loading it costs every start several ms (see src/random.ts).
 */
export function newSha256(): Hash {
  return process.getBuiltinModule('node:crypto').createHash('sha256');
}

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${newSha256().update(data).digest('hex')}`;
}
