import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkListFilter, type FilterableNetwork } from './list-filter.js';

const net = (Name: string, Id: string, Driver = 'bridge', Labels: Record<string, string> = {}): FilterableNetwork => ({ Id, Name, Driver, Scope: 'local', Labels });
const NETS = [net('bridge', 'b0a1'), net('host', 'h0a2', 'host'), net('none', 'n0a3', 'null'), net('app', 'a1c4', 'bridge', { env: 'dev', tier: 'web' }), net('db', 'd2c5', 'bridge', { env: 'prod' })];
const used = new Set(['b0a1', 'a1c4']);
const names = (...filters: string[]) => NETS.filter(networkListFilter(filters, (id) => used.has(id))).map((n) => n.Name);

describe('network ls --filter as Docker', () => {
  it('ORs the values of one key and ANDs the keys', () => {
    assert.deepEqual(names('name=app', 'name=db'), ['app', 'db']);
    assert.deepEqual(names('name=app', 'driver=host'), []);
    assert.deepEqual(names('driver=host', 'driver=null'), ['host', 'none']);
    assert.deepEqual(names('scope=local'), ['bridge', 'host', 'none', 'app', 'db']);
    assert.deepEqual(names('scope=swarm'), []);
  });

  it('matches name and id as a regular expression found anywhere (filters.Args.Match)', () => {
    assert.deepEqual(names('name=^d'), ['db']);
    assert.deepEqual(names('name=o'), ['host', 'none']);
    assert.deepEqual(names('id=0a'), ['bridge', 'host', 'none']);
    assert.deepEqual(names('id=c5$'), ['db']);
    assert.deepEqual(names('name=('), [], 'an invalid expression matches nothing');
  });

  it('needs every label given', () => {
    assert.deepEqual(names('label=env'), ['app', 'db']);
    assert.deepEqual(names('label=env', 'label=tier=web'), ['app']);
    assert.deepEqual(names('label=env=prod', 'label=tier'), []);
    assert.deepEqual(names('label=constructor'), [], "a label map's own keys only, not an object's inherited ones");
    assert.deepEqual(names('label=toString=x'), []);
  });

  it('type: builtin or custom; dangling: user-defined networks no running container uses', () => {
    assert.deepEqual(names('type=builtin'), ['bridge', 'host', 'none']);
    assert.deepEqual(names('type=custom'), ['app', 'db']);
    assert.deepEqual(names('type=custom', 'type=builtin').length, 5);
    assert.deepEqual(names('dangling=true'), ['db']);
    assert.deepEqual(names('dangling=1'), ['db']);
    assert.deepEqual(names('dangling=false'), ['bridge', 'host', 'none', 'app']);
    assert.deepEqual(names('dangling=0', 'type=custom'), ['app']);
  });

  it("refuses an unknown key, and a bad value in Docker's words, before looking at any network", () => {
    const refused = (filters: string[], message: string) => assert.throws(() => networkListFilter(filters, () => assert.fail('no network is looked at')), { message });
    refused(['until=1h'], 'invalid filter "until": strata supports dangling, driver, id, label, name, scope, type');
    refused(['type=user'], "invalid filter: 'type'='user'");
    refused(['dangling=yes'], 'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    refused(['dangling=toString'], 'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    refused(['dangling=true', 'dangling=false'], 'got more than one value for filter key "dangling"');
  });
});
