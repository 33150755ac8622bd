// `cp` into a running container that would swap the destination it resolved for a symlink to a
// host directory (CVE-2018-15664's race): the container is frozen while the copy works, so the
// swap can only come after it, and no host file is touched. A failpoint holds the copy after its
// destination is resolved, while the test tells the container to swap: the same race every run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, runHeldAt, runStrataAsync } from '../testing/faults.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('cp into a running container that swaps its destination', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  for (const how of ['a host directory', 'a tar stream']) {
    it(`is frozen while ${how} is copied in, and the host keeps its files`, async () => {
      const name = how === 'a tar stream' ? 'swapper-tar' : 'swapper';
      const victim = fs.mkdtempSync(path.join(fx.root, 'victim-'));
      fs.writeFileSync(path.join(victim, 'keep.txt'), 'precious\n');
      const src = fs.mkdtempSync(path.join(fx.root, 'src-'));
      fs.writeFileSync(path.join(src, 'keep.txt'), 'OVERWRITTEN\n');
      fs.writeFileSync(path.join(src, 'new.txt'), 'planted\n');
      // Swaps /data/app for a link to the victim as soon as /data/swap-now appears.
      fx.ok(['run', '-d', '--name', name, 'busybox', 'sh', '-c',
        `mkdir -p /data/app; while [ ! -e /data/swap-now ]; do usleep 1000; done; mv /data/app /data/app.old; ln -s ${victim} /data/app; touch /data/swapped; sleep 1000`]);
      const pid = Number(fx.ok(['inspect', '-f', '{{.State.Pid}}', name]).trim());
      const args = how === 'a tar stream' ? ['cp', '-', `${name}:/data/app`] : ['cp', `${src}/.`, `${name}:/data/app/`];
      const input = how === 'a tar stream' ? execFileSync('tar', ['-C', src, '-cf', '-', '.']) : undefined;
      const result = await runHeldAt(args, 'cp.resolved', { root: fx.root, input }, async () => {
        assert.equal(fx.status(name), 'paused', 'frozen while the copy works');
        fs.writeFileSync(`/proc/${pid}/root/data/swap-now`, '');
        // Not frozen, the container swaps within a few ms; give it ample time to (not) do so.
        await new Promise((r) => setTimeout(r, 250));
        assert.ok(!fs.existsSync(`/proc/${pid}/root/data/swapped`), 'the container did nothing while frozen');
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(fx.status(name), 'running', 'thawed after the copy');
      assert.ok(await eventually(() => fs.existsSync(`/proc/${pid}/root/data/swapped`)), 'the container went on once thawed');
      assert.equal(fs.readFileSync(path.join(victim, 'keep.txt'), 'utf8'), 'precious\n');
      assert.deepEqual(fs.readdirSync(victim), ['keep.txt']);
      // The copy went where it was resolved: the directory the container moved aside afterwards.
      assert.equal(fs.readFileSync(`/proc/${pid}/root/data/app.old/keep.txt`, 'utf8'), 'OVERWRITTEN\n');
      assert.equal(fs.readFileSync(`/proc/${pid}/root/data/app.old/new.txt`, 'utf8'), 'planted\n');
      fx.ok(['rm', '-f', name]);
    });
  }

  it('a paused container stays paused after a copy, and a copy killed while it froze one is thawed by the next command', async () => {
    fx.ok(['run', '-d', '--name', 'held', 'busybox', 'sleep', '1000']);
    fx.ok(['pause', 'held']);
    const src = fs.mkdtempSync(path.join(fx.root, 'src-'));
    fs.writeFileSync(path.join(src, 'f.txt'), 'F\n');
    fx.ok(['cp', path.join(src, 'f.txt'), 'held:/f.txt']);
    assert.equal(fx.status('held'), 'paused');
    // Asked of runc itself: every strata command sweeps first, and would thaw it before it looks.
    const id = fx.ok(['inspect', '-f', '{{.Id}}', 'held']).trim();
    const runcStatus = () => JSON.parse(execFileSync('runc', ['--root', path.join(fx.root, 'runc'), 'state', id], { encoding: 'utf8' })).status;
    fx.ok(['unpause', 'held']);
    const killed = await runStrataAsync(['cp', path.join(src, 'f.txt'), 'held:/g.txt'], { root: fx.root, env: { STRATA_FAILPOINT: 'cp.resolved' } });
    assert.notEqual(killed.status, 0);
    assert.equal(runcStatus(), 'paused', 'left frozen by the killed copy');
    fx.ok(['ps']); // any command's sweep thaws what a dead process froze
    assert.equal(runcStatus(), 'running');
    assert.equal(fx.status('held'), 'running');
    fx.ok(['rm', '-f', 'held']);
  });
});
