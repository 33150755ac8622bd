// The shared build cache end to end: `build --cache-to/--cache-from` through Debian's
// docker-registry on 127.0.0.1 and through an OCI layout on disk, each state root playing
// another machine. Round trips give the same image; a miss against a remote entry is
// explained; layers come only when a step must run on them; entries are never replaced;
// `cache prune --older-than REG/REPO` deletes by digest.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../store/index.js';
import { assertOneLineError, busyboxRoot, sandbox, type Sandbox } from '../registry/testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../registry/testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

interface Meta { imageId: string; steps: { instruction: string; cached: boolean; cacheKey: string; layer: string | null; missReason: string | null }[] }

describe('build cache shared through a registry and an OCI layout', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let ctx: string;
  let cacheRef: string;
  let first: Meta;
  /** When the first export's entries were written (none is written again later). */
  let firstWrittenAt = 0;

  const build = async (name: string, extra: string[], o: { root?: string; context?: string } = {}): Promise<{ meta: Meta; stderr: string; root: string }> => {
    const root = o.root ?? (await busyboxRoot(sb, name));
    const metaFile = path.join(sb.dir, `${name}-${Math.random().toString(36).slice(2)}.json`);
    const r = sb.strata(['build', '--progress', 'plain', '--network', 'none', '--metadata-file', metaFile, ...extra, o.context ?? ctx], { root });
    assert.equal(r.status, 0, r.stderr);
    return { meta: JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta, stderr: r.stderr, root };
  };
  const headTag = async (tag: string): Promise<string | undefined> => {
    const res = await fetch(`${reg.url}/v2/cache/app/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    return res.status === 200 ? res.headers.get('docker-content-digest') ?? undefined : undefined;
  };

  before(async () => {
    reg = await startRegistry();
    sb = sandbox();
    cacheRef = `${reg.host}/cache/app`;
    ctx = path.join(sb.dir, 'ctx');
    fs.mkdirSync(path.join(ctx, 'src'), { recursive: true });
    fs.writeFileSync(path.join(ctx, 'src', 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(ctx, 'src', 'b.txt'), 'beta\n');
    // A builder stage whose layers the final image does not contain, then the final stage.
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
      'FROM busybox AS tools',
      'COPY src/ /src/',
      'RUN cat /src/a.txt /src/b.txt > /joined.txt && head -c 300000 /dev/zero > /pad',
      'FROM busybox',
      'COPY --from=tools /joined.txt /joined.txt',
      'ARG FINAL=one',
      'RUN echo "$FINAL" > /final.txt',
      '',
    ].join('\n'));
  });
  after(async () => {
    await reg?.close();
    sb?.cleanup();
  });

  test('cache-to mode=max writes one entry per step, tagged by its key', async () => {
    const b = await build('first', ['--cache-to', `type=registry,ref=${cacheRef},mode=max`]);
    first = b.meta;
    firstWrittenAt = Date.now();
    assert.equal(first.steps.length, 4);
    assert.ok(first.steps.every((s) => !s.cached));
    assert.match(b.stderr, new RegExp(`exporting cache to ${cacheRef.replace(/\./g, '\\.')}: 4 written, 0 already there`));
    for (const s of first.steps) assert.ok(await headTag(s.cacheKey), `entry for ${s.instruction}`);
  });

  test('another machine with --cache-from builds nothing and makes the same image', async () => {
    const b = await build('second', ['--cache-from', `type=registry,ref=${cacheRef}`]);
    assert.ok(b.meta.steps.every((s) => s.cached), JSON.stringify(b.meta.steps));
    assert.equal(b.meta.imageId, first.imageId, 'same steps, same created times: same image');
    const r = sb.strata(['run', '--rm', '--network', 'none', b.meta.imageId, 'cat', '/joined.txt', '/final.txt'], { root: b.root });
    assert.equal(r.stdout, 'alpha\nbeta\none\n', r.stderr);
    // The tools stage's layers are in no image and no later step ran on them: never downloaded.
    const store = await openStore(b.root);
    const toolsRun = first.steps.find((s) => s.instruction.startsWith('RUN cat'))!;
    assert.equal(await store.hasLayer(toolsRun.layer as never), false, 'an unneeded layer was downloaded');
    // A second build there hits locally, without asking the registry.
    const again = await build('second', [], { root: b.root });
    assert.ok(again.meta.steps.filter((s) => !s.instruction.startsWith('COPY src') && !s.instruction.startsWith('RUN cat')).every((s) => s.cached));
  });

  test('every step hit and the image only pushed: nothing downloaded, the layers mounted from the cache', async () => {
    const name = `${reg.host}/apps/app:1`;
    const b = await build('pushed', ['--cache-from', `type=registry,ref=${cacheRef}`, '--push', '-t', name]);
    assert.ok(b.meta.steps.every((s) => s.cached));
    assert.match(b.stderr, /pushed 127\.0\.0\.1:\d+\/apps\/app:1: digest: sha256:[a-f0-9]{64} \(2 layers mounted; the image is not loaded here\)/);
    const store = await openStore(b.root);
    for (const s of first.steps) assert.equal(await store.hasLayer(s.layer as never), false, `${s.instruction}: downloaded`);
    const root = sb.root('puller');
    const pulled = sb.strata(['pull', '-q', name], { root });
    assert.equal(pulled.status, 0, pulled.stderr);
    // The pulled image's ID, read from the puller's store here (no inspect process).
    assert.equal((await (await openStore(root)).resolveImage(name)).id, first.imageId);
    const r = sb.strata(['run', '--rm', '--network', 'none', name, 'cat', '/joined.txt', '/final.txt'], { root });
    assert.equal(r.stdout, 'alpha\nbeta\none\n', r.stderr);
  });

  test('a step that must run fetches only the layers it runs on; its miss is explained against the remote entry', async () => {
    const b = await build('third', ['--cache-from', `type=registry,ref=${cacheRef}`, '--build-arg', 'FINAL=two']);
    const run = b.meta.steps.find((s) => s.instruction.startsWith('RUN echo'))!;
    assert.equal(run.cached, false);
    assert.equal(run.missReason, `build arg FINAL changed since the entry in ${cacheRef}`);
    assert.ok(b.meta.steps.filter((s) => s !== run).every((s) => s.cached));
    const store = await openStore(b.root);
    const copy = first.steps.find((s) => s.instruction.startsWith('COPY --from'))!;
    assert.equal(await store.hasLayer(copy.layer as never), true);
    assert.equal(await store.hasLayer(first.steps[1].layer as never), false, 'the tools stage stayed in the registry');
  });

  test('a changed file is named against the entry in the registry', async () => {
    const changed = path.join(sb.dir, 'ctx-changed');
    fs.cpSync(ctx, changed, { recursive: true });
    fs.writeFileSync(path.join(changed, 'src', 'a.txt'), 'ALPHA\n');
    const b = await build('fourth', ['--cache-from', `type=registry,ref=${cacheRef}`], { context: changed });
    const copy = b.meta.steps.find((s) => s.instruction.startsWith('COPY src'))!;
    assert.equal(copy.missReason, `src/a.txt changed since the entry in ${cacheRef}`);
    assert.match(b.stderr, /cache miss: src\/a\.txt changed since the entry in 127\.0\.0\.1:\d+\/cache\/app/);
  });

  test('entries are never replaced: a second export of the same keys writes nothing', async () => {
    const before = await Promise.all(first.steps.map((s) => headTag(s.cacheKey)));
    const b = await build('fifth', ['--no-cache', '--cache-to', `type=registry,ref=${cacheRef},mode=max`]);
    assert.ok(b.meta.steps.every((s) => !s.cached));
    assert.match(b.stderr, /: 0 written, 4 already there/);
    assert.deepEqual(await Promise.all(first.steps.map((s) => headTag(s.cacheKey))), before);
  });

  test('mode=min exports the final image\'s steps only', async () => {
    const dir = path.join(sb.dir, 'layout-min');
    const b = await build('sixth', ['--cache-to', `type=local,dest=${dir}`]);
    assert.match(b.stderr, /: 2 written, 0 already there/);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    const keys = new Set(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']));
    assert.deepEqual(first.steps.filter((s) => keys.has(s.cacheKey)).map((s) => s.instruction), first.steps.slice(2).map((s) => s.instruction));
  });

  test('an OCI layout on disk round-trips the cache', async () => {
    const dir = path.join(sb.dir, 'layout');
    const made = await build('seventh', ['--cache-to', `type=local,dest=${dir},mode=max`]);
    assert.ok(fs.existsSync(path.join(dir, 'oci-layout')));
    const b = await build('eighth', ['--cache-from', `type=local,src=${dir}`]);
    assert.ok(b.meta.steps.every((s) => s.cached), JSON.stringify(b.meta.steps));
    assert.equal(b.meta.imageId, made.meta.imageId);
    // Several sources, in order: the first that has a key gives it.
    const c = await build('ninth', ['--cache-from', `type=registry,ref=${reg.host}/cache/none`, '--cache-from', `type=local,src=${dir}`, '--build-arg', 'FINAL=three']);
    assert.deepEqual(c.meta.steps.map((s) => s.cached), [true, true, true, false]);
  });

  test('bad cache flags are one line, exit 125', async () => {
    const root = sb.root('bad');
    assertOneLineError(sb.strata(['build', '--cache-to', 'type=s3,bucket=x', ctx], { root }), /invalid --cache-to "type=s3,bucket=x": unsupported type "s3"/);
    assertOneLineError(sb.strata(['build', '--cache-from', 'type=local,dest=/x', ctx], { root }), /invalid --cache-from .*: unknown field "dest"/);
    assertOneLineError(sb.strata(['build', '--cache-to', `type=registry,ref=${cacheRef},mode=all`, ctx], { root }), /mode must be min or max/);
    assertOneLineError(sb.strata(['cache', 'prune', cacheRef], { root }), /needs both --older-than/);
    assertOneLineError(sb.strata(['build', '--push', ctx], { root }), /--push needs a name to push to/);
  });

  test('cache prune --older-than REG/REPO deletes old entries by digest', async () => {
    const keep = sb.strata(['cache', 'prune', '--older-than', '1h', cacheRef], { root: sb.root('prune') });
    assert.equal(keep.status, 0, keep.stderr);
    assert.match(keep.stdout, /Total: 0 entries deleted, 4 kept/);
    // The entries must be over 1 s old: written by the first test, they usually are already.
    const wait = firstWrittenAt + 1100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const all = sb.strata(['cache', 'prune', '--older-than', '1s', cacheRef], { root: sb.root('prune') });
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stdout, /Total: 4 entries deleted, 0 kept/);
    for (const s of first.steps) assert.equal(await headTag(s.cacheKey), undefined);
    const b = await build('tenth', ['--cache-from', `type=registry,ref=${cacheRef}`]);
    assert.ok(b.meta.steps.every((s) => !s.cached));
  });
});
