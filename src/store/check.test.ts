// `system check` at the store level: each kind of damage found (fast: presence and sizes;
// full: hashes), named, and mended by repair where an intact copy allows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/index.js';
import { CacheIndex } from './cache-index.js';
import { checkStore, type CheckReport } from './check.js';
import { openStore, type Store } from './store.js';
import { buildTar } from './tar/build.js';
import type { Image, ImageConfig, LayerInfo } from './types.js';

after(closeHashPool);

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const config = (): ImageConfig => ({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] });
const hex = (d: string) => d.slice(7);

async function withStore(fn: (store: Store, root: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await fn(await openStore(path.join(dir, 'root'), { onWarning: () => undefined }), path.join(dir, 'root'));
  } finally {
    cleanup();
  }
}

/** An image of two layers (a file `big` in the second), its second layer also a cache entry's. */
async function image(store: Store, name = 'localhost/app:1'): Promise<{ img: Image; layers: LayerInfo[] }> {
  const layers = [
    await store.importLayer([buildTar([{ path: 'etc/', type: 'dir' }, { path: 'etc/conf', content: 'x=1\n' }])]),
    await store.importLayer([buildTar([{ path: 'big', content: Buffer.alloc(100_000, 7) }, { path: 'small', content: 'abc' }])]),
  ];
  const img = await store.writeImage(config(), layers, { tags: [name] });
  await new CacheIndex(store.root).record({ key: 'a'.repeat(64), slot: 's', stage: '0', step: 'COPY . /', layer: layers[1].diffId, size: layers[1].size, created: new Date().toISOString() }, { type: 'COPY', parent: 'scratch', instruction: 'COPY . /' });
  return { img, layers };
}

const lines = (r: CheckReport) => r.findings.map((f) => `${f.kind}: ${f.subject}: ${f.problem}${f.repaired ? ` -> ${f.repaired}` : ''}`);
const damaged = (r: CheckReport) => r.findings.filter((f) => f.kind === 'damage' && !f.repaired);

test('an intact store: nothing found, fast or full; the full check hashes every layer and blob', () => withStore(async (store) => {
  const { layers } = await image(store);
  const fast = await checkStore(store);
  assert.deepEqual(lines(fast), []);
  assert.deepEqual([fast.images, fast.layers, fast.blobs, fast.cacheEntries], [1, 2, 2, 1]);
  const full = await checkStore(store, { full: true });
  assert.deepEqual(lines(full), []);
  assert.ok(full.bytesRead >= layers[0].size + layers[1].size);
}));

test('a damaged or missing config or manifest is named with its image; repair drops what points at nothing', () => withStore(async (store) => {
  const { img } = await image(store);
  const other = await store.writeImage({ ...config(), author: 'other' }, [], { tags: ['localhost/other:1'] });
  fs.truncateSync(store.blobs.path(img.id), 10);
  fs.rmSync(store.blobs.path(other.manifestDigest));
  const r = await checkStore(store, { repair: true });
  assert.deepEqual(lines(r), [
    `damage: image "localhost/app:1": config "${img.id}": its content does not match its digest (file "${store.blobs.path(img.id)}")`,
    `damage: image "localhost/other:1": manifest "${other.manifestDigest}": it is missing from the store -> its index entry is dropped (it pointed at nothing)`,
  ]);
  assert.match(r.findings[0].advice!, /strata rmi -f "localhost\/app:1"/);
  await assert.rejects(store.resolveImage('localhost/other:1'), /no such image/);
  await assert.rejects(store.resolveImage('localhost/app:1'), new RegExp(`image "localhost/app:1": config "${img.id}" is damaged`));
  await store.removeImage(img.id); // a damaged image can be removed
  assert.deepEqual(damaged(await checkStore(store)), []);
}));

test('a snapshot file changed in size is found fast; changed in content only by the full check, which names the file', () => withStore(async (store) => {
  const { layers } = await image(store);
  const snap = await store.layerPath(layers[1].diffId);
  const f = fs.openSync(path.join(snap, 'big'), 'r+');
  fs.writeSync(f, Buffer.from('XXXX'), 0, 4, 500);
  fs.closeSync(f);
  assert.deepEqual(lines(await checkStore(store)), []);
  const full = await checkStore(store, { full: true, repair: true });
  assert.deepEqual(lines(full), [
    `damage: image "localhost/app:1": layer "${layers[1].diffId}": file "big" of its snapshot does not hold the layer's content -> its 1 build cache entry is dropped (the next build makes the layer again and replaces the damaged copy)`,
  ]);
  assert.deepEqual(await new CacheIndex(store.root).list(), []);
  fs.truncateSync(path.join(snap, 'small'), 1);
  assert.deepEqual(lines(await checkStore(store)), [`damage: image "localhost/app:1": layer "${layers[1].diffId}": file "small" of its snapshot has 1 bytes, the layer says 3`]);
  // Writing the same layer again replaces the damaged copy (it is verified, not trusted).
  await store.importLayer([buildTar([{ path: 'big', content: Buffer.alloc(100_000, 7) }, { path: 'small', content: 'abc' }])]);
  assert.deepEqual(lines(await checkStore(store, { full: true })), []);
}));

test('a missing snapshot or tar-split is named; a pulled layer is re-made from its compressed blob', () => withStore(async (store) => {
  const { layers } = await image(store);
  fs.rmSync(path.join(store.layersDir, hex(layers[0].diffId)), { recursive: true });
  fs.rmSync(path.join(store.layersDir, `${hex(layers[1].diffId)}.tar-split`));
  assert.deepEqual(lines(await checkStore(store)).sort(), [
    `damage: image "localhost/app:1": layer "${layers[0].diffId}": its snapshot is missing`,
    `damage: image "localhost/app:1": layer "${layers[1].diffId}": its tar-split is missing`,
  ].sort());
  // A pulled image keeps the registry's compressed blob: its layer can be re-made.
  const tar = buildTar([{ path: 'pulled', content: 'from a registry' }]);
  const gz = gzipSync(tar);
  const pulled = await store.importCompressedLayer([gz], { digest: sha(gz), diffId: sha(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
  assert.equal(pulled.digest, sha(gz));
  assert.ok(await store.blobs.has(sha(gz)), 'the compressed blob is kept');
  const img = await store.writeImage(config(), [pulled], { tags: ['localhost/pulled:1'] });
  assert.equal(img.manifest.layers[0].digest, sha(gz), 'the manifest names the compressed blob');
  const snap = await store.layerPath(pulled.diffId);
  fs.rmSync(snap, { recursive: true });
  assert.equal(fs.readFileSync(path.join(await store.layerPath(pulled.diffId), 'pulled'), 'utf8'), 'from a registry', 're-made on use');
  fs.writeFileSync(path.join(snap, 'pulled'), 'altered!!!!!!!!');
  const r = await checkStore(store, { full: true, repair: true });
  assert.ok(lines(r).includes(`damage: image "localhost/pulled:1": layer "${pulled.diffId}": file "pulled" of its snapshot does not hold the layer's content -> re-made from blob "${sha(gz)}"`), lines(r).join('\n'));
  assert.equal(fs.readFileSync(path.join(snap, 'pulled'), 'utf8'), 'from a registry');
  // The compressed blob itself damaged: the image still runs from its layer; pulling again mends it.
  fs.truncateSync(store.blobs.path(sha(gz)), 5);
  assert.ok(lines(await checkStore(store)).includes(`damage: image "localhost/pulled:1": layer blob "${sha(gz)}": it has 5 bytes, its image's manifest says ${gz.length}`));
}));

test('a damaged tar-split, an unreferenced damaged blob, leftovers of dead writers', () => withStore(async (store, root) => {
  const { layers } = await image(store);
  const split = path.join(store.layersDir, `${hex(layers[0].diffId)}.tar-split`);
  fs.truncateSync(split, fs.statSync(split).size - 3);
  const stray = await store.blobs.writeBytes('not referenced');
  fs.writeFileSync(store.blobs.path(stray.digest), 'changed');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  fs.writeFileSync(path.join(root, 'tmp', `.tmp-${dead}-abc`), 'partial');
  const r = await checkStore(store, { full: true, repair: true });
  assert.deepEqual(lines(r), [
    `damage: image "localhost/app:1": layer "${layers[0].diffId}": tar-split file is truncated or not a tar-split`,
    `leftover: blob "${stray.digest}": its content does not match its digest (file "${store.blobs.path(stray.digest)}") (no image uses it) -> removed`,
    `leftover: "${path.join(root, 'tmp', `.tmp-${dead}-abc`)}": left by a writer that is gone (pid ${dead}) -> removed`,
  ]);
  assert.match(r.findings[0].advice!, /no intact copy is kept: remove image "localhost\/app:1"/);
}));

test('a damaged index.json is rebuilt from the manifests the store holds (names lost), the damaged file kept', () => withStore(async (store, root) => {
  const { img } = await image(store);
  fs.writeFileSync(path.join(root, 'index.json'), 'garbage{{{');
  await assert.rejects(store.listImages(), new RegExp(`^DamagedError: store index "${path.join(root, 'index.json')}" is damaged: it is not valid JSON$`));
  const r = await checkStore(store, { repair: true });
  assert.match(lines(r)[0], /store index ".*index.json": it is not valid JSON -> rebuilt with 1 unnamed image\(s\); the damaged file is kept as ".*index.json.damaged-\d+"/);
  const images = await store.listImages();
  assert.deepEqual(images.map((i) => [i.id, i.names]), [[img.id, []]]);
  assert.ok(fs.readdirSync(root).some((n) => n.startsWith('index.json.damaged-')));
}));

test('a previous-layout layer is noted and converted by repair; a garbage cache index and container record are named', () => withStore(async (store, root) => {
  const tar = buildTar([{ path: 'f', content: 'legacy' }]);
  await store.blobs.writeBytes(tar);
  fs.mkdirSync(path.join(store.layersDir, hex(sha(tar))));
  fs.writeFileSync(path.join(store.layersDir, hex(sha(tar)), 'f'), 'legacy');
  await store.writeImage(config(), [{ diffId: sha(tar), digest: sha(tar), size: tar.length, mediaType: 'application/vnd.oci.image.layer.v1.tar' }], { tags: ['localhost/old:1'] });
  fs.mkdirSync(path.join(root, 'build', 'cache'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', 'cache', 'index.json'), '{"version":1,');
  const id = 'c'.repeat(64);
  fs.mkdirSync(path.join(root, 'containers', id), { recursive: true });
  fs.writeFileSync(path.join(root, 'containers', id, 'config.json'), '{"Id":');
  const r = await checkStore(store, { full: true, repair: true });
  assert.deepEqual(lines(r).map((l) => l.replace(/damaged-\d+/, 'damaged-N')), [
    `damage: container "${id.slice(0, 12)}": its record "${path.join(root, 'containers', id, 'config.json')}" is not valid JSON`,
    `damage: build cache index "${path.join(root, 'build', 'cache', 'index.json')}": it is not valid JSON (builds start with an empty cache) -> moved to "${path.join(root, 'build', 'cache', 'index.json')}.damaged-N"; the cache starts over`,
    `note: layer "${sha(tar)}": kept in the previous layout (a tar blob beside its snapshot) -> converted (snapshot and tar-split; the tar blob is removed)`,
  ]);
  assert.equal(await store.blobs.has(sha(tar)), false);
  fs.rmSync(path.join(root, 'containers', id), { recursive: true });
  assert.deepEqual(lines(await checkStore(store, { full: true })), []);
}));
