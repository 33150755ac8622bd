// A registry's passing failures (5xx, 429) on a request that may be repeated are asked again
// (transport.ts request()): a pull whose manifest GET fails twice still pulls, a push whose
// manifest PUT fails once still pushes, one that keeps failing ends in one clear line after the
// retries. And the case that made this necessary, against the real docker-registry: its HEAD of a
// tag answers 500 while another client rewrites that tag, which two builders sharing a registry
// cache do whenever they write the same step at once.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Repository } from './client.js';
import { pushTransport } from './endpoints.js';
import { parseReference } from '../store/index.js';
import { closeTransports, RETRY_DELAYS_MS } from './transport.js';
import { busyboxRoot, sandbox, type Sandbox } from './testing/fixtures.js';
import { startProxy, type Proxy } from './testing/proxy.js';
import { registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('a registry\'s passing failures', { skip }, () => {
  let sb: Sandbox;
  let src: string;
  let reg: TestRegistry;
  let proxy: Proxy;

  before(async () => {
    sb = sandbox();
    src = await busyboxRoot(sb, 'src');
    reg = await startRegistry();
    proxy = await startProxy(reg.url);
  });
  after(async () => {
    await closeTransports();
    await proxy?.close();
    await reg?.close();
    sb?.cleanup();
  });

  const manifestRequests = (method: string) => proxy.requests.filter((r) => r.startsWith(`${method} `) && r.includes('/manifests/'));

  test('a push whose manifest PUT fails once, and a pull whose manifest GET fails twice, succeed', async () => {
    const name = `${proxy.host}/pf/bb:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    proxy.requests.length = 0;
    proxy.tamper = { kind: 'fail', match: /^PUT \/v2\/pf\/bb\/manifests\//, status: 500, times: 1 };
    const push = await sb.strataAsync(['push', name], { root: src });
    assert.equal(push.status, 0, push.stderr);
    assert.equal(manifestRequests('PUT').length, 2, proxy.requests.join('\n'));

    proxy.requests.length = 0;
    proxy.tamper = { kind: 'fail', match: /^GET \/v2\/pf\/bb\/manifests\//, status: 503, times: 2 };
    const pull = await sb.strataAsync(['pull', '-q', name], { root: sb.root('pull') });
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(manifestRequests('GET').length, 3, proxy.requests.join('\n'));
  });

  test('a registry that keeps failing: one line after the retries', async () => {
    const name = `${proxy.host}/pf/bb:1`;
    proxy.requests.length = 0;
    proxy.tamper = { kind: 'fail', match: /^GET \/v2\/pf\/bb\/manifests\//, status: 500, times: 100 };
    const pull = await sb.strataAsync(['pull', name], { root: sb.root('down') });
    assert.equal(pull.status, 125);
    assert.match(pull.stderr.trim(), /^Error: [^\n]*unknown error[^\n]*$/);
    // The first request, its /v2/ ping's (the first request to a loopback registry stands in
    // for the ping, but a 5xx sends it to the ping), then one per retry.
    assert.equal(manifestRequests('GET').length, RETRY_DELAYS_MS.length + 2, proxy.requests.join('\n'));

    proxy.tamper = { kind: 'none' };
  });

  test('the real registry: tags read while another client rewrites them are found, never a 500', async () => {
    // Straight to the registry: no proxy between, the registry's own race.
    const repo = new Repository(pushTransport(parseReference(`${reg.host}/pf/race:x`), { env: sb.env }), 'pf/race', true);
    const config = Buffer.from('{}');
    await repo.uploadWhole(await repo.startUpload(), sha256(config), config);
    for (let i = 0; i < 60; i++) {
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [], annotations: { round: `${i}-${randomBytes(4).toString('hex')}` },
      }));
      const put = (n: number) => fetch(`${reg.url}/v2/pf/race/manifests/k${n}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
        .then(async (r) => assert.equal(r.status, 201, await r.text()));
      const heads = Array.from({ length: 8 }, () => repo.manifestDigest(`k${i}`));
      const [found] = await Promise.all([Promise.all(heads), put(i), put(i)]);
      for (const d of found) assert.ok(d === undefined || d === sha256(manifest), d);
    }
  });
});
