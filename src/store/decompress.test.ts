import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { decompressed, sniff } from './decompress.js';
import { buildTar } from './tar/build.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function all(src: Buffer, max?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of decompressed([src.subarray(0, 7), src.subarray(7)], max)) out.push(c);
  return Buffer.concat(out);
}

test('plain and gzip archives pass through decompressed', async () => {
  const tar = buildTar([{ path: 'a', content: 'hello' }]);
  assert.ok((await all(tar)).equals(tar));
  assert.ok((await all(gzipSync(tar))).equals(tar));
  assert.equal(sniff(tar), undefined);
});

for (const [codec, args] of [['bzip2', ['-c']], ['xz', ['-c']], ['zstd', ['-c', '-q']]] as const) {
  test(`${codec} archives are decompressed`, { skip: !has(codec) && `${codec} is not installed` }, async () => {
    const tar = buildTar([{ path: 'a', content: 'x'.repeat(10_000) }]);
    const packed = spawnSync(codec, args, { input: tar }).stdout;
    assert.equal(sniff(packed), codec);
    assert.ok((await all(packed)).equals(tar));
    await assert.rejects(all(packed, 1000), /archive too large/);
  });
}
