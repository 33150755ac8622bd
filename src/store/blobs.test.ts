import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { closeHashPool } from '../hash/pool.js';
import { INLINE_HASH_BYTES } from '../hash/file-hash.js';
import { tempDir } from '../testing/cli.js';
import { BlobStore } from './blobs.js';

after(closeHashPool);

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Yields `data` in pieces of `size` through one reused buffer, as packLayer does. */
async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.alloc(size);
  for (let off = 0; off < data.length; off += size) {
    const n = data.copy(buf, 0, off, off + size);
    yield buf.subarray(0, n);
    buf.fill(0xee); // a consumer that kept the previous chunk would now hash garbage
  }
}

function store(): { blobs: BlobStore; cleanup: () => void } {
  const { dir, cleanup } = tempDir();
  const blobs = new BlobStore(dir, path.join(dir, 'tmp'));
  fs.mkdirSync(blobs.dir, { recursive: true });
  fs.mkdirSync(blobs.tmpDir, { recursive: true });
  return { blobs, cleanup };
}

test('writeStream: small blobs (hashed on this thread) and big ones (handed to the pool midway) get the right digest and bytes', async () => {
  const { blobs, cleanup } = store();
  try {
    const sizes = [0, 1, 1 << 20, INLINE_HASH_BYTES, INLINE_HASH_BYTES + 1, INLINE_HASH_BYTES + 3 * 1024 * 1024 + 7];
    for (const size of sizes) {
      const data = randomBytes(size);
      const r = await blobs.writeStream(chunked(data, 1 << 20 | 13));
      assert.equal(r.digest, sha(data), `digest of ${size} bytes`);
      assert.equal(r.size, size);
      assert.ok(fs.readFileSync(blobs.path(r.digest)).equals(data), `content of ${size} bytes`);
    }
    assert.deepEqual(fs.readdirSync(blobs.tmpDir), [], 'no temp file left');
  } finally {
    cleanup();
  }
});

test('writeStream: a wrong expected digest fails on both paths and leaves nothing behind', async () => {
  const { blobs, cleanup } = store();
  try {
    for (const size of [100, INLINE_HASH_BYTES + 100]) {
      const data = randomBytes(size);
      await assert.rejects(blobs.writeStream(chunked(data, 1 << 20), sha(Buffer.from('other'))), /digest mismatch/);
      assert.equal(await blobs.has(sha(data)), false);
    }
    assert.deepEqual(fs.readdirSync(blobs.tmpDir), []);
  } finally {
    cleanup();
  }
});

test('writeStream: a sizeHint over the inline limit sends the blob to the pool from its first chunk, same digest', async () => {
  const { blobs, cleanup } = store();
  try {
    for (const size of [10, 3 * 1024 * 1024 + 5]) {
      const data = randomBytes(size);
      const r = await blobs.writeStream(chunked(data, 1 << 20), undefined, { sizeHint: () => INLINE_HASH_BYTES + 1 });
      assert.equal(r.digest, sha(data));
      assert.ok(fs.readFileSync(blobs.path(r.digest)).equals(data));
    }
  } finally {
    cleanup();
  }
});
