// The Networks service as a TypeScript program uses it (the CLI's `network` commands go through
// it too): create, list, inspect, remove, prune, and a running container connected and
// disconnected, with real bridges and veth pairs in a temporary state root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StrataError } from '../errors.js';
import { teardownRoot } from '../runtime/index.js';
import { eventually, lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';
import { Networks } from './networks.js';

describe('Networks service', () => {
  let fx: LifecycleFixture;
  let networks: Networks;

  before(async () => {
    fx = await lifecycleFixture();
    networks = new Networks({ stateRoot: fx.root });
  });
  after(async () => {
    if (!fx) return;
    const ids = fx.strata(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length) fx.strata(['rm', '-f', ...ids]);
    teardownRoot(fx.root);
    await fx.teardown();
  });

  it('creates, lists, inspects and removes a network, and says which options it does not apply', async () => {
    const { network, unapplied } = await networks.create({ name: 'svc1', subnet: '10.231.7.0/24', labels: { team: 'a' }, options: { 'com.docker.network.driver.mtu': '1400', 'x.y': 'z' } });
    assert.equal(network.Name, 'svc1');
    assert.deepEqual(unapplied, ['x.y'], 'the MTU is applied, the other option only recorded');
    await assert.rejects(networks.create({ name: 'svc1' }), (e: unknown) => e instanceof StrataError && /already exists/.test(e.message));
    const names = (await networks.list()).map((n) => n.Name);
    for (const n of ['bridge', 'host', 'none', 'svc1']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
    assert.deepEqual((await networks.list(['label=team=a'])).map((n) => n.Name), ['svc1']);
    const { found, missing } = await networks.inspect(['svc1', 'nosuch']);
    assert.deepEqual(missing, ['nosuch']);
    const shown = found[0] as { Id: string; IPAM: { Config: Array<{ Subnet: string }> } };
    assert.equal(shown.Id, network.Id);
    assert.equal(shown.IPAM.Config[0]?.Subnet, '10.231.7.0/24');
    assert.equal((await networks.remove('svc1')).Id, network.Id);
    assert.ok(!(await networks.list()).some((n) => n.Name === 'svc1'));
  });

  it('prunes only the unused networks its filters accept', async () => {
    await networks.create({ name: 'keep', labels: { keep: '1' } });
    await networks.create({ name: 'drop' });
    await assert.rejects(networks.prune(['colour=red']), StrataError);
    assert.deepEqual((await networks.prune(['label!=keep'])).map((n) => n.Name), ['drop']);
    const names = (await networks.list()).map((n) => n.Name);
    assert.ok(names.includes('keep') && !names.includes('drop'), names.join(','));
    await networks.remove('keep');
  });

  it('connects a running container (an interface on the subnet, its alias resolving) and disconnects it', async () => {
    await networks.create({ name: 'svc2', subnet: '10.231.8.0/24' });
    fx.ok(['run', '-d', '--name', 'c1', '--network', 'svc2', 'busybox', 'sleep', '1000']);
    fx.ok(['run', '-d', '--name', 'c2', 'busybox', 'sleep', '1000']);
    await networks.connect('c2', 'svc2', { aliases: ['other'] });
    const addrs = fx.ok(['exec', 'c2', 'ip', '-o', '-4', 'addr']);
    assert.match(addrs, /inet 10\.231\.8\.\d+\/24/);
    // c1 resolves c2 by its alias on the network they share.
    await eventually(() => fx.strata(['exec', 'c1', 'nslookup', 'other']).stdout.includes('10.231.8.'), 30, 100);
    await assert.rejects(networks.remove('svc2'), (e: unknown) => e instanceof StrataError && e.message === 'error while removing network "svc2": network has active endpoints (2 running containers)');
    await networks.disconnect('c2', 'svc2');
    assert.doesNotMatch(fx.ok(['exec', 'c2', 'ip', '-o', '-4', 'addr']), /10\.231\.8\./);
    await assert.rejects(networks.disconnect('c2', 'svc2'), (e: unknown) => e instanceof StrataError && /not connected/.test(e.message));
    fx.ok(['rm', '-f', 'c1', 'c2']);
    await networks.remove('svc2');
  });
});
