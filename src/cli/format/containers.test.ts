import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialState, type ContainerRecord } from '../../store/index.js';
import { psRow, renderPs, statusText } from './containers.js';

describe('ps formatting', () => {
  it('writes STATUS as Up / Exited (N) ... ago / Created', () => {
    const now = Date.parse('2024-01-01T00:10:00Z');
    assert.equal(statusText({ ...initialState(), Status: 'running', Running: true, StartedAt: '2024-01-01T00:09:57Z' }, now), 'Up 3 seconds');
    assert.equal(statusText({ ...initialState(), Status: 'exited', ExitCode: 3, FinishedAt: '2024-01-01T00:08:00Z' }, now), 'Exited (3) 2 minutes ago');
    assert.equal(statusText(initialState(), now), 'Created');
  });

  it('prints the default table with truncated ID and command', () => {
    const record = {
      Id: 'a'.repeat(64), Name: '/t1', Created: '2024-01-01T00:09:00Z', Path: 'sh', Args: ['-c', 'echo hi > /FILE; sleep 1'],
      Image: 'sha256:' + 'b'.repeat(64), Config: { Image: 'busybox', Labels: { tier: 'web' } }, Mounts: [],
    } as unknown as ContainerRecord;
    const state = { ...initialState(), Status: 'exited' as const, FinishedAt: '2024-01-01T00:09:30Z' };
    const row = psRow(record, state, { noTrunc: false, now: Date.parse('2024-01-01T00:10:00Z') });
    assert.equal(row.ID, 'aaaaaaaaaaaa');
    assert.equal(row.Command, '"sh -c echo hi > /FI…"');
    const out = renderPs([row], undefined, false).split('\n');
    assert.match(out[0]!, /^CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS                      PORTS     NAMES$/);
    assert.match(out[1]!, /^aaaaaaaaaaaa   busybox   "sh -c echo hi > \/FI…"   About a minute ago   Exited \(0\) 30 seconds ago             t1$/);
    assert.equal(renderPs([row], '{{.Names}}:{{.State}}', false), 't1:exited\n');
    assert.equal(renderPs([row], undefined, true), 'aaaaaaaaaaaa\n');
    assert.equal(renderPs([row], '{{.Label "tier"}}|{{.Label "none"}}|{{.Labels}}', false), 'web||tier=web\n');
    assert.equal(renderPs([row], 'table {{.Names}}\t{{.Label "tier"}}', false), 'NAMES     LABEL\nt1        web\n');
    assert.equal(JSON.parse(renderPs([row], '{{json .}}', false)).Names, 't1');
  });

  it('has Docker\'s .Networks, .LocalVolumes and .Size (0B without sizes), in templates and in json', () => {
    const record = {
      Id: 'c'.repeat(64), Name: '/t2', Created: '2024-01-01T00:09:00Z', Path: 'true', Args: [], Image: 'sha256:' + 'b'.repeat(64), Config: { Image: 'busybox' },
      Mounts: [{ Type: 'volume', Name: 'data', Source: '/v/data/_data', Destination: '/d', RW: true }, { Type: 'bind', Source: '/srv', Destination: '/s', RW: true }],
      NetworkSettings: { Networks: { front: {}, back: {} } },
    } as unknown as ContainerRecord;
    const row = psRow(record, initialState(), { noTrunc: false });
    assert.equal(renderPs([row], 'table {{.Networks}}\t{{.LocalVolumes}}\t{{.Size}}', false), 'NETWORKS     LOCAL VOLUMES   SIZE\nback,front   1               0B\n');
    const json = JSON.parse(renderPs([row], 'json', false)) as Record<string, string>;
    assert.deepEqual([json.Networks, json.LocalVolumes, json.Size], ['back,front', '1', '0B']);
  });
});
