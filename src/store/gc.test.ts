// The one collector (gc.ts): what is live — images, cache entries, containers, leases of live
// owners — survives collectGarbage even when old; a lease of a dead owner holds nothing and is swept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { tempDir } from '../testing/cli.js';
import { ensureBusybox } from '../testing/busybox.js';
import { ContainerStore } from './containers.js';
import { initialState, newContainerId, type ContainerRecord } from './container-record.js';
import { leasedDigests, leasedImages, Lease, leasesDir } from './leases.js';
import { openStore, type Store } from './store.js';

after(closeHashPool);

async function setup(): Promise<{ store: Store; layer: string; cleanup: () => void }> {
  const t = tempDir('strata-gc-');
  const store = await openStore(path.join(t.dir, 'root'));
  const img = await ensureBusybox(store);
  return { store, layer: img.config.rootfs.diff_ids[0]!, cleanup: t.cleanup };
}

/** A container record (no files) using image IMAGE with root layer LAYER; its ID. */
async function containerOn(root: string, image: string, layer: string): Promise<string> {
  const id = newContainerId();
  await new ContainerStore(root).create({
    Id: id, Name: `/c${id.slice(0, 8)}`, Created: new Date().toISOString(), Path: 'sh', Args: [], State: initialState(),
    Image: image, Config: { Image: 'busybox' }, HostConfig: {}, Mounts: [], RestartCount: 0, Driver: 'overlay', Platform: 'linux',
    Strata: { layers: [layer] },
  } as unknown as ContainerRecord);
  return id;
}

test('a live lease keeps a layer no image holds through rmi and a collection; released, it goes', async () => {
  const { store, layer, cleanup } = await setup();
  try {
    const lease = Lease.create(store.root, 'test');
    const present = await lease.add([layer], async () => store.hasLayer(layer));
    assert.equal(present, true);
    await store.removeImage((await store.resolveImage('busybox')).id);
    assert.ok(await store.hasLayer(layer), 'rmi left the leased layer');
    await store.collectGarbage({ minAgeMs: 0 });
    assert.ok(await store.hasLayer(layer), 'the collector left the leased layer');
    await lease.release();
    await store.collectGarbage({ minAgeMs: 0 });
    assert.equal(await store.hasLayer(layer), false, 'released, the layer is garbage');
    assert.deepEqual(await store.blobs.list(), []);
  } finally {
    cleanup();
  }
});

test("a dead owner's lease holds nothing and is swept (a killed build never pins for good)", async () => {
  const { store, layer, cleanup } = await setup();
  try {
    const dead = spawnSync('true').pid!; // exited: its pid is free
    fs.mkdirSync(leasesDir(store.root), { recursive: true });
    const record = JSON.stringify({ purpose: 'build', created: new Date().toISOString(), digests: [layer] });
    // One whose pid is gone, one whose pid is now another process (this one, started at another time).
    fs.writeFileSync(path.join(leasesDir(store.root), `${dead}.123-aaaaaa.json`), record);
    fs.writeFileSync(path.join(leasesDir(store.root), `${process.pid}.1-bbbbbb.json`), record);
    assert.deepEqual([...(await leasedDigests(store.root))], []);
    assert.deepEqual(fs.readdirSync(leasesDir(store.root)), [], 'swept');
    await store.removeImage((await store.resolveImage('busybox')).id);
    assert.equal(await store.hasLayer(layer), false);
  } finally {
    cleanup();
  }
});

test("a container's image config and layers are live; what nothing holds is collected", async () => {
  const { store, layer, cleanup } = await setup();
  try {
    const img = await store.resolveImage('busybox');
    const id = await containerOn(store.root, img.id, layer);
    await store.untag('busybox');
    await store.updateIndex((idx) => void (idx.manifests = [])); // the image is gone from the index
    await store.collectGarbage({ minAgeMs: 0 });
    assert.ok(await store.hasLayer(layer), "the container's layer stays");
    assert.ok(await store.blobs.has(img.id), "the container's image config stays");
    assert.equal(await store.blobs.has(img.manifestDigest), false, 'the manifest nothing holds goes');
    await new ContainerStore(store.root).remove(id);
    await store.collectGarbage({ minAgeMs: 0 });
    assert.equal(await store.hasLayer(layer), false);
  } finally {
    cleanup();
  }
});

test("a container record that cannot be read stops a collection: the layers it may hold are unknown", async () => {
  const { store, layer, cleanup } = await setup();
  try {
    const img = await store.resolveImage('busybox');
    const containers = new ContainerStore(store.root);
    const id = newContainerId();
    await containers.create({
      Id: id, Name: `/c${id.slice(0, 8)}`, Created: new Date().toISOString(), Path: 'sh', Args: [], State: initialState(),
      Image: img.id, Config: { Image: 'busybox' }, HostConfig: {}, Mounts: [], RestartCount: 0, Driver: 'overlay', Platform: 'linux',
      Strata: { layers: [layer] },
    } as unknown as ContainerRecord);
    fs.writeFileSync(containers.paths(id).config, '{"Id": "'); // torn, as by a disk that lost its tail
    await assert.rejects(store.removeImage(img.id), /is damaged: its record .* is not valid JSON/);
    await store.updateIndex((idx) => void (idx.manifests = []));
    await assert.rejects(store.collectGarbage({ minAgeMs: 0 }), /is damaged/);
    assert.ok(await store.hasLayer(layer), "the damaged container's layer stays");
    assert.ok(await store.blobs.has(img.id));
  } finally {
    cleanup();
  }
});

test('an image a lease uses as a container does (a create in progress) is kept by removeImage unlessInUse, decided under the lock', async () => {
  const { store, layer, cleanup } = await setup();
  try {
    const img = await store.resolveImage('busybox');
    const lease = Lease.create(store.root, 'create');
    assert.equal(await lease.use(img.id, [layer], async () => (await store.findImage(img.id)).id), img.id);
    assert.deepEqual([...(await leasedImages(store.root))], [img.id]);
    assert.equal(await store.removeImage(img.id, { unlessInUse: true }), false, 'in use: left as it is');
    assert.equal((await store.findImage(img.id)).id, img.id, 'still in the index');
    await store.collectGarbage({ minAgeMs: 0 });
    assert.ok(await store.hasLayer(layer));
    await lease.release();
    assert.equal(await store.removeImage(img.id, { unlessInUse: true }), true, 'released: removed');
    assert.equal(await store.hasLayer(layer), false);
  } finally {
    cleanup();
  }
});

test("a container's image is kept by removeImage unlessInUse even when the caller looked before the record was written", async () => {
  const { store, layer, cleanup } = await setup();
  try {
    const img = await store.resolveImage('busybox');
    const id = await containerOn(store.root, img.id, layer);
    assert.equal(await store.removeImage(img.id, { unlessInUse: true }), false);
    assert.equal((await store.findImage(img.id)).id, img.id);
    await new ContainerStore(store.root).remove(id);
    assert.equal(await store.removeImage(img.id, { unlessInUse: true }), true);
  } finally {
    cleanup();
  }
});
