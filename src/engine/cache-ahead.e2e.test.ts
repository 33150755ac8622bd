// Layers fetched ahead of the lookup (cache-ahead.ts), end to end with Debian's docker-registry
// on 127.0.0.1, each state root playing another machine: on a hit the layer fetched while the
// context was hashed is the one kept (not downloaded again); when the context changed the
// speculative layer is dropped, the step runs, the image has the new files and nothing of the
// dropped fetch is left. And a passing 5xx of the registry on a lookup is asked again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryCache } from '../registry/index.js';
import { openStore, type Digest } from '../store/index.js';
import { busyboxRoot, sandbox, type Sandbox } from '../registry/testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../registry/testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

interface Meta { imageId: string; steps: { instruction: string; cached: boolean; cacheKey: string; layer: string | null }[] }

describe('layers fetched ahead from a registry cache', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let ctx: string;
  let cacheRef: string;
  let seeded: Meta;

  const build = async (name: string, extra: string[], host = reg.host): Promise<{ meta: Meta; stderr: string; root: string }> => {
    const root = await busyboxRoot(sb, name);
    const metaFile = path.join(sb.dir, `${name}.json`);
    const r = await sb.strataAsync(['build', '--progress', 'plain', '--network', 'none', '--metadata-file', metaFile, '--cache-from', `type=registry,ref=${host}/cache/ahead`, ...extra, ctx], { root, env: { STRATA_TIMING: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return { meta: JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta, stderr: r.stderr, root };
  };
  const copyLayer = (m: Meta) => m.steps.find((s) => s.instruction.startsWith('COPY'))!.layer!;
  /** What a fetch ahead could leave in the store's temp area. */
  const leftovers = (root: string) => (fs.existsSync(path.join(root, 'tmp')) ? fs.readdirSync(path.join(root, 'tmp')).filter((n) => /ahead|partial/.test(n)) : []);
  const cat = (root: string, image: string) => sb.strata(['run', '--rm', '--network', 'none', image, 'cat', '/all.txt'], { root });

  before(async () => {
    reg = await startRegistry();
    sb = sandbox();
    cacheRef = `${reg.host}/cache/ahead`;
    ctx = path.join(sb.dir, 'ctx');
    fs.mkdirSync(path.join(ctx, 'src'), { recursive: true });
    // Enough bytes that the layer is a real download (the fetch is under way during the lookup).
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(ctx, 'src', `f${String(i).padStart(2, '0')}.txt`), `${i}\n${'x'.repeat(50_000)}\n`);
    fs.writeFileSync(path.join(ctx, 'src', 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY src/ /src/\nRUN cat /src/a.txt > /all.txt\n');
    const root = await busyboxRoot(sb, 'seed');
    const metaFile = path.join(sb.dir, 'seed.json');
    const r = sb.strata(['build', '--network', 'none', '--metadata-file', metaFile, '--cache-to', `type=registry,ref=${cacheRef},mode=max`, ctx], { root });
    assert.equal(r.status, 0, r.stderr);
    seeded = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta;
  });
  after(async () => {
    await reg?.close();
    sb?.cleanup();
  });

  test('a hit keeps the layer fetched ahead: downloaded once, the same image', async () => {
    const b = await build('hit', []);
    assert.ok(b.meta.steps.every((s) => s.cached), JSON.stringify(b.meta.steps));
    assert.equal(b.meta.imageId, seeded.imageId);
    const layer = copyLayer(seeded);
    const short = layer.slice(7, 19);
    assert.match(b.stderr, new RegExp(`cache ahead: fetching ${short} `), 'the COPY layer was fetched ahead');
    assert.match(b.stderr, new RegExp(`shared cache: kept ${short} fetched ahead`), 'and that fetch was the one kept');
    assert.doesNotMatch(b.stderr, /cache ahead: dropped/);
    assert.ok(await (await openStore(b.root)).hasLayer(layer as never));
    assert.deepEqual(leftovers(b.root), []);
    const r = cat(b.root, b.meta.imageId);
    assert.equal(r.stdout, 'alpha\n', r.stderr);
  });

  test('a changed context drops the speculative layer: the step runs, nothing of the fetch is left', async () => {
    fs.writeFileSync(path.join(ctx, 'src', 'a.txt'), 'changed\n');
    try {
      const b = await build('changed', []);
      const old = copyLayer(seeded);
      assert.match(b.stderr, new RegExp(`cache ahead: fetching ${old.slice(7, 19)} `), 'the old entry\'s layer was fetched ahead');
      assert.match(b.stderr, /cache ahead: dropped/);
      assert.doesNotMatch(b.stderr, /fetched ahead/);
      const copy = b.meta.steps.find((s) => s.instruction.startsWith('COPY'))!;
      assert.equal(copy.cached, false);
      assert.notEqual(copy.layer, old);
      const store = await openStore(b.root);
      assert.equal(await store.hasLayer(old as never), false, 'the dropped layer reached the store');
      assert.equal(await store.blobs.has((await blobOf(old)) as never), false, 'its blob was kept');
      assert.deepEqual(leftovers(b.root), []);
      const r = cat(b.root, b.meta.imageId);
      assert.equal(r.stdout, 'changed\n', r.stderr);
    } finally {
      fs.writeFileSync(path.join(ctx, 'src', 'a.txt'), 'alpha\n');
    }
  });

  test('a 5xx on an existence check is asked once more: the cache is still used', async () => {
    // A proxy that answers 503 to the first HEAD of each key tag, then passes everything on.
    const failed = new Set<string>();
    const target = new URL(reg.url);
    const proxy = http.createServer((req, res) => {
      if (req.method === 'HEAD' && /\/manifests\/[a-f0-9]{64}$/.test(req.url ?? '') && !failed.has(req.url!)) {
        failed.add(req.url!);
        res.writeHead(503, { 'content-type': 'application/json' }).end();
        return;
      }
      const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const b = await build('flaky', [], `127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      assert.ok(failed.size > 0, 'the proxy failed no request');
      assert.doesNotMatch(b.stderr, /not used/);
      assert.ok(b.meta.steps.every((s) => s.cached), JSON.stringify(b.meta.steps));
      assert.equal(b.meta.imageId, seeded.imageId);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test('a layer fetched ahead reaches the store only when kept; a discarded one leaves nothing', async () => {
    const cache = new RegistryCache(cacheRef);
    const step = seeded.steps.find((s) => s.instruction.startsWith('COPY'))!;
    const entry = (await cache.entry(step.cacheKey))!;
    const blob = entry.layer!.digest as Digest;
    const layer = entry.layer!.diffId as Digest;
    for (const keep of [false, true]) {
      const root = sb.root(`direct-${keep}`);
      const store = await openStore(root);
      const ahead = cache.fetchAhead(store, entry)!;
      // Under way (its temp file written) before it is kept or discarded.
      for (let i = 0; i < 5000 && !leftovers(root).length; i++) await new Promise((resolve) => setTimeout(resolve, 2));
      assert.equal(leftovers(root).length, 1, 'no temp file of the fetch');
      assert.equal(await store.hasLayer(layer), false, 'in the store before it was kept');
      if (keep) await ahead.keep();
      else await ahead.discard();
      assert.equal(await store.hasLayer(layer), keep);
      assert.equal(await store.blobs.has(blob), keep);
      assert.deepEqual(leftovers(root), []);
    }
  });

  /** The digest of the gzip'ed blob the cache entry holds for a layer. */
  async function blobOf(diffId: string): Promise<string> {
    const key = seeded.steps.find((s) => s.layer === diffId)!.cacheKey;
    const res = await fetch(`${reg.url}/v2/cache/ahead/manifests/${key}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const m = (await res.json()) as { layers: { digest: string }[] };
    return m.layers[0].digest;
  }
});
