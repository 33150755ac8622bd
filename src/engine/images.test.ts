// The Images service's rules for images other images were built on (Docker's: an ID with
// children cannot be deleted, even with -f; the last name of a parent only untags it; deleting
// a child takes its untagged parents along unless --no-prune), and prune leaving parents
// whose children stay.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore, type Store } from '../store/store.js';
import type { Image } from '../store/types.js';
import { tempDir } from '../testing/cli.js';
import { Images } from './images.js';

after(closeHashPool);

/** An image built on `base`: its history and layers extended (a metadata step, as a LABEL makes). */
async function child(store: Store, base: Image, tag: string, step = 'LABEL x=y'): Promise<Image> {
  return store.writeImage(
    { ...base.config, rootfs: { type: 'layers', diff_ids: [] }, history: [...(base.config.history ?? []), { created_by: step, empty_layer: true }] },
    base.manifest.layers.map((l, i) => ({ diffId: base.config.rootfs.diff_ids[i]!, digest: l.digest, size: l.size, mediaType: l.mediaType })),
    { tags: [tag] },
  );
}

async function setup() {
  const t = tempDir('strata-images-');
  const store = await openStore(path.join(t.dir, 'root'));
  const base = await ensureBusybox(store);
  const kid = await child(store, base, 'localhost/kid:1');
  return { store, base, kid, images: new Images({ store }), cleanup: t.cleanup };
}

test('an image with a child cannot be deleted by ID, even with -f; nothing changes', async () => {
  const { store, base, images, cleanup } = await setup();
  try {
    for (const force of [false, true]) {
      await assert.rejects(images.remove(base.id.slice(7, 19), { force }), (err: Error) => {
        assert.equal(err.message, `conflict: unable to delete ${base.id.slice(7, 19)} (cannot be forced) - image has dependent child images`);
        return true;
      });
    }
    assert.deepEqual((await store.resolveImage(base.id)).names, ['docker.io/library/busybox:latest']);
  } finally {
    cleanup();
  }
});

test("a parent's last name only untags it; the child keeps running on its layers", async () => {
  const { store, base, kid, images, cleanup } = await setup();
  try {
    assert.deepEqual(await images.remove('busybox'), [{ Untagged: 'busybox:latest' }]);
    const kept = await store.resolveImage(base.id);
    assert.deepEqual(kept.names, [], 'kept, untagged, as an intermediate image');
    assert.ok(!(await images.list()).some((i) => i.image.id === base.id), '`images` hides it');
    assert.ok((await images.list({ all: true })).some((i) => i.image.id === base.id), '`images -a` shows it');
    for (const d of kid.config.rootfs.diff_ids) assert.ok(await store.hasLayer(d));
    // Dangling prune leaves a parent whose child stays.
    const pruned = await images.prune();
    assert.ok(!pruned.items.some((i) => 'Deleted' in i && i.Deleted === base.id), JSON.stringify(pruned.items));
    assert.equal((await store.resolveImage(base.id)).id, base.id);
  } finally {
    cleanup();
  }
});

test('deleting the child takes its untagged parent along (Docker), unless noPrune', async () => {
  for (const noPrune of [false, true]) {
    const { store, base, kid, images, cleanup } = await setup();
    try {
      await store.untag('busybox');
      const items = await images.remove('localhost/kid:1', { noPrune });
      const expected = [{ Untagged: 'localhost/kid:1' }, { Deleted: kid.id }, ...(noPrune ? [] : [{ Deleted: base.id }])];
      assert.deepEqual(items, expected);
      assert.equal((await store.listImages()).length, noPrune ? 1 : 0);
    } finally {
      cleanup();
    }
  }
});

test('a tagged parent stays when its child is deleted', async () => {
  const { store, base, kid, images, cleanup } = await setup();
  try {
    assert.deepEqual(await images.remove('localhost/kid:1'), [{ Untagged: 'localhost/kid:1' }, { Deleted: kid.id }]);
    assert.equal((await store.resolveImage('busybox')).id, base.id);
    for (const d of base.config.rootfs.diff_ids) assert.ok(await store.hasLayer(d));
  } finally {
    cleanup();
  }
});
