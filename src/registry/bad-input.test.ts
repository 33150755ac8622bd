// Every bad input of a pull gets one line, exit 125, and stores nothing: a registry that is
// down, unknown names, bytes that do not match their digest, a manifest over 4 MiB, an index
// without the platform, hostile digests, a redirect to another host (never given the
// credentials), a layer with path traversal or a decompression bomb, a truncated download
// (which the next pull resumes). The registry is the real one; the misbehaviour comes from a
// proxy in front of it (testing/proxy.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { assertOneLineError, busyboxRoot, putRawImage, sandbox, sha256, tarOf, type Sandbox } from './testing/fixtures.js';
import { startProxy, type Proxy } from './testing/proxy.js';
import { freePort, registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

describe('bad input from registries', { skip }, () => {
  let reg: TestRegistry;
  let proxy: Proxy;
  let sb: Sandbox;
  let src: string;
  let manifestDigest: string;
  let layerDigest: string;
  const auth = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;

  /** Pull through the proxy into a fresh root; the root must hold no image afterwards. */
  const failingPull = async (name: string, pattern: RegExp, env: NodeJS.ProcessEnv = {}) => {
    const root = sb.root(`fail-${Math.random().toString(36).slice(2)}`);
    const r = await sb.strataAsync(['pull', name], { root, env });
    assertOneLineError(r, pattern);
    assert.equal((await sb.strataAsync(['images', '-q'], { root })).stdout, '', 'nothing is stored');
    return root;
  };

  before(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    proxy = await startProxy(reg.url, auth);
    sb = sandbox();
    src = await busyboxRoot(sb, 'src');
    fs.mkdirSync(sb.env.DOCKER_CONFIG!, { recursive: true });
    const auths = Object.fromEntries([reg.host, proxy.host].map((h) => [h, { auth: Buffer.from('alice:wonderland').toString('base64') }]));
    fs.writeFileSync(path.join(sb.env.DOCKER_CONFIG!, 'config.json'), JSON.stringify({ auths }));
    const name = `${reg.host}/bad/bb:1`;
    sb.strata(['tag', 'busybox', name], { root: src });
    const r = sb.strata(['push', name], { root: src });
    assert.equal(r.status, 0, r.stderr);
    manifestDigest = /digest: (sha256:[a-f0-9]{64})/.exec(r.stdout)![1];
    const m = JSON.parse(Buffer.from(await (await fetch(`${reg.url}/v2/bad/bb/manifests/1`, { headers: { authorization: auth, accept: 'application/vnd.oci.image.manifest.v1+json' } })).arrayBuffer()).toString()) as { layers: { digest: string }[] };
    layerDigest = m.layers[0].digest;
  });
  after(async () => {
    await proxy?.close();
    await reg?.close();
    sb?.cleanup();
  });

  test('registry down, unknown repository, unknown tag', async () => {
    await failingPull(`127.0.0.1:${await freePort()}/x:1`, /registry "127\.0\.0\.1:\d+" is not reachable: connection refused/);
    // Docker's words (moby's translatePullError): "manifest for NAME not found: manifest unknown".
    await failingPull(`${reg.host}/no/such:1`, /^Error: (manifest for .*\/no\/such:1|repository .*\/no\/such) not found: (manifest|name) unknown/);
    await failingPull(`${reg.host}/bad/bb:nosuchtag`, new RegExp(`^Error: manifest for ${reg.host.replace(/\./g, '\\.')}/bad/bb:nosuchtag not found: manifest unknown$`));
    await failingPull(`${reg.host}/bad/bb@sha256:${'0'.repeat(64)}`, /^Error: manifest for .*\/bad\/bb@sha256:0{64} not found: manifest unknown$/);
  });

  test('hostile references and digests are refused before any path is built', async () => {
    await failingPull(`${reg.host}/bad/bb@sha256:../../../etc/passwd`, /invalid reference format/);
    await failingPull(`${reg.host}/bad/bb@sha256:abc`, /invalid reference format/);
    proxy.tamper = { kind: 'rewrite-manifest', rewrite: (t) => t.replace(layerDigest, 'sha256:../../../../tmp/evil') };
    try {
      await failingPull(`${proxy.host}/bad/bb:1`, /invalid layer descriptor "sha256:\.\.\/\.\.\/\.\.\/\.\.\/tmp\/evil"/);
    } finally {
      proxy.tamper = { kind: 'none' };
    }
  });

  test('a manifest whose bytes do not match, a manifest over 4 MiB, a blob that does not match', async () => {
    proxy.tamper = { kind: 'flip-manifest' };
    await failingPull(`${proxy.host}/bad/bb:1`, /manifest digest mismatch/);
    await failingPull(`${proxy.host}/bad/bb@${manifestDigest}`, /manifest digest mismatch: asked for/);
    proxy.tamper = { kind: 'huge-manifest' };
    await failingPull(`${proxy.host}/bad/bb:1`, /larger than 4194304 bytes/);
    proxy.tamper = { kind: 'flip-blob', digest: layerDigest };
    const root = await failingPull(`${proxy.host}/bad/bb:1`, /layer digest mismatch/);
    assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')).filter((n) => n.startsWith('partial-')), [], 'a wrong partial download is not kept');
    proxy.tamper = { kind: 'none' };
  });

  test('a truncated download fails; the next pull asks only for the rest', async () => {
    const root = sb.root('resume');
    proxy.tamper = { kind: 'truncate-blob', digest: layerDigest, keep: 300_000 };
    const cut = await sb.strataAsync(['pull', `${proxy.host}/bad/bb:1`], { root });
    assertOneLineError(cut, /truncated|not reachable|closed/);
    const partial = path.join(root, 'tmp', `partial-${layerDigest.slice(7)}`);
    const kept = fs.statSync(partial).size;
    assert.ok(kept > 0 && kept <= 300_000, `kept ${kept} bytes`);
    // Corrupt the kept prefix: if the next pull used it (it must: it asks only for the rest),
    // the digest cannot match. Then restore it and the pull completes.
    const good = fs.readFileSync(partial);
    const bad = Buffer.from(good);
    bad[1000] ^= 0xff;
    fs.writeFileSync(partial, bad);
    proxy.tamper = { kind: 'none' };
    assertOneLineError(await sb.strataAsync(['pull', `${proxy.host}/bad/bb:1`], { root }), /layer digest mismatch|invalid gzip data/);
    assert.equal(fs.existsSync(partial), false, 'a partial download that proved wrong is dropped');
    fs.writeFileSync(partial, good);
    const ok = await sb.strataAsync(['pull', `${proxy.host}/bad/bb:1`], { root });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(fs.existsSync(partial), false);
  });

  test('a redirect to another host is followed without the credentials', async () => {
    proxy.tamper = { kind: 'redirect-blobs' };
    try {
      const r = await sb.strataAsync(['pull', `${proxy.host}/bad/bb:1`], { root: sb.root('redirect') });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(proxy.redirectedAuth.length > 0, 'the blob was fetched from the other host');
      assert.deepEqual(proxy.redirectedAuth.filter((a) => a !== undefined), [], 'no Authorization went to the other host');
    } finally {
      proxy.tamper = { kind: 'none' };
    }
  });

  test('an index without this platform; a layer with path traversal; a decompression bomb', async () => {
    const headers = { authorization: auth };
    const layer = tarOf([{ name: 'ok.txt', data: 'fine\n' }]);
    const arm = await putRawImage(reg.url, 'bad/arm', 'arm-only', { layers: [{ blob: gzipSync(layer), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', diffId: sha256(layer) }], platform: { os: 'linux', architecture: 'arm64' }, headers });
    const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } }] });
    const put = await fetch(`${reg.url}/v2/bad/arm/manifests/1`, { method: 'PUT', body: index, headers: { ...headers, 'content-type': 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(put.status, 201);
    await failingPull(`${reg.host}/bad/arm:1`, /no image for platform "linux\/(amd64|arm64\/v8)"|no image for platform/);
    // manifest inspect -v fetches each entry of an index: only by a digest, never by what else the registry wrote there.
    proxy.tamper = { kind: 'rewrite-manifest', rewrite: (t) => t.replace(`"digest":"${arm.digest}","size":${arm.manifest.length}`, '"digest":"1"') };
    try {
      assertOneLineError(await sb.strataAsync(['manifest', 'inspect', '-v', `${proxy.host}/bad/arm:1`], { root: sb.root('inspect-hostile') }),
        /invalid manifest descriptor in the index "1": expected sha256:<64 hex>/);
    } finally {
      proxy.tamper = { kind: 'none' };
    }
    const escape = path.join(sb.dir, 'escaped');
    const evil = tarOf([{ name: `../../../../../../../..${escape}`, data: 'owned\n' }]);
    await putRawImage(reg.url, 'bad/evil', '1', { layers: [{ blob: gzipSync(evil), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', diffId: sha256(evil) }], headers });
    await failingPull(`${reg.host}/bad/evil:1`, /refusing|outside|\.\./);
    assert.equal(fs.existsSync(escape), false);
    const big = tarOf([{ name: 'zeros', data: Buffer.alloc(32 * 1024 * 1024) }]);
    await putRawImage(reg.url, 'bad/bomb', '1', { layers: [{ blob: gzipSync(big), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', diffId: sha256(big) }], headers });
    await failingPull(`${reg.host}/bad/bomb:1`, /too large/, { STRATA_MAX_LAYER_BYTES: String(4 * 1024 * 1024) });
  });
});
