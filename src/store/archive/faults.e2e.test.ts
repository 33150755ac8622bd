// kill -9 of `strata save -o FILE` and `strata load` at the moments that matter (failpoints),
// the CLI alone and its process group: an earlier archive at FILE is never damaged, the hidden
// temp file beside FILE goes with the next command, a killed load leaves an intact store that
// loads the archive again, and images that were complete stay runnable.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../../testing/busybox.js';
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
    bigSum = strata(['run', '--rm', 'big:1', 'cat', '/big.sum']).stdout;
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
    let target: string;
    before(async () => {
      // A second store that already holds a complete image (busybox), which must survive every kill.
      target = path.join(t.dir, 'target');
      await ensureBusybox(await openStore(target));
    });

    const points = ['layer.unpacking:2', 'layer.chunk:2', 'layer.split-placed', 'load.layer-imported', 'load.before-tag', 'index.before-rename'];
    for (const point of points) {
      for (const group of [false, true]) {
        it(`load killed at ${point}, ${group ? 'process group' : 'CLI alone'}`, async () => {
          await runUntilKilled(['load', '-i', archive], { root: target, point, group });
          await assertStoreIntact(target);
          const listed = strata(['images'], target);
          assert.equal(listed.status, 0, listed.stderr);
          assert.match(listed.stdout, /^busybox +latest/m, 'the image that was there is still there');
          await assertNoLeftovers(target);
          const loaded = strata(['load', '-i', archive], target);
          assert.equal(loaded.status, 0, loaded.stderr);
          // One container for both checks: the sum as built, and the layer's bytes against it.
          const ran = strata(['run', '--rm', 'big:1', 'sh', '-c', 'cat /big.sum && sha256sum -c /big.sum >&2'], target);
          assert.equal(ran.stdout, bigSum);
          assert.equal(ran.status, 0, `the layer is whole: ${ran.stderr}`);
          await assertStoreIntact(target);
          // Gone again (its layers with it), so that the next load imports everything anew.
          assert.equal(strata(['rmi', 'big:1'], target).status, 0);
        });
      }
    }
  });
});
