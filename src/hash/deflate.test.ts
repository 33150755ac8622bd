import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { gzipBlocks } from './deflate.js';
import { closeHashPool } from './pool.js';

after(() => closeHashPool());

async function gzip(data: Buffer, o: Parameters<typeof gzipBlocks>[1], chunk = 65536): Promise<Buffer> {
  const source = (async function* () {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  })();
  const parts: Buffer[] = [];
  for await (const c of gzipBlocks(source, o)) parts.push(c);
  return Buffer.concat(parts);
}

// Half random (stored blocks), half repetitive text (deflated), block boundaries inside both.
const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(60000));
const data = Buffer.concat([randomBytes(3 * 256 * 1024 + 17), text]);

test('block-parallel gzip is one valid gzip stream of the input', async () => {
  const out = await gzip(data, { blockSize: 256 * 1024 });
  assert.ok(gunzipSync(out).equals(data));
  assert.ok(out.length < data.length * 0.7, `compressed ${out.length} of ${data.length}`);
});

test('the same layer always gives the same bytes: pool or this thread, any chunking', async () => {
  const a = await gzip(data, { blockSize: 256 * 1024 });
  const b = await gzip(data, { blockSize: 256 * 1024, inline: true }, 4096);
  const c = await gzip(data, { blockSize: 256 * 1024 }, 1_000_003);
  const digest = (x: Buffer) => createHash('sha256').update(x).digest('hex');
  assert.equal(digest(a), digest(b));
  assert.equal(digest(a), digest(c));
  // A different block size is a different (still valid) stream: the block size is part of the format.
  const d = await gzip(data, { blockSize: 128 * 1024 });
  assert.ok(gunzipSync(d).equals(data));
});

test('empty and single-block inputs', async () => {
  for (const input of [Buffer.alloc(0), Buffer.from('hello\n'), Buffer.alloc(256 * 1024, 1)]) {
    const out = await gzip(input, { blockSize: 256 * 1024 });
    assert.ok(gunzipSync(out).equals(input));
    assert.deepEqual(await gzip(input, { blockSize: 256 * 1024 }), out);
  }
});
