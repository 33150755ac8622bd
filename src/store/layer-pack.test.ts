// Packing a layer from a directory another process may change meanwhile (a running container's
// upper dir, `commit --pause=false`): nothing is read through a directory swapped for a symlink
// after the walk, which the host would follow out of the upper dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { packLayer } from './layer-pack.js';

test('a file whose directory becomes a symlink out after the walk is refused, not read from outside', async () => {
  const t = tempDir('strata-pack-');
  try {
    const upper = path.join(t.dir, 'upper');
    const outside = path.join(t.dir, 'outside');
    fs.mkdirSync(path.join(upper, 'z'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(upper, 'a.txt'), 'a\n');
    fs.writeFileSync(path.join(upper, 'z', 'secret.txt'), 'placeholder\n');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'HOST SECRET\n');
    const chunks: Buffer[] = [];
    // Between the walk and the reads, as a container would: z moved aside, a link to the host in its place.
    const swap = () => {
      fs.renameSync(path.join(upper, 'z'), path.join(upper, 'z.real'));
      fs.symlinkSync(outside, path.join(upper, 'z'));
    };
    await assert.rejects(async () => {
      for await (const c of packLayer(upper, { onWalked: swap })) chunks.push(Buffer.from(c));
    }, /^StrataError: file "z\/secret.txt" was replaced while it was packed$/);
    assert.ok(!Buffer.concat(chunks).includes('HOST SECRET'));
    // Untouched, the same tree packs.
    fs.rmSync(path.join(upper, 'z'));
    fs.renameSync(path.join(upper, 'z.real'), path.join(upper, 'z'));
    const tar = [];
    for await (const c of packLayer(upper)) tar.push(Buffer.from(c));
    assert.ok(Buffer.concat(tar).includes('placeholder\n'));
  } finally {
    t.cleanup();
  }
});
