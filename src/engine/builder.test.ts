// The Builder and BuildCache services as a library user calls them: a build from a directory
// and from a tar in memory, its progress as events, then the cache listed, measured and pruned;
// `push` alone sends the image to its tags (Debian's docker-registry on 127.0.0.1).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registryAvailable, startRegistry, type TestRegistry } from '../registry/testing/registry-server.js';
import { openStore } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { LocalBuildCache } from './build-cache.js';
import { Builder, type BuildEvent } from './builder.js';

describe('Builder and BuildCache services', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  let builder: Builder;
  before(() => {
    t = tempDir('strata-services-build-');
    root = path.join(t.dir, 'root');
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'a.txt'), 'a\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a.txt /\nENV X=1\n');
    builder = new Builder({ stateRoot: root });
  });
  after(async () => {
    await builder.close();
    t.cleanup();
  });

  it('builds a directory context and streams typed progress events', async () => {
    const events: BuildEvent[] = [];
    const result = await builder.build({ context: { dir: ctx }, tags: ['svc:1'] }, (e) => events.push(e));
    assert.deepEqual(result.image.names, ['docker.io/library/svc:1']);
    const starts = events.filter((e): e is Extract<BuildEvent, { type: 'step-start' }> => e.type === 'step-start');
    assert.deepEqual(starts.map((e) => e.step.display), ['FROM scratch', 'COPY a.txt /']);
    assert.equal(starts[1].missReason, 'no earlier build of this step');
    const done = events.filter((e): e is Extract<BuildEvent, { type: 'step-done' }> => e.type === 'step-done');
    assert.deepEqual(done.map((e) => e.outcome.cached), [true, false]);

    fs.writeFileSync(path.join(ctx, 'a.txt'), 'changed\n');
    const again: BuildEvent[] = [];
    await builder.build({ context: { dir: ctx } }, (e) => again.push(e));
    const miss = again.find((e) => e.type === 'step-start' && e.step.display === 'COPY a.txt /');
    assert.equal(miss?.type === 'step-start' && miss.missReason, 'a.txt changed');
  });

  it('builds a tar context held in memory, with a Dockerfile given as text', async () => {
    const tar = spawnSync('tar', ['-C', ctx, '-cf', '-', 'a.txt'], { maxBuffer: 1 << 20 }).stdout;
    const r = await builder.build({ context: { tar }, dockerfile: { text: 'FROM scratch\nCOPY a.txt /copied.txt\n' } });
    assert.equal(r.steps.length, 1);
    const layer = await (await openStore(root)).layerPath(r.image.config.rootfs.diff_ids[0]);
    assert.equal(fs.readFileSync(path.join(layer, 'copied.txt'), 'utf8'), 'changed\n');
    assert.deepEqual(fs.readdirSync(path.join(root, 'build', 'work')), [], 'the unpacked context is gone');
    await assert.rejects(builder.build({ context: { dir: path.join(t.dir, 'nope') } }), /^StrataError: unable to prepare context: path ".*nope" not found$/);
  });

  it('lists, measures and prunes the cache; prune frees layers no image uses', async () => {
    const cache = new LocalBuildCache(root);
    const entries = await cache.list();
    assert.equal(entries.length, 3);
    assert.ok(entries.every((e, i) => i === 0 || entries[i - 1].lastUsed >= e.lastUsed), 'most recently used first');
    const usage = await cache.usage();
    assert.equal(usage.entries, 3);
    assert.equal(usage.layers, 3);
    // Every build wrote an image (two without a name): each entry's layer is still in use.
    const kept = await cache.prune({ all: false });
    assert.deepEqual(kept.removed, [], 'every layer is still used by an image');
    const all = await cache.prune({ all: true });
    assert.equal(all.removed.length, 3);
    assert.equal((await new LocalBuildCache(root).usage()).entries, 0);
    const store = await openStore(root);
    const image = await store.resolveImage('svc:1');
    assert.ok(await store.hasLayer(image.config.rootfs.diff_ids[0]), 'an image\'s layer outlives its cache entry');
  });
});

describe('Builder: push', () => {
  let t: ReturnType<typeof tempDir>;
  let builder: Builder;
  let ctx: string;
  before(() => {
    t = tempDir('strata-services-push-');
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /pushed\n');
    builder = new Builder({ stateRoot: path.join(t.dir, 'root') });
  });
  after(async () => {
    await builder.close();
    t.cleanup();
  });

  it('refuses push without a name before any work', async () => {
    await assert.rejects(builder.build({ context: { dir: ctx }, push: true }), /^StrataError: --push needs a name to push to/);
    assert.ok(!fs.existsSync(path.join(t.dir, 'root', 'index.json')), 'nothing was built');
  });

  describe('to a registry', { skip: registryAvailable && process.getuid?.() === 0 ? false : 'needs docker-registry and root' }, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry();
    });
    after(async () => reg?.close());

    it('push alone sends the image to its tags (no shared cache: as an image output)', async () => {
      const name = `${reg.host}/svc/pushed:v1`;
      const r = await builder.build({ context: { dir: ctx }, tags: [name], push: true });
      const res = await fetch(`${reg.url}/v2/svc/pushed/manifests/v1`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
      });
      assert.equal(res.status, 200);
      const manifest = (await res.json()) as { config: { digest: string } };
      assert.equal(manifest.config.digest, r.image.id, 'the image built is the one pushed');
    });
  });
});
