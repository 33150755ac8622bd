// rmi's rules against container records (written through the container store, no runc needed:
// only the record says which image a container uses and whether it runs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/pool.js';
import { openStore, type Store } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { ContainerStore, initialState, newContainerId, type ContainerRecord } from '../store/index.js';
import type { Image } from '../store/types.js';
import { containersOf, pruneImages, removeImageRef } from './image-remove.js';

after(closeHashPool);

async function addContainer(store: Store, img: Image, running: boolean): Promise<ContainerRecord> {
  const id = newContainerId();
  const record = {
    Id: id, Name: `/c${id.slice(0, 8)}`, Created: new Date().toISOString(), Path: 'sh', Args: [],
    State: { ...initialState(), Status: running ? 'running' : 'exited', Running: running },
    Image: img.id, Config: { Hostname: id.slice(0, 12), Image: 'busybox' }, HostConfig: {}, Mounts: [], RestartCount: 0,
    Driver: 'overlay', Platform: 'linux', Strata: { layers: img.config.rootfs.diff_ids },
  } as unknown as ContainerRecord;
  await new ContainerStore(store.root).create(record);
  return record;
}

async function setup(): Promise<{ store: Store; img: Image; cleanup: () => void }> {
  const t = tempDir();
  const store = await openStore(path.join(t.dir, 'root'));
  const img = await ensureBusybox(store);
  return { store, img, cleanup: t.cleanup };
}

test('rmi refuses an image a stopped container uses; -f only untags it', async () => {
  const { store, img, cleanup } = await setup();
  try {
    const c = await addContainer(store, img, false);
    const containers = await containersOf(store);
    await assert.rejects(removeImageRef(store, 'busybox', false, containers), new RegExp(`container ${c.Id.slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`));
    await assert.rejects(removeImageRef(store, img.id, false, containers), /must be forced\) - image is being used by stopped container/);
    assert.deepEqual(await removeImageRef(store, 'busybox', true, containers), ['Untagged: busybox:latest']);
    const kept = await store.resolveImage(img.id);
    assert.deepEqual(kept.names, [], 'kept, untagged, for the container');
    assert.ok(await store.hasLayer(img.config.rootfs.diff_ids[0]));
    // prune leaves an image a container uses
    await pruneImages(store, true);
    assert.equal((await store.resolveImage(img.id)).id, img.id);
  } finally {
    cleanup();
  }
});

test('rmi by ID cannot be forced while a container runs the image', async () => {
  const { store, img, cleanup } = await setup();
  try {
    await addContainer(store, img, true);
    await assert.rejects(removeImageRef(store, img.id, true, await containersOf(store)), /cannot be forced\) - image is being used by running container/);
  } finally {
    cleanup();
  }
});

test('rmi by ID of an image with several names needs -f, then untags all and deletes', async () => {
  const { store, img, cleanup } = await setup();
  try {
    await store.tag(img.id, 'localhost/other:1');
    await assert.rejects(removeImageRef(store, img.id.slice(7, 19), false, []), /image is referenced in multiple repositories/);
    assert.deepEqual(await removeImageRef(store, img.id.slice(7, 19), true, []), ['Untagged: busybox:latest', 'Untagged: localhost/other:1', `Deleted: ${img.id}`]);
    assert.deepEqual(await store.listImages(), []);
    assert.deepEqual(await store.blobs.list(), []);
  } finally {
    cleanup();
  }
});

test('images hides an untagged parent image unless -a (Docker intermediate images)', async () => {
  const { intermediateImages } = await import('./image-views.js');
  const { store, img, cleanup } = await setup();
  try {
    const child = await store.writeImage(
      { ...img.config, rootfs: { type: 'layers', diff_ids: [] }, history: [...img.config.history, { created_by: 'LABEL x=y', empty_layer: true }] },
      img.manifest.layers.map((l) => ({ diffId: l.digest, digest: l.digest, size: l.size, mediaType: l.mediaType })),
      { tags: ['localhost/child:1'] },
    );
    assert.deepEqual([...intermediateImages(await store.listImages())], [], 'a tagged parent is no intermediate image');
    await store.untag('busybox');
    assert.deepEqual([...intermediateImages(await store.listImages())], [img.id]);
    await store.untag('localhost/child:1');
    const all = await store.listImages();
    assert.deepEqual([...intermediateImages(all)], [img.id], 'the untagged child itself is dangling, shown');
    assert.ok(all.some((i) => i.id === child.id));
  } finally {
    cleanup();
  }
});
