import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/pool.js';
import { openStore, type Store } from './store.js';
import { buildTar } from './tar/build.js';
import { readIndex, REF_NAME } from './index-file.js';
import type { ImageConfig, LayerInfo } from './types.js';

after(closeHashPool);

const config = (cmd: string): ImageConfig => ({
  architecture: 'amd64', os: 'linux', config: { Cmd: [cmd] }, rootfs: { type: 'layers', diff_ids: [] }, history: [],
});

async function withStore(fn: (store: Store, root: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await fn(await openStore(dir), dir);
  } finally {
    cleanup();
  }
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

async function layer(store: Store, content: string): Promise<LayerInfo> {
  return store.importLayer([buildTar([{ path: 'f', content }])]);
}

test('a new store is an OCI layout', () => withStore(async (_s, root) => {
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  assert.deepEqual((await readIndex(path.join(root, 'index.json'))).manifests, []);
}));

test('writeImage, resolve by name, ID, ID prefix and manifest digest', () => withStore(async (store) => {
  const l = await layer(store, 'one');
  const img = await store.writeImage(config('a'), [l], { tags: ['app:1', 'localhost/other'] });
  assert.deepEqual(img.names, ['docker.io/library/app:1', 'localhost/other:latest']);
  assert.deepEqual(img.config.rootfs.diff_ids, [l.diffId]);
  for (const ref of ['app:1', 'docker.io/library/app:1', 'localhost/other', img.id, img.id.slice(7), img.id.slice(7, 19), `app@${img.manifestDigest}`]) {
    assert.equal((await store.resolveImage(ref)).id, img.id, ref);
  }
  await assert.rejects(store.resolveImage('app:2'), /no such image: "app:2"/);
  const snap = await store.layerPath(l.diffId);
  assert.equal(fs.readFileSync(path.join(snap, 'f'), 'utf8'), 'one');
}));

test('moving a tag leaves the old image unnamed; untag and removeImage collect its blobs', () => withStore(async (store) => {
  const a = await store.writeImage(config('a'), [await layer(store, 'a')], { tags: ['x'] });
  const b = await store.writeImage(config('b'), [await layer(store, 'b')], { tags: ['x'] });
  let images = await store.listImages();
  assert.equal(images.length, 2);
  assert.deepEqual(images.find((i) => i.id === a.id)!.names, [], 'old image is dangling');
  assert.deepEqual(images.find((i) => i.id === b.id)!.names, ['docker.io/library/x:latest']);
  await store.tag(b.id, 'y:2');
  assert.equal(await store.untag('x'), true);
  assert.equal(await store.untag('x'), false);
  assert.deepEqual((await store.resolveImage(b.id)).names, ['docker.io/library/y:2']);
  await store.removeImage(a.id);
  images = await store.listImages();
  assert.deepEqual(images.map((i) => i.id), [b.id]);
  assert.equal(await store.blobs.has(a.id), false, 'config blob removed');
  assert.equal(await store.blobs.has(a.manifestDigest), false, 'manifest blob removed');
  assert.equal(await store.hasLayer(a.config.rootfs.diff_ids[0]), false, 'layer removed');
  assert.equal(fs.existsSync(path.join(store.layersDir, a.config.rootfs.diff_ids[0].slice(7))), false, 'snapshot removed');
}));

test('a layer shared by two images survives the removal of one', () => withStore(async (store) => {
  const l = await layer(store, 'shared');
  const a = await store.writeImage(config('a'), [l], { tags: ['a'] });
  await store.writeImage(config('b'), [l], { tags: ['b'] });
  await store.removeImage(a.id);
  assert.ok(await store.hasLayer(l.diffId));
  assert.ok(fs.existsSync(await store.layerPath(l.diffId)));
}));

test('a layer is kept once: its snapshot and tar-split, no tar blob; the tar rebuilds byte for byte', () => withStore(async (store) => {
  const tar = buildTar([{ path: 'd/', mode: 0o750 }, { path: 'd/f', content: 'x'.repeat(1000) }, { path: 'l', type: 'symlink', linkpath: 'd/f' }, { path: 'e', content: '' }]);
  const l = await store.importLayer([tar]);
  assert.equal(l.diffId, sha(tar));
  assert.equal(l.size, tar.length);
  assert.deepEqual(await store.blobs.list(), [], 'no layer blob');
  assert.deepEqual(fs.readdirSync(store.layersDir).sort(), [l.diffId.slice(7), `${l.diffId.slice(7)}.tar-split`]);
  assert.ok(Buffer.concat(await collect(store.layerTarStream(l.diffId))).equals(tar));
  assert.equal(await store.layerSize(l.diffId), tar.length);
}));

test('a missing snapshot with no copy to re-make it from is named', () => withStore(async (store) => {
  const l = await layer(store, 'gone');
  fs.rmSync(await store.layerPath(l.diffId), { recursive: true });
  await assert.rejects(store.layerPath(l.diffId), new RegExp(`^DamagedError: layer "${l.diffId}" is damaged: its snapshot ".*" is missing$`));
}));

test('a store of the previous layout (layer tar blobs) is read, and converted when a snapshot is re-made', () => withStore(async (store) => {
  const tar = buildTar([{ path: 'f', content: 'legacy' }]);
  const diffId = sha(tar);
  // As the previous version left it: the tar as a blob, the snapshot beside it, no tar-split.
  await store.blobs.writeBytes(tar);
  fs.mkdirSync(path.join(store.layersDir, diffId.slice(7)));
  fs.writeFileSync(path.join(store.layersDir, diffId.slice(7), 'f'), 'legacy');
  assert.ok(await store.hasLayer(diffId));
  assert.ok(Buffer.concat(await collect(store.layerTarStream(diffId))).equals(tar), 'read from the blob');
  fs.rmSync(path.join(store.layersDir, diffId.slice(7)), { recursive: true });
  assert.equal(fs.readFileSync(path.join(await store.layerPath(diffId), 'f'), 'utf8'), 'legacy', 're-made from the blob');
  assert.equal(await store.blobs.has(diffId), false, 'converted: the blob is gone');
  assert.ok(fs.existsSync(path.join(store.layersDir, `${diffId.slice(7)}.tar-split`)));
  assert.ok(Buffer.concat(await collect(store.layerTarStream(diffId))).equals(tar), 'rebuilt');
}));

test('digests are validated before a path is built', () => withStore(async (store) => {
  await assert.rejects(store.layerPath('sha256:../../../etc'), /invalid digest/);
  await assert.rejects(store.layerPath(`sha256:${'A'.repeat(64)}`), /invalid digest/);
  await assert.rejects(store.tag('../x', 'y'), /invalid image ID/);
  await assert.rejects(store.importLayer([buildTar([{ path: 'f' }])], `sha256:${'0'.repeat(64)}`), /digest mismatch/);
}));

test('a refused layer is not kept in the store', () => withStore(async (store) => {
  await assert.rejects(store.importLayer([buildTar([{ path: '../evil', content: 'x' }])]), /escapes the root/);
  assert.deepEqual(await store.blobs.list(), []);
}));

test('leftovers of a killed writer are collected; garbage collection frees unreferenced blobs', () => withStore(async (store, root) => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const tmpFile = path.join(root, 'tmp', `.tmp-${dead}-abc`);
  const tmpSnap = path.join(root, 'layers', `.tmp-${dead}-def`);
  const tmpIndex = path.join(root, `.tmp-${dead}-fff`);
  fs.writeFileSync(tmpFile, 'partial');
  fs.mkdirSync(tmpSnap);
  fs.writeFileSync(tmpIndex, '{"schemaVersion": 2, "manif');
  fs.writeFileSync(path.join(root, 'lock'), `${dead} 1\n`); // the killed writer held the lock
  const orphan = await layer(store, 'orphan'); // a write: cleans up first
  assert.equal(fs.existsSync(tmpFile), false);
  assert.equal(fs.existsSync(tmpSnap), false);
  assert.equal(fs.existsSync(tmpIndex), false);
  const kept = await layer(store, 'kept');
  const img = await store.writeImage(config('k'), [kept], { tags: ['k'] });
  assert.equal(await store.collectGarbage(), 0, 'fresh blobs are spared by default');
  assert.ok(await store.hasLayer(orphan.diffId));
  const freed = await store.collectGarbage({ minAgeMs: 0 });
  assert.ok(freed > 0);
  assert.equal(await store.hasLayer(orphan.diffId), false);
  assert.ok(await store.hasLayer(kept.diffId));
  assert.ok(await store.blobs.has(img.manifestDigest));
  const idx = await store.readIndex();
  assert.deepEqual(idx.manifests.map((d) => d.annotations?.[REF_NAME]), ['docker.io/library/k:latest']);
}));

test('entries skipped while extracting are reported through onWarning', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const warnings: string[] = [];
    const store = await openStore(dir, { onWarning: (m) => warnings.push(m) });
    await store.importLayer([buildTar([{ path: 'null', type: 'char', devmajor: 1, devminor: 3 }, { path: 'ok', content: 'x' }])]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^layer [a-f0-9]{12}: skipping char entry "null"/);
  } finally {
    cleanup();
  }
});
