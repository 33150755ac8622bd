// The requests a pull and a push make, counted by a pass-through proxy in front of the real
// registry (testing/proxy.ts): a loopback registry's first request stands in for the /v2/ ping
// (transport.ts straight()), so a warm pull is one GET of the manifest; a push pings while it
// reads the store, then a warm one is its HEADs and the manifest's PUT. With htpasswd the
// anonymous first request's 401 is the challenge the ping would have brought.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRoot, sandbox, type Sandbox } from './testing/fixtures.js';
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

  test('a pull makes no /v2/ ping: a warm pull is one GET; a warm push its HEADs and one PUT', async () => {
    const { proxy } = await start();
    const name = `${proxy.host}/rt/bb:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    const cold = await sb.strataAsync(['push', name], { root: src });
    assert.equal(cold.status, 0, cold.stderr);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(cold.stdout)![1];

    proxy.requests.length = 0;
    const warm = await sb.strataAsync(['push', name], { root: src });
    assert.equal(warm.status, 0, warm.stderr);
    assert.ok(warm.stdout.includes(`digest: ${digest}`));
    const methods = proxy.requests.filter((r) => r !== 'GET /v2/').map((r) => r.split(' ')[0]);
    assert.deepEqual([...new Set(methods)].sort(), ['HEAD', 'PUT'], proxy.requests.join('\n'));
    assert.equal(methods.filter((m) => m === 'PUT').length, 1);

    const root = sb.root('rt-pull');
    proxy.requests.length = 0;
    const pull = await sb.strataAsync(['pull', '-q', name], { root });
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(proxy.requests[0], 'GET /v2/rt/bb/manifests/1');
    assert.ok(!proxy.requests.includes('GET /v2/'), proxy.requests.join('\n'));

    proxy.requests.length = 0;
    const again = await sb.strataAsync(['pull', name], { root });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Image is up to date/);
    assert.deepEqual(proxy.requests, ['GET /v2/rt/bb/manifests/1']);
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
