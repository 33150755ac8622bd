// A push of layers of several blocks (random data, stored; text, deflated) to Debian's
// docker-registry on 127.0.0.1: each layer streams in one PATCH, and what the registry keeps
// is checked byte by byte — each blob hashes to its digest and gunzips to its diff_id; the same
// layers compressed again give the same digests; a layer whose snapshot was damaged fails the
// push with one line and leaves no tag.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { assertOneLineError, busyboxRoot, sandbox, sha256, type Sandbox } from './testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Manifest { config: { digest: string }; layers: { digest: string; size: number }[] }

describe('a streamed push of multi-block layers', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let root: string;

  const get = async (p: string, accept?: string) => fetch(`${reg.url}${p}`, accept ? { headers: { accept } } : {});
  const manifest = async (repo: string, tag: string): Promise<Manifest> => {
    const r = await get(`/v2/${repo}/manifests/${tag}`, OCI_MANIFEST);
    assert.equal(r.status, 200, `${repo}:${tag}`);
    return (await r.json()) as Manifest;
  };
  const blob = async (repo: string, digest: string) => Buffer.from(await (await get(`/v2/${repo}/blobs/${digest}`)).arrayBuffer());
  // What this machine remembers of compressed digests: forgotten, a push compresses again.
  const forget = () => fs.rmSync(path.join(root, 'registry'), { recursive: true, force: true });

  before(async () => {
    reg = await startRegistry();
    sb = sandbox();
    root = await busyboxRoot(sb, 'src');
    const ctx = path.join(sb.dir, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'random.bin'), randomBytes(5 * 1024 * 1024 + 123));
    fs.writeFileSync(path.join(ctx, 'text.txt'), Array.from({ length: 90_000 }, (_, i) => `${i} some text that compresses\n`).join(''));
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY random.bin /data/\nCOPY text.txt /data/\n');
    const b = sb.strata(['build', '-q', '-t', 'big:1', ctx], { root });
    assert.equal(b.status, 0, b.stderr);
  });
  after(async () => {
    await reg?.close();
    sb?.cleanup();
  });

  test('every blob the registry keeps is the exact gzip of its layer; compressed again, the same digests', async () => {
    const name = `${reg.host}/big/one:1`;
    assert.equal(sb.strata(['tag', 'big:1', name], { root }).status, 0);
    const r = sb.strata(['push', name], { root });
    assert.equal(r.status, 0, r.stderr);
    const m = /1: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const first = await manifest('big/one', '1');
    const config = JSON.parse((await blob('big/one', first.config.digest)).toString()) as { rootfs: { diff_ids: string[] } };
    assert.equal(first.layers.length, 3);
    for (const [i, l] of first.layers.entries()) {
      const bytes = await blob('big/one', l.digest);
      assert.equal(sha256(bytes), l.digest);
      assert.equal(bytes.length, l.size);
      assert.equal(sha256(gunzipSync(bytes)), config.rootfs.diff_ids[i]);
    }
    // The random layer is stored (a little larger than its tar), the text one deflated.
    assert.ok(first.layers[1].size > 5 * 1024 * 1024, `random layer ${first.layers[1].size}`);
    assert.ok(first.layers[2].size < 1024 * 1024, `text layer ${first.layers[2].size}`);

    forget();
    const again = `${reg.host}/big/two:1`;
    assert.equal(sb.strata(['tag', 'big:1', again], { root }).status, 0);
    const r2 = sb.strata(['push', again], { root });
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(r2.stdout.includes(`digest: ${m[1]}`), 'the same layers compress to the same bytes');
    assert.deepEqual((await manifest('big/two', '1')).layers, first.layers);
  });

  test('a layer whose snapshot was damaged fails the push in one line; no tag is written', async () => {
    const layers = path.join(root, 'layers');
    const file = fs.readdirSync(layers).map((d) => path.join(layers, d, 'data', 'random.bin')).find((f) => fs.existsSync(f));
    assert.ok(file, 'the random layer\'s snapshot');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('damage'), 0, 6, 3 * 1024 * 1024);
    fs.closeSync(fd);
    forget();
    const name = `${reg.host}/big/broken:1`;
    assert.equal(sb.strata(['tag', 'big:1', name], { root }).status, 0);
    const r = sb.strata(['push', name], { root });
    assertOneLineError(r, /layer "sha256:[a-f0-9]{64}".*(does not match|damaged)/);
    assert.equal((await get('/v2/big/broken/manifests/1', OCI_MANIFEST)).status, 404);
  });
});
