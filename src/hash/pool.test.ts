import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../testing/cli.js';
import { closeHashPool, createStreamHasher, hashFile, hashFiles } from './pool.js';

after(closeHashPool);

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('hashFiles hashes many small files and a multi-chunk one, in order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const paths: string[] = [];
    const contents: Buffer[] = [];
    for (let i = 0; i < 600; i++) {
      const c = Buffer.from(`file ${i}\n`.repeat(i % 7));
      const p = path.join(dir, `f${i}`);
      fs.writeFileSync(p, c);
      paths.push(p);
      contents.push(c);
    }
    const big = randomBytes(3 * 1024 * 1024 + 17);
    fs.writeFileSync(path.join(dir, 'big'), big);
    paths.splice(300, 0, path.join(dir, 'big'));
    contents.splice(300, 0, big);
    const got = await hashFiles(paths);
    assert.deepEqual(got, contents.map(sha));
    assert.equal(await hashFile(path.join(dir, 'big')), sha(big));
    assert.deepEqual(await hashFiles([]), []);
  } finally {
    cleanup();
  }
});

test('hashFiles rejects a missing file', async () => {
  await assert.rejects(hashFiles(['/nonexistent/strata-file']), /ENOENT/);
});

test('createStreamHasher matches sha256 of the whole stream and leaves the caller buffers intact', async () => {
  const data = randomBytes(5 * 1024 * 1024 + 3);
  const h = createStreamHasher();
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += 65_537) {
    const chunk = data.subarray(off, off + 65_537);
    chunks.push(chunk);
    if (!h.update(chunk)) await h.drained();
  }
  assert.equal(await h.digest(), sha(data));
  assert.equal(Buffer.concat(chunks).length, data.length, 'chunks still readable after update');
  const empty = createStreamHasher();
  assert.equal(await empty.digest(), sha(Buffer.alloc(0)));
});

test('several stream hashers run at once', async () => {
  const inputs = Array.from({ length: 20 }, (_, i) => randomBytes(100_000 + i));
  const hashers = inputs.map(() => createStreamHasher());
  inputs.forEach((d, i) => hashers[i].update(d));
  const got = await Promise.all(hashers.map((h) => h.digest()));
  assert.deepEqual(got, inputs.map(sha));
});

test('a pass hasher hashes without copying and hands every buffer back in order', async () => {
  const { createPassHasher } = await import('./pool.js');
  const { createHash, randomBytes } = await import('node:crypto');
  const parts = [randomBytes(1 << 20), Buffer.from('small, from the shared pool'), randomBytes(3000)];
  const owned = Buffer.allocUnsafeSlow(parts[0].length);
  parts[0].copy(owned);
  const expected = parts.map((p) => Buffer.from(p));
  const h = createPassHasher();
  const back = await Promise.all([h.pass(owned), h.pass(parts[1]), h.pass(parts[2])]);
  assert.equal(owned.length, 0, 'an owned buffer is moved, not copied');
  assert.equal(parts[1].length, 27, 'a buffer sharing its memory is copied');
  back.forEach((b, i) => assert.ok(b.equals(expected[i])));
  parts.splice(0, 3, ...expected);
  assert.equal(await h.digest(), createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
});
