// A seeded pseudo-random generator for property tests: the same seed gives the same cases,
// so a failure can be replayed.

export type Random = () => number;

/** mulberry32: small, fast, good enough to pick mutations and inputs. Returns floats in [0, 1). */
export function prng(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
