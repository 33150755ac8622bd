import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes, randomInt } from './random.js';

describe('random', () => {
  it('hands out bytes that differ and are never reused', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(randomBytes(8).toString('hex'));
    assert.equal(seen.size, 2000);
    assert.equal(randomBytes(32).length, 32);
    assert.equal(randomBytes(1000).length, 1000); // more than one pool
  });

  it('draws integers in range, every value reachable', () => {
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[randomInt(7)]!++;
    for (const c of counts) assert.ok(c > 700 && c < 1300, `skewed counts ${counts.join(',')}`);
    assert.equal(randomInt(1), 0);
    assert.throws(() => randomInt(0), RangeError);
  });
});
