import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { differingGroups, linuxResources } from './live-limits.js';

describe('live limits', () => {
  it('compares the limits a run started with to the record\'s, group by group, whatever their key order', () => {
    const started = { memoryBytes: 64 << 20, memoryMore: { swap: 128 << 20 }, cpu: { quota: 50000, period: 100000 }, pidsLimit: 30 };
    assert.deepEqual(differingGroups(started, { ...started, cpu: { period: 100000, quota: 50000 } }), []);
    assert.deepEqual(differingGroups(started, { ...started, memoryBytes: 96 << 20 }), ['memory']);
    assert.deepEqual(differingGroups(started, { ...started, pidsLimit: undefined, cpu: { quota: 25000, period: 100000 } }), ['cpu', 'pids']);
  });

  it("gives runc update the groups asked for, as a start's spec would have them", () => {
    const l = { memoryBytes: 96 << 20, memoryMore: { swap: 192 << 20, reservation: 32 << 20 }, cpu: { shares: 512 }, pidsLimit: undefined };
    assert.deepEqual(linuxResources(l, ['memory', 'pids']), { memory: { limit: 96 << 20, swap: 192 << 20, reservation: 32 << 20 }, pids: { limit: -1 } });
    assert.deepEqual(linuxResources(l, ['cpu']), { cpu: { shares: 512 } });
    assert.deepEqual(linuxResources({ ...l, cpu: undefined }, ['cpu']), {});
  });
});
