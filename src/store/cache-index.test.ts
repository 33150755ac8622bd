import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import type { KeyInputs } from './build-cache.js';
import { CacheIndex } from './cache-index.js';

const key = (c: string) => c.repeat(64);
const inputs = (parent: string, more: Partial<KeyInputs> = {}): KeyInputs => ({ type: 'RUN', parent, instruction: 'RUN x', ...more });
const at = (day: number) => `2024-01-0${day}T00:00:00.000Z`;

describe('cache index', () => {
  const t = tempDir('strata-cache-');
  after(() => t.cleanup());

  it('records entries with their inputs and parent, looks many keys up at once, counts hits', async () => {
    const idx = new CacheIndex(t.dir);
    await idx.record({ key: key('a'), slot: 's1', stage: '0', step: 'RUN a', size: 10, created: at(1), layer: 'sha256:' + key('1') }, inputs('p', { files: { x: '1' } }));
    await idx.record({ key: key('b'), slot: 's1', stage: '0', step: 'RUN b', size: 20, created: at(2) }, inputs('q'));
    const fresh = new CacheIndex(t.dir);
    assert.equal((await fresh.get(key('a')))?.size, 10);
    assert.equal((await fresh.get(key('a')))?.parent, 'p');
    assert.deepEqual(await fresh.inputs(key('a')), inputs('p', { files: { x: '1' } }));
    const found = await fresh.lookup([key('a'), key('b'), key('9')]);
    assert.deepEqual([...found.keys()], [key('a'), key('b')]);
    await fresh.used([{ key: key('a'), slot: 's1' }, { key: key('a'), slot: 's1' }]);
    assert.equal((await new CacheIndex(t.dir).get(key('a')))?.hits, 2);
  });

  it('keeps every entry when builds record concurrently', async () => {
    const writers = Array.from({ length: 8 }, (_, i) => new CacheIndex(t.dir).record(
      { key: key(String(i)), slot: 'c', stage: '0', step: `RUN ${i}`, size: i, created: new Date().toISOString() }, inputs(String(i))));
    await Promise.all(writers);
    const all = await new CacheIndex(t.dir).list();
    for (let i = 0; i < 8; i++) assert.ok(all.some((e) => e.key === key(String(i))), `entry ${i}`);
  });

  it('removes entries and their inputs; refuses malformed keys', async () => {
    const idx = new CacheIndex(t.dir);
    const removed = await idx.remove([key('a')]);
    assert.equal(removed.length, 1);
    assert.equal(await idx.get(key('a')), undefined);
    assert.equal(await idx.inputs(key('a')), undefined);
    await assert.rejects(idx.record({ key: '../../x', slot: '', stage: '', step: '', size: 0, created: '' }, inputs('')), /invalid cache key/);
  });

  it('writes a step\'s inputs ahead of record(); the index names the key only once recorded', async () => {
    const { dir, cleanup } = tempDir('strata-cache-ahead-');
    try {
      const idx = new CacheIndex(dir);
      await idx.recordInputs(key('c'), inputs('early'));
      assert.deepEqual(await idx.inputs(key('c')), inputs('early'), 'inputs file written before any entry');
      assert.equal(await new CacheIndex(dir).get(key('c')), undefined, 'no entry yet');
      await idx.record({ key: key('c'), slot: 's', stage: '0', step: 'RUN c', size: 0, created: at(3) }, inputs('early'));
      assert.equal((await new CacheIndex(dir).get(key('c')))?.step, 'RUN c');
      // A write that fails and is never awaited (its step failed) must not bring the process down.
      void idx.recordInputs('../../x', inputs(''));
      await new Promise((r) => setTimeout(r, 20));
      await assert.rejects(idx.record({ key: '../../x', slot: '', stage: '', step: '', size: 0, created: '' }, inputs('')), /invalid cache key/);
    } finally {
      cleanup();
    }
  });

  it('explains a miss against what the last build of the step used, on the same parent when it can', async () => {
    const { dir, cleanup } = tempDir('strata-cache-explain-');
    try {
      const idx = new CacheIndex(dir);
      const step = (k: string, parent: string, env: string, day: number) =>
        idx.record({ key: key(k), slot: 'run', stage: '0', step: 'RUN x', size: 0, created: at(day) }, inputs(parent, { env: [`E=${env}`] }));
      await step('a', 'p1', '1', 1); // first build
      await step('b', 'p2', '1', 2); // the parent changed
      await new CacheIndex(dir).used([{ key: key('a'), slot: 'run' }]); // undone: p1 again, a hit
      const ask = (k: string, parent: string, env: string) => new CacheIndex(dir).explain({ key: key(k), slot: 'run', step: 'RUN x', inputs: inputs(parent, { env: [`E=${env}`] }) });
      // Not the newest entry (b, on p2): the one the last build used, on the same parent.
      assert.equal((await ask('c', 'p1', '2')).reason, 'env E changed');
      assert.equal((await ask('c', 'p1', '2')).previous?.entry.key, key('a'));
      // b is on p2 although the last build used a: the same parent wins.
      assert.equal((await ask('c', 'p2', '2')).previous?.entry.key, key('b'));
      // A parent no entry has: the last build's entry, and the base named when the parent is one.
      assert.equal((await ask('c', 'p3', '1')).reason, 'parent step changed');
      const base = await new CacheIndex(dir).explain({ key: key('c'), slot: 'run', step: 'RUN x', inputs: inputs('p3'), base: 'base image busybox' });
      assert.equal(base.reason, 'base image busybox changed');
      // Another slot (the stage was renamed): an entry of the same kind on the same parent.
      const moved = await new CacheIndex(dir).explain({ key: key('c'), slot: 'new', step: 'RUN x', inputs: inputs('p2', { env: ['E=3'] }) });
      assert.equal(moved.reason, 'env E changed');
      const other = await new CacheIndex(dir).explain({ key: key('c'), slot: 'new', step: 'COPY y /', inputs: inputs('p2') });
      assert.equal(other.reason, 'no earlier build of this step');
    } finally {
      cleanup();
    }
  });

  it('prunes what the policy selects and forgets it in the slots', async () => {
    const { dir, cleanup } = tempDir('strata-cache-prune-');
    try {
      const idx = new CacheIndex(dir);
      await idx.record({ key: key('a'), slot: 's', stage: '0', step: 'RUN x', size: 5, created: at(1), layer: 'sha256:' + key('1') }, inputs('p'));
      await idx.record({ key: key('b'), slot: 's', stage: '0', step: 'RUN x', size: 5, created: at(2), layer: 'sha256:' + key('2') }, inputs('p'));
      const removed = await idx.prune({ all: false, imageLayers: new Set(['sha256:' + key('2')]) });
      assert.deepEqual(removed.removed.map((e) => e.key), [key('a')]);
      const why = await new CacheIndex(dir).explain({ key: key('c'), slot: 's', step: 'RUN x', inputs: inputs('p', { args: { A: '1' } }) });
      assert.equal(why.previous?.entry.key, key('b'));
    } finally {
      cleanup();
    }
  });
});
