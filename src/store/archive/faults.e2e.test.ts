// kill -9 of `strata save -o FILE` and `strata load` at the moments that matter (failpoints),
// the CLI alone and its process group: an earlier archive at FILE is never damaged, the hidden
// temp file beside FILE goes with the next command, a killed load leaves an intact store that
// loads the archive again, and images that were complete stay runnable.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyStore, ensureBusybox } from '../../testing/busybox.js';
import { openStore } from '../store.js';
import { runStrata, tempDir } from '../../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, runUntilKilled, writeContext } from '../../testing/faults.js';

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('kill -9 of strata save and load', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let archive: string;
  let bigSum: string;
  const strata = (args: string[], r = root) => runStrata(args, { root: r, timeoutMs: 120_000 });

  before(async () => {
    t = tempDir('strata-faults-archive-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    const ctx = writeContext(t.dir, 'ctx', 'FROM busybox\nRUN head -c 3000000 /dev/urandom > /big && sha256sum /big > /big.sum\n');
    const built = strata(['build', '-q', '-t', 'big:1', ctx]);
    assert.equal(built.status, 0, built.stderr);
    // The sum as built, read in the layer's snapshot (the load's container check compares with it).
    const layers = path.join(root, 'layers');
    const sums = fs.readdirSync(layers).filter((n) => /^[0-9a-f]{64}$/.test(n) && fs.existsSync(path.join(layers, n, 'big.sum')));
    assert.equal(sums.length, 1, 'one layer holds /big.sum');
    bigSum = fs.readFileSync(path.join(layers, sums[0]!, 'big.sum'), 'utf8');
    assert.match(bigSum, /^[0-9a-f]{64} {2}\/big\n$/);
    archive = path.join(t.dir, 'out', 'big.tar');
    fs.mkdirSync(path.dirname(archive));
    const saved = strata(['save', '-o', archive, 'big:1']);
    assert.equal(saved.status, 0, saved.stderr);
  });
  after(() => t.cleanup());

  for (const point of ['save.entry-written:2', 'save.before-rename']) {
    for (const group of [false, true]) {
      it(`save -o FILE killed at ${point}, ${group ? 'process group' : 'CLI alone'}`, async () => {
        const before = sha(archive);
        await runUntilKilled(['save', '-o', archive, 'big:1'], { root, point, group });
        assert.equal(sha(archive), before, 'the archive already at FILE is untouched');
        assert.equal(fs.readdirSync(path.dirname(archive)).length, 2, 'the killed save left its hidden temp file beside FILE');
        const listed = strata(['images']);
        assert.equal(listed.status, 0, listed.stderr);
        assert.deepEqual(fs.readdirSync(path.dirname(archive)), ['big.tar'], 'the next command removed it');
        await assertNoLeftovers(root);
        const again = strata(['save', '-o', archive, 'big:1']);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(sha(archive), before, 'saving again gives the same archive');
      });
    }
  }

  describe('load', () => {
    // Each case loads into a store of its own that already holds a complete image (busybox),
    // which must survive every kill: a copy of this one, so that every load imports everything anew.
    let base: string;
    let cases = 0;
    before(async () => {
      base = path.join(t.dir, 'base');
      await ensureBusybox(await openStore(base));
    });

    const points = ['layer.unpacking:2', 'layer.chunk:2', 'layer.split-placed', 'load.layer-imported', 'load.before-tag', 'index.before-rename'];
    for (const point of points) {
      for (const group of [false, true]) {
        it(`load killed at ${point}, ${group ? 'process group' : 'CLI alone'}`, async () => {
          const target = path.join(t.dir, `target-${cases++}`);
          copyStore(base, target);
          await runUntilKilled(['load', '-i', archive], { root: target, point, group });
          await assertStoreIntact(target);
          const listed = strata(['images'], target);
          assert.equal(listed.status, 0, listed.stderr);
          assert.match(listed.stdout, /^busybox +latest/m, 'the image that was there is still there');
          await assertNoLeftovers(target);
          const loaded = strata(['load', '-i', archive], target);
          assert.equal(loaded.status, 0, loaded.stderr);
          // One container for both checks: the sum as built, and the layer's bytes against it
          // (no network: a fresh store's first one would make its bridge and rules).
          const ran = strata(['run', '--rm', '--network', 'none', 'big:1', 'sh', '-c', 'cat /big.sum && sha256sum -c /big.sum >&2'], target);
          assert.equal(ran.stdout, bigSum);
          assert.equal(ran.status, 0, `the layer is whole: ${ran.stderr}`);
          await assertStoreIntact(target);
        });
      }
    }
  });
});
