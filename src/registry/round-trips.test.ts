// The requests a pull and a push make, counted by a pass-through proxy in front of the real
// registry (testing/proxy.ts): a loopback registry's first request stands in for the /v2/ ping
// (transport.ts straight()), so a warm pull is one GET of the manifest; a push asks what its tag
// names (that HEAD is its first request, no ping) while it reads the store, then a warm one is
// its HEADs alone (the tag names its manifest already: no PUT);
// a changed image is PUT under the tag. With htpasswd the anonymous first request's 401 is the
// challenge the ping would have brought. A plain-http pull loads neither node:https nor node:tls.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRoot, putRawImage, sandbox, sha256, tarOf, type Sandbox } from './testing/fixtures.js';
import { startProxy, type Proxy } from './testing/proxy.js';
import { registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

describe('round trips to a loopback registry', { skip }, () => {
  let sb: Sandbox;
  let src: string;
  const closers: (() => Promise<void>)[] = [];
  const start = async (o: Parameters<typeof startRegistry>[0] = {}): Promise<{ reg: TestRegistry; proxy: Proxy }> => {
    const reg = await startRegistry(o);
    closers.push(() => reg.close());
    const proxy = await startProxy(reg.url);
    closers.push(() => proxy.close());
    return { reg, proxy };
  };

  before(async () => {
    sb = sandbox();
    src = await busyboxRoot(sb, 'src');
  });
  after(async () => {
    for (const c of closers.reverse()) await c();
    sb?.cleanup();
  });

  test('no /v2/ ping: a warm pull is one GET; a warm push its HEADs alone, the tag\'s first', async () => {
    const { reg, proxy } = await start();
    const name = `${proxy.host}/rt/bb:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    const cold = await sb.strataAsync(['push', name], { root: src });
    assert.equal(cold.status, 0, cold.stderr);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(cold.stdout)![1];

    proxy.requests.length = 0;
    const warm = await sb.strataAsync(['push', name], { root: src });
    assert.equal(warm.status, 0, warm.stderr);
    assert.ok(warm.stdout.includes(`digest: ${digest}`));
    // Its HEADs alone: the tag names this very manifest already, so there is nothing to PUT.
    const methods = proxy.requests.map((r) => r.split(' ')[0]);
    assert.deepEqual([...new Set(methods)], ['HEAD'], proxy.requests.join('\n'));
    assert.equal(proxy.requests[0], 'HEAD /v2/rt/bb/manifests/1', proxy.requests.join('\n'));

    // The tag names another image: this one is PUT under it.
    const tar = tarOf([{ name: 'other.txt', data: 'another image' }]);
    const other = await putRawImage(reg.url, 'rt/bb', '2', { layers: [{ blob: tar, mediaType: 'application/vnd.oci.image.layer.v1.tar', diffId: sha256(tar) }] });
    const name2 = `${proxy.host}/rt/bb:2`;
    assert.equal(sb.strata(['tag', 'busybox', name2], { root: src }).status, 0);
    proxy.requests.length = 0;
    const moved = await sb.strataAsync(['push', name2], { root: src });
    assert.equal(moved.status, 0, moved.stderr);
    assert.ok(moved.stdout.includes(`digest: ${digest}`));
    assert.ok(proxy.requests.includes('PUT /v2/rt/bb/manifests/2'), proxy.requests.join('\n'));
    const now = await fetch(`${reg.url}/v2/rt/bb/manifests/2`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(now.headers.get('docker-content-digest'), digest);
    assert.notEqual(other.digest, digest);

    const root = sb.root('rt-pull');
    proxy.requests.length = 0;
    const pull = await sb.strataAsync(['pull', '-q', name], { root });
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(proxy.requests[0], 'GET /v2/rt/bb/manifests/1');
    assert.ok(!proxy.requests.includes('GET /v2/'), proxy.requests.join('\n'));

    proxy.requests.length = 0;
    // The built-in modules the process loaded, written at its exit: no tls for a plain-http registry.
    const probe = path.join(sb.dir, 'modules.cjs');
    const loaded = path.join(sb.dir, 'modules.txt');
    fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loaded)}, process.moduleLoadList.join('\\n')));`);
    const again = await sb.strataAsync(['pull', name], { root, env: { NODE_OPTIONS: `--require ${probe}` } });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Image is up to date/);
    assert.deepEqual(proxy.requests, ['GET /v2/rt/bb/manifests/1']);
    const modules = fs.readFileSync(loaded, 'utf8').split('\n');
    assert.ok(modules.includes('NativeModule http'), 'the probe saw the pull');
    assert.deepEqual(modules.filter((m) => /^NativeModule (tls|https|_tls_wrap)$/.test(m)), []);
  });

  test('htpasswd: a pull\'s first request brings the challenge; without credentials one clear line', async () => {
    const { proxy } = await start({ auth: 'htpasswd' });
    const name = `${proxy.host}/rt/auth:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    const anon = await sb.strataAsync(['push', name], { root: src });
    assert.equal(anon.status, 125);
    assert.match(anon.stderr.trim(), /^Error: .*unauthorized: authentication required$/);
    fs.mkdirSync(sb.env.DOCKER_CONFIG!, { recursive: true });
    const config = path.join(sb.env.DOCKER_CONFIG!, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('alice:wonderland').toString('base64') } } }));
    try {
      const r = await sb.strataAsync(['push', name], { root: src });
      assert.equal(r.status, 0, r.stderr);
      const root = sb.root('rt-auth');
      proxy.requests.length = 0;
      const pull = await sb.strataAsync(['pull', '-q', name], { root });
      assert.equal(pull.status, 0, pull.stderr);
      // Anonymous (401, the challenge), then with the credentials.
      assert.deepEqual(proxy.requests.slice(0, 2), ['GET /v2/rt/auth/manifests/1', 'GET /v2/rt/auth/manifests/1']);
      assert.ok(!proxy.requests.includes('GET /v2/'), proxy.requests.join('\n'));
      fs.rmSync(config, { force: true });
      const denied = await sb.strataAsync(['pull', name], { root: sb.root('rt-denied') });
      assert.equal(denied.status, 125);
      assert.match(denied.stderr.trim(), /^Error: .*unauthorized: authentication required$/);
    } finally {
      fs.rmSync(config, { force: true });
    }
  });
});
