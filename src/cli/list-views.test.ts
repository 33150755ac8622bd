// `volume ls` and `network ls`: Docker's --filter and --format over the rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterVolumes, type Volume } from '../engine/index.js';
import { renderNetworks, renderVolumes } from './list-views.js';

const vol = (Name: string, Labels: Record<string, string> | null = null) =>
  ({ Name, Driver: 'local', Scope: 'local', Mountpoint: `/v/${Name}/_data`, CreatedAt: '2024-01-01T00:00:00Z', Labels, Options: null, Anonymous: false }) as Volume;

describe('volume ls', () => {
  const vols = [vol('data', { tier: 'db' }), vol('cache'), vol('logs', { tier: 'web' })];
  const users = new Map([['data', ['c1']]]);
  const names = (filters: string[]) => filterVolumes(vols, filters, users).map((v) => v.Name);

  it('filters by name, label, driver and dangling', () => {
    assert.deepEqual(names(['name=a']), ['data', 'cache']);
    assert.deepEqual(names(['label=tier']), ['data', 'logs']);
    assert.deepEqual(names(['label=tier=web']), ['logs']);
    assert.deepEqual(names(['dangling=true']), ['cache', 'logs']);
    assert.deepEqual(names(['dangling=false']), ['data']);
    assert.deepEqual(names(['driver=local', 'name=c']), ['cache']);
    // As Docker's volume service: one key's values are alternatives, a name an expression found in it; labels all hold.
    assert.deepEqual(names(['name=logs', 'name=cache']), ['cache', 'logs']);
    assert.deepEqual(names(['name=^c']), ['cache']);
    assert.deepEqual(names(['name=s$', 'dangling=true']), ['logs']);
    assert.deepEqual(names(['label=tier', 'label=tier=db']), ['data']);
    assert.deepEqual(names(['name=[']), [], 'an invalid expression matches nothing');
    assert.throws(() => names(['bogus=1']), /invalid filter "bogus"/);
    assert.throws(() => names(['dangling=maybe']), /invalid filter "dangling=maybe"/);
  });

  it('prints the default table or a --format', () => {
    assert.equal(renderVolumes(vols.slice(0, 2), undefined), 'DRIVER    VOLUME NAME\nlocal     data\nlocal     cache\n');
    assert.equal(renderVolumes(vols, '{{.Name}}:{{.Label "tier"}}:{{.Mountpoint}}'), 'data:db:/v/data/_data\ncache::/v/cache/_data\nlogs:web:/v/logs/_data\n');
    assert.equal(JSON.parse(renderVolumes([vols[0]!], 'json')).Labels, 'tier=db');
  });
});

describe('network ls', () => {
  const nets = [{ Id: 'a'.repeat(64), Name: 'bridge', Driver: 'bridge', Scope: 'local', Created: '', Internal: false, Labels: { x: 'y' } }];
  it('prints the default table or a --format', () => {
    assert.equal(renderNetworks(nets, undefined, false), `NETWORK ID     NAME      DRIVER    SCOPE\n${'a'.repeat(12)}   bridge    bridge    local\n`);
    assert.equal(renderNetworks(nets, '{{.Name}} {{.Driver}} {{.Internal}} {{.Label "x"}} {{len .ID}}', true), 'bridge bridge false y 64\n');
    assert.equal(renderNetworks(nets, 'table {{.Name}}', false), 'NAME\nbridge\n');
  });
});
