// The engine's one image resolver: short-name aliases of the registries config name the same
// image for FROM (baseImages), run/create (the resolver), and the local-only commands (inspect,
// tag, rmi), with podman's order (the alias's image, then the name as given); pull policies.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore, type Store } from '../store/store.js';
import type { Image } from '../store/types.js';
import { tempDir } from '../testing/cli.js';
import { baseImages } from './base-images.js';
import { ImageResolver } from './image-resolver.js';
import { Images } from './images.js';

let t: ReturnType<typeof tempDir>;
let store: Store;
let plain: Image;
let aliased: Image;
const saved = process.env.STRATA_REGISTRIES_CONFIG;

before(async () => {
  t = tempDir('strata-resolver-');
  store = await openStore(path.join(t.dir, 'root'));
  plain = await ensureBusybox(store);
  await store.tag(plain.id, 'myapp');
  aliased = await store.writeImage(
    { ...plain.config, config: { ...plain.config.config, Labels: { which: 'aliased' } } },
    plain.manifest.layers.map((l, i) => ({ diffId: plain.config.rootfs.diff_ids[i]!, digest: l.digest, size: l.size, mediaType: l.mediaType })),
    { tags: ['localhost/team/myapp:latest'] },
  );
  const config = path.join(t.dir, 'registries.json');
  fs.writeFileSync(config, JSON.stringify({ aliases: { myapp: 'localhost/team/myapp', gone: 'localhost/team/gone' } }));
  process.env.STRATA_REGISTRIES_CONFIG = config;
});

after(async () => {
  if (saved === undefined) delete process.env.STRATA_REGISTRIES_CONFIG;
  else process.env.STRATA_REGISTRIES_CONFIG = saved;
  await closeHashPool();
  t.cleanup();
});

test('an alias wins over docker.io/library/NAME present locally (podman), for run and FROM alike', async () => {
  assert.notEqual(aliased.id, plain.id);
  const resolver = new ImageResolver(store, async () => store);
  assert.equal((await resolver.resolve('myapp', { policy: 'never' })).id, aliased.id);
  assert.equal((await resolver.resolve('myapp:latest'))?.id, aliased.id, 'missing: found here, nothing pulled');
  const from = baseImages(store, 'missing');
  assert.equal((await from.resolve('myapp')).id, aliased.id);
  await from.close();
  // The full name is never re-aliased.
  assert.equal((await resolver.local('docker.io/library/myapp:latest'))?.id, plain.id);
  // Without a registries config, the name as given.
  const bare = new ImageResolver(store, async () => store, { HOME: t.dir });
  assert.equal((await bare.local('myapp'))?.id, plain.id);
});

test('an alias whose image is not here falls back to the name as given (podman\'s candidates)', async () => {
  await store.tag(plain.id, 'gone');
  try {
    const resolver = new ImageResolver(store, async () => store);
    assert.equal((await resolver.local('gone'))?.id, plain.id);
    assert.equal(await resolver.localName('gone'), 'gone');
  } finally {
    await store.untag('docker.io/library/gone:latest');
  }
});

test('pull policies: never refuses a missing image, an unknown policy is refused by name', async () => {
  const resolver = new ImageResolver(store, async () => store);
  await assert.rejects(resolver.resolve('absent:1', { policy: 'never' }), { message: 'no such image: "absent:1"' });
  await assert.rejects(resolver.resolve('myapp', { policy: 'sometimes' as never }), { message: 'invalid pull option "sometimes": must be one of "always", "missing" or "never"' });
  const from = baseImages(store, 'never');
  await assert.rejects(from.resolve('absent:1'), { message: 'no such image: "absent:1"' });
});

test('local-only commands consult aliases: inspect, tag and rmi name the alias\'s image', async () => {
  const images = new Images({ store });
  assert.equal((await images.inspect('myapp')).Id, aliased.id);
  await images.tag('myapp', 'localhost/copy:1');
  assert.equal((await store.resolveImage('localhost/copy:1')).id, aliased.id);
  const removed = await images.remove('myapp');
  assert.deepEqual(removed, [{ Untagged: 'localhost/team/myapp:latest' }], 'the alias name is untagged, the image keeps its other name');
  assert.equal((await store.resolveImage('docker.io/library/myapp:latest')).id, plain.id, 'docker.io/library/myapp is untouched');
  assert.equal((await images.inspect('myapp')).Id, plain.id, 'with the alias gone, the name as given');
});
