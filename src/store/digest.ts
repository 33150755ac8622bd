// Digests: the only strings from which the store builds paths, so they are validated first.
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
