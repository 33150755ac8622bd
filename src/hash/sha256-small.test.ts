import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { sha256HexSmall } from './sha256-small.js';

const reference = (data: Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

describe('sha256HexSmall', () => {
  it("gives FIPS 180-4's test vectors", () => {
    assert.equal(sha256HexSmall(Buffer.from('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256HexSmall(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(sha256HexSmall(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it("agrees with node:crypto on every length around the block and padding edges, and on random data", () => {
    for (let n = 0; n <= 300; n++) {
      const data = crypto.randomBytes(n);
      assert.equal(sha256HexSmall(data), reference(data), `length ${n}`);
    }
    for (const n of [1023, 1024, 4096, 16 * 1024, 65_537]) {
      const data = crypto.randomBytes(n);
      assert.equal(sha256HexSmall(data), reference(data), `length ${n}`);
    }
  });

  it('hashes a view into a larger buffer by its own bytes only', () => {
    const big = crypto.randomBytes(200);
    const view = big.subarray(17, 150);
    assert.equal(sha256HexSmall(view), reference(Buffer.from(view)));
  });
});
