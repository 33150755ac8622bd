import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { CacheIndex } from './cache-index.js';

const key = (c: string) => c.repeat(64);

describe('cache index', () => {
  const t = tempDir('strata-cache-');
  after(() => t.cleanup());

  it('records entries with their inputs, finds the latest of a slot, counts hits', async () => {
    const idx = new CacheIndex(t.dir);
    await idx.record({ key: key('a'), slot: 's1', stage: '0', step: 'RUN a', size: 10, created: '2024-01-01T00:00:00.000Z', layer: 'sha256:' + key('1') }, { parent: 'p', files: { x: '1' } });
    await idx.record({ key: key('b'), slot: 's1', stage: '0', step: 'RUN b', size: 20, created: '2024-01-02T00:00:00.000Z' }, { parent: 'q' });
    const fresh = new CacheIndex(t.dir);
    assert.equal((await fresh.get(key('a')))?.size, 10);
    assert.deepEqual(await fresh.inputs(key('a')), { parent: 'p', files: { x: '1' } });
    assert.equal((await fresh.latestInSlot('s1'))?.key, key('b'));
    assert.equal((await fresh.latestInSlot('s1', key('b')))?.key, key('a'));
    await fresh.touch([key('a'), key('a')]);
    assert.equal((await new CacheIndex(t.dir).get(key('a')))?.hits, 2);
  });

  it('keeps every entry when builds record concurrently', async () => {
    const writers = Array.from({ length: 8 }, (_, i) => new CacheIndex(t.dir).record(
      { key: key(String(i)), slot: 'c', stage: '0', step: `RUN ${i}`, size: i, created: new Date().toISOString() }, { i }));
    await Promise.all(writers);
    const all = await new CacheIndex(t.dir).entries();
    for (let i = 0; i < 8; i++) assert.ok(all.some((e) => e.key === key(String(i))), `entry ${i}`);
  });

  it('removes entries and their inputs; refuses malformed keys', async () => {
    const idx = new CacheIndex(t.dir);
    const removed = await idx.remove([key('a')]);
    assert.equal(removed.length, 1);
    assert.equal(await idx.get(key('a')), undefined);
    assert.equal(await idx.inputs(key('a')), undefined);
    await assert.rejects(idx.record({ key: '../../x', slot: '', stage: '', step: '', size: 0, created: '' }, {}), /invalid cache key/);
  });
  it('writes a step\'s inputs ahead of record(); the index names the key only once recorded', async () => {
    const { dir, cleanup } = tempDir('strata-cache-ahead-');
    try {
      const idx = new CacheIndex(dir);
      await idx.writeInputs(key('c'), { parent: 'early' });
      assert.deepEqual(await idx.inputs(key('c')), { parent: 'early' }, 'inputs file written before any entry');
      assert.equal(await new CacheIndex(dir).get(key('c')), undefined, 'no entry yet');
      await idx.record({ key: key('c'), slot: 's', stage: '0', step: 'RUN c', size: 0, created: '2024-01-03T00:00:00.000Z' }, { parent: 'early' });
      assert.equal((await new CacheIndex(dir).get(key('c')))?.step, 'RUN c');
      // A write that fails and is never awaited (its step failed) must not bring the process down.
      void idx.writeInputs('../../x', {});
      await new Promise((r) => setTimeout(r, 20));
      await assert.rejects(idx.record({ key: '../../x', slot: '', stage: '', step: '', size: 0, created: '' }, {}), /invalid cache key/);
    } finally {
      cleanup();
    }
  });
});
