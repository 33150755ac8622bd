// Random bytes for IDs, names and temporary-file suffixes, read from the kernel's /dev/urandom.
// node:crypto is not loaded for them: loading it costs every process several milliseconds of
// start-up, and `strata run` (whose start latency is a target) needs nothing else from it.
import fs from 'node:fs';

let pool: Buffer = Buffer.alloc(0);
let offset = 0;

/** `n` random bytes (a fresh Buffer). */
export function randomBytes(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = readUrandom(Math.max(256, n));
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  pool.fill(0, offset, offset + n); // handed out once only
  offset += n;
  return out;
}

/** A uniformly random integer in [0, max), max <= 2^32. */
export function randomInt(max: number): number {
  if (!Number.isInteger(max) || max <= 0 || max > 2 ** 32) throw new RangeError(`randomInt: invalid bound ${max}`);
  // Rejection sampling: values in the last partial block of 2^32 would favour small results.
  const limit = 2 ** 32 - (2 ** 32 % max);
  for (;;) {
    const value = randomBytes(4).readUInt32BE(0);
    if (value < limit) return value % max;
  }
}

function readUrandom(n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    for (let done = 0; done < n; ) {
      const got = fs.readSync(fd, buf, done, n - done, null);
      if (got <= 0) throw new Error('reading /dev/urandom: no data');
      done += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}
