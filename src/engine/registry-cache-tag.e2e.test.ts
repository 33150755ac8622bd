// BuildKit's tagged form of the registry cache, `--cache-to/--cache-from type=registry,ref=REG/REPO:TAG`,
// through Debian's docker-registry on 127.0.0.1: the export points TAG at an OCI index of its
// entries, a fresh state root importing TAG hits them all, an import sees only the entries its
// tag's index names, a missing tag is a warning (the build goes on), a digest is no place to
// export to, and `cache prune` takes the tagged ref.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, busyboxRoot, sandbox, type Sandbox } from '../registry/testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../registry/testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

interface Meta { imageId: string; steps: { instruction: string; cached: boolean; cacheKey: string }[] }
interface Index { mediaType: string; manifests: { digest: string; annotations: Record<string, string> }[] }

describe('registry cache named with a tag (ref=REG/REPO:TAG)', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let ctx: string;
  let repo: string;
  let first: Meta;

  const build = async (name: string, extra: string[]): Promise<{ meta: Meta; stderr: string }> => {
    const root = await busyboxRoot(sb, name);
    const metaFile = path.join(sb.dir, `${name}.json`);
    const r = sb.strata(['build', '--progress', 'plain', '--network', 'none', '--metadata-file', metaFile, ...extra, ctx], { root });
    assert.equal(r.status, 0, r.stderr);
    return { meta: JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta, stderr: r.stderr };
  };
  const manifest = async (ref: string, accept: string): Promise<Response> =>
    fetch(`${reg.url}/v2/cache/app/manifests/${ref}`, { headers: { accept } });

  before(async () => {
    reg = await startRegistry();
    sb = sandbox();
    repo = `${reg.host}/cache/app`;
    ctx = path.join(sb.dir, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n');
  });
  after(async () => {
    await reg?.close();
    sb?.cleanup();
  });

  test('cache-to REPO:TAG writes the entries by key and points TAG at an index of them', async () => {
    const b = await build('export', ['--cache-to', `type=registry,ref=${repo}:buildcache,mode=max`]);
    first = b.meta;
    assert.match(b.stderr, new RegExp(`exporting cache to ${repo.replace(/\./g, '\\.')}:buildcache: 2 written, 0 already there`));
    const res = await manifest('buildcache', 'application/vnd.oci.image.index.v1+json');
    assert.equal(res.status, 200);
    const index = (await res.json()) as Index;
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    // Each of the index's manifests is the entry tagged by that step's key.
    const byKey = new Map(index.manifests.map((m) => [m.annotations['io.strata.cache.key'], m.digest]));
    assert.deepEqual([...byKey.keys()].sort(), first.steps.map((s) => s.cacheKey).sort());
    for (const s of first.steps) {
      const entry = await manifest(s.cacheKey, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(entry.headers.get('docker-content-digest'), byKey.get(s.cacheKey), s.instruction);
    }
  });

  test('a fresh state root with --cache-from REPO:TAG hits every step, naming the registry', async () => {
    const b = await build('import', ['--cache-from', `type=registry,ref=${repo}:buildcache`]);
    assert.ok(b.meta.steps.every((s) => s.cached), JSON.stringify(b.meta.steps));
    assert.equal(b.meta.imageId, first.imageId);
    assert.ok(b.stderr.includes(`imported cache from ${repo}:buildcache: 2 steps found there`), b.stderr);
  });

  test('an import sees only its tag\'s entries; a missing tag is a warning, not an error', async () => {
    // A strata index naming no entry: the repository holds every key, the tag none.
    const empty = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [], annotations: { 'io.strata.cache.index': '1' } });
    const put = await fetch(`${reg.url}/v2/cache/app/manifests/empty`, { method: 'PUT', body: empty, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(put.status, 201, await put.text());
    const b = await build('restricted', ['--cache-from', `type=registry,ref=${repo}:empty`, '--cache-from', `${repo}:nope`]);
    assert.ok(b.meta.steps.every((s) => !s.cached), JSON.stringify(b.meta.steps));
    assert.equal(b.stderr.split(`cache ${repo}:nope not used: not found`).length, 2, b.stderr);
    assert.doesNotMatch(b.stderr, /:empty not used/);
  });

  test('a digest is refused for export in one line; cache prune takes the tagged ref', async () => {
    const root = sb.root('bad');
    const digest = `sha256:${'a'.repeat(64)}`;
    assertOneLineError(sb.strata(['build', '--cache-to', `type=registry,ref=${repo}@${digest}`, ctx], { root }), /invalid --cache-to .*: a digest names fixed content, it cannot be exported to/);
    assertOneLineError(sb.strata(['build', '--cache-to', `${repo}:${'b'.repeat(64)}`, ctx], { root }), /has the form of the cache's own tags/);
    const pruned = sb.strata(['cache', 'prune', '--older-than', '1h', `${repo}:buildcache`], { root });
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, /Total: 0 entries deleted, 2 kept/);
  });
});
