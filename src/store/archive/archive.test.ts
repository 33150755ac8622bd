// load/save at the store level: archives written by podman (fixtures), crafted OCI archives
// with gzip'ed layers, and hostile archives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { tempDir, testdataDir } from '../../testing/cli.js';
import { closeHashPool } from '../../hash/pool.js';
import { openStore, type Store } from '../store.js';
import { buildTar } from '../tar/build.js';
import { loadArchive } from './load.js';
import { saveImages } from './save.js';

after(closeHashPool);

const PODMAN_ID = 'sha256:b06b6a75b321c1ca96df22a109388e281afca1d5e5807bfdccbd06748cc16144';
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function withStore(fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const t = tempDir();
  try {
    await fn(await openStore(path.join(t.dir, 'root')), t.dir);
  } finally {
    t.cleanup();
  }
}

for (const [fixture, inMemoryMax] of [['podman-docker-archive.tar', undefined], ['podman-oci-archive.tar', undefined], ['podman-docker-archive.tar', 0], ['podman-oci-archive.tar', 0]] as const) {
  // inMemoryMax 0: every file takes the large-file path (layers imported early, JSON spooled).
  test(`loads ${fixture} as podman wrote it, keeping the image ID (in-memory limit ${inMemoryMax ?? 'default'})`, () => withStore(async (store) => {
    const r = await loadArchive(store, fs.createReadStream(path.join(testdataDir, 'store', fixture)), { inMemoryMax });
    assert.deepEqual(r.images, [{ id: PODMAN_ID, names: ['localhost/strata-fixture:podman'] }]);
    const img = await store.resolveImage('localhost/strata-fixture:podman');
    assert.deepEqual(img.config.config.Cmd, ['/bin/sh']);
    const snap = await store.layerPath(img.config.rootfs.diff_ids[0]);
    assert.equal(fs.readFileSync(path.join(snap, 'etc/podman-fixture'), 'utf8'), 'made by podman import\n');
  }));
}

/** An OCI archive with one gzip'ed layer, built by hand. */
function ociArchive(opts: { layerTar: Buffer; diffId?: string; refName?: string; configName?: string }): Buffer {
  const gz = gzipSync(opts.layerTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [opts.diffId ?? sha(opts.layerTar)] }, history: [] }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(gz), size: gz.length }],
  }));
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': opts.refName ?? 'localhost/crafted:1' } }] };
  const blob = (b: Buffer) => ({ path: `blobs/sha256/${sha(b).slice(7)}`, content: b });
  return buildTar([{ path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' }, { path: 'index.json', content: JSON.stringify(index) }, blob(gz), blob(config), blob(manifest)]);
}

test('loads an OCI archive with a gzip layer; a bare tag ref.name names nothing', () => withStore(async (store) => {
  const layerTar = buildTar([{ path: 'data.txt', content: 'gz' }]);
  const r = await loadArchive(store, [ociArchive({ layerTar })]);
  assert.deepEqual(r.images[0].names, ['localhost/crafted:1']);
  const img = await store.resolveImage('localhost/crafted:1');
  assert.equal(img.manifest.layers[0].digest, sha(layerTar), 'stored uncompressed');
  const r2 = await loadArchive(store, [ociArchive({ layerTar, refName: 'latest' })]);
  assert.deepEqual(r2.images[0].names, []);
  assert.match(r2.warnings.join(), /not a full image reference/);
}));

test('refuses a layer whose content does not match the diff_id', () => withStore(async (store) => {
  const layerTar = buildTar([{ path: 'a', content: 'a' }]);
  await assert.rejects(loadArchive(store, [ociArchive({ layerTar, diffId: sha('something else') })]), /digest mismatch/);
  await assert.rejects(loadArchive(store, [ociArchive({ layerTar, diffId: sha('something else') })], { inMemoryMax: 0 }), /digest mismatch/);
  assert.deepEqual(await store.listImages(), []);
}));

test('refuses archives whose names or links point outside', () => withStore(async (store) => {
  const escaping = buildTar([{ path: 'manifest.json', content: JSON.stringify([{ Config: '../../etc/passwd', RepoTags: ['x'], Layers: [] }]) }]);
  await assert.rejects(loadArchive(store, [escaping]), /escapes the root/);
  const link = buildTar([{ path: 'l/layer.tar', type: 'symlink', linkpath: '../../outside.tar' }, { path: 'manifest.json', content: '[]' }]);
  await assert.rejects(loadArchive(store, [link]), /link points outside the archive/);
  await assert.rejects(loadArchive(store, [buildTar([{ path: 'x', content: 'y' }])]), /neither a docker-archive nor an OCI layout/);
}));

test('a hostile layer inside a loaded archive is refused', () => withStore(async (store) => {
  const layerTar = buildTar([{ path: '../escape', content: 'x' }]);
  await assert.rejects(loadArchive(store, [ociArchive({ layerTar })]), /escapes the root/);
  await assert.rejects(loadArchive(store, [ociArchive({ layerTar })], { inMemoryMax: 0 }), /escapes the root/);
  assert.deepEqual(await store.listImages(), []);
}));

test('save writes what load reads, in both formats, streaming to any writable', () => withStore(async (store, dir) => {
  await loadArchive(store, fs.createReadStream(path.join(testdataDir, 'store', 'podman-docker-archive.tar')));
  const image = await store.resolveImage(PODMAN_ID);
  for (const format of ['docker-archive', 'oci-archive'] as const) {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await saveImages(store, [{ image, names: image.names }], out, format);
    const other = await openStore(path.join(dir, format));
    const r = await loadArchive(other, [Buffer.concat(chunks)]);
    assert.deepEqual(r.images, [{ id: PODMAN_ID, names: ['localhost/strata-fixture:podman'] }]);
  }
}));
