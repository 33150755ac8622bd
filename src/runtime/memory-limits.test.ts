import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryHostConfig, memoryResources } from './memory-limits.js';

const MiB = 1024 * 1024;

describe('memory flags (Docker daemon rules)', () => {
  it('gives -m alone twice its memory as memory + swap, and -1 unlimited swap', () => {
    assert.equal(memoryHostConfig({ memory: 64 * MiB }, undefined, true).MemorySwap, 128 * MiB);
    assert.equal(memoryHostConfig({ memory: 64 * MiB, memorySwap: '-1' }, undefined, true).MemorySwap, -1);
    assert.equal(memoryHostConfig({ memory: 64 * MiB, memorySwap: '1g' }, undefined, true).MemorySwap, 1024 * MiB);
    assert.deepEqual(memoryHostConfig({}, undefined, true), { Memory: 0, MemorySwap: 0, MemoryReservation: 0, MemorySwappiness: null, OomKillDisable: false });
  });

  it('without swap accounting, limits memory alone and warns for any memory limit, as Docker\'s daemon', () => {
    const warnings: string[] = [];
    const warning = 'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.';
    assert.equal(memoryHostConfig({ memory: 64 * MiB }, (w) => warnings.push(w), false).MemorySwap, -1);
    assert.equal(memoryHostConfig({ memory: 64 * MiB, memorySwap: '128m' }, (w) => warnings.push(w), false).MemorySwap, -1);
    assert.equal(memoryHostConfig({ memorySwappiness: '10' }, (w) => warnings.push(w), false).MemorySwap, 0);
    assert.deepEqual(warnings, [warning, warning]);
  });

  it('refuses what Docker refuses', () => {
    assert.throws(() => memoryHostConfig({ memory: 1024 }), /Minimum memory limit allowed is 6MB$/);
    assert.throws(() => memoryHostConfig({ memoryReservation: '1m' }), /Minimum memory reservation allowed is 6MB$/);
    assert.throws(() => memoryHostConfig({ memorySwappiness: '-2' }), /valid memory swappiness range is 0-100/);
    assert.throws(() => memoryHostConfig({ memorySwappiness: 'x' }), /invalid syntax/);
    assert.equal(memoryHostConfig({ memorySwappiness: '-1' }).MemorySwappiness, null);
  });

  it('makes the spec\'s resources from a record, leaving out what was not set (older records too)', () => {
    assert.equal(memoryResources({ Memory: 0 }), undefined);
    assert.deepEqual(memoryResources({ Memory: 64 * MiB }), { limit: 64 * MiB });
    assert.deepEqual(memoryResources({ Memory: 64 * MiB, MemorySwap: -1, MemoryReservation: 32 * MiB, MemorySwappiness: 0, OomKillDisable: true }, { limit: false }),
      { swap: -1, reservation: 32 * MiB, swappiness: 0, disableOOMKiller: true });
  });
});
