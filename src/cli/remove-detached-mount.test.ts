// `run --rm` leaves a container's files to a detached rm(1) (store/remove-tree.ts
// removeTreeDetached). rm goes through whatever is mounted under the dir it removes; the mount
// table is read before it starts, but a bind mount made into the dir while rm runs would have
// its data deleted. rm runs in a private mount namespace of its own, so a later mount is not in
// its tree. A failpoint stops it after its check, a foreign dir is bind-mounted into the files
// meanwhile, and the foreign data must survive.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitStopped } from '../testing/faults.js';
import { runStrata } from '../testing/cli.js';
import { eventually, lifecycleFixture, mountsUnder, processesMentioning, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('the detached removal of a container\'s files', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  it('does not go through a mount made while it runs', async () => {
    const foreign = fs.mkdtempSync(path.join(path.dirname(fx.root), 'foreign-'));
    fs.writeFileSync(path.join(foreign, 'data'), 'not the container\'s\n');
    const containers = path.join(fx.root, 'containers');
    let mountedAt: string | undefined;
    try {
      const r = runStrata(['run', '--rm', 'busybox', 'sh', '-c', 'mkdir /m && echo own > /m/own'], { root: fx.root, env: { STRATA_FAILPOINT: 'remove.detached-checked:stop' } });
      assert.equal(r.status, 0, r.stderr);
      // (read again while unshare execs sh, when its command line can be empty for a moment)
      await eventually(() => processesMentioning(containers).length > 0, 100, 20).catch(() => undefined);
      const [rm] = processesMentioning(containers);
      assert.ok(rm, 'the detached removal runs');
      await waitStopped(rm, 'the removal stopped after its check');
      // It took the files over first: renamed after itself, so a sweep that sees the command gone leaves them to it.
      const graveyard = fs.readdirSync(containers).find((e) => e.startsWith('.removing-'));
      assert.match(graveyard ?? '', new RegExp(`^\\.removing-[0-9a-f]{64}-${rm}$`), 'the container\'s files wait for their removal, under its pid');
      const dir = path.join(containers, graveyard!);

      mountedAt = path.join(dir, 'upper', 'm');
      execFileSync('mount', ['--bind', foreign, mountedAt]);
      assert.ok(fs.existsSync(path.join(mountedAt, 'data')), 'the foreign dir is seen in the container\'s files');
      process.kill(rm, 'SIGCONT');

      // Gone, and its rm ended (a process read at the moment sh execs rm can show no command line).
      await eventually(() => !fs.existsSync(dir) && processesMentioning(dir).length === 0, 100, 50);
      assert.deepEqual(fs.readdirSync(foreign), ['data'], 'the foreign dir keeps its data');
      assert.equal(fs.readFileSync(path.join(foreign, 'data'), 'utf8'), 'not the container\'s\n');
      // Unlinking the mount point detached the mount here too.
      assert.deepEqual(mountsUnder(containers), []);
    } finally {
      if (mountedAt) spawnSync('umount', ['-l', mountedAt], { stdio: 'ignore' });
      for (const pid of processesMentioning(containers)) process.kill(pid, 'SIGCONT');
      fs.rmSync(path.join(foreign, 'data'), { force: true });
      fs.rmdirSync(foreign);
    }
  });
});

describe('the sweep of what a killed removal left', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  it('removes it in a detached rm of its own, which takes it over and does not go through a mount made meanwhile', async () => {
    const foreign = fs.mkdtempSync(path.join(path.dirname(fx.root), 'foreign-'));
    fs.writeFileSync(path.join(foreign, 'data'), 'not the container\'s\n');
    const containers = path.join(fx.root, 'containers');
    // A removal killed midway: its files renamed away under a pid that is gone, data in them.
    const left = path.join(containers, `.removing-${'e'.repeat(64)}-999999999`);
    fs.mkdirSync(path.join(left, 'upper', 'm'), { recursive: true });
    fs.writeFileSync(path.join(left, 'upper', 'own'), 'the container\'s\n');
    let mountedAt: string | undefined;
    try {
      const r = runStrata(['ps', '-a'], { root: fx.root, env: { STRATA_FAILPOINT: 'remove.detached-checked:stop' } });
      assert.equal(r.status, 0, r.stderr);
      const [rm, ...more] = processesMentioning(left);
      assert.ok(rm, 'the sweep started a detached removal');
      assert.deepEqual(more, [], 'one removal, though ps sweeps twice');
      await waitStopped(rm, 'the removal stopped after its check');
      const adopted = path.join(containers, `.removing-${'e'.repeat(64)}-${rm}`);
      assert.ok(fs.existsSync(adopted) && !fs.existsSync(left), 'the removal renamed the files after itself');
      // Another command's sweep sees a live owner and starts nothing.
      assert.equal(runStrata(['ps', '-a'], { root: fx.root }).status, 0);
      assert.deepEqual(processesMentioning(containers).filter((p) => p !== rm), []);

      mountedAt = path.join(adopted, 'upper', 'm');
      execFileSync('mount', ['--bind', foreign, mountedAt]);
      assert.ok(fs.existsSync(path.join(mountedAt, 'data')), 'the foreign dir is seen in the files');
      process.kill(rm, 'SIGCONT');

      await eventually(() => !fs.existsSync(adopted) && processesMentioning(left).length === 0, 100, 50);
      assert.deepEqual(fs.readdirSync(foreign), ['data'], 'the foreign dir keeps its data');
      assert.deepEqual(fs.readdirSync(containers).filter((e) => e.startsWith('.removing-')), []);
    } finally {
      if (mountedAt) spawnSync('umount', ['-l', mountedAt], { stdio: 'ignore' });
      for (const pid of processesMentioning(containers)) process.kill(pid, 'SIGCONT');
      fs.rmSync(path.join(foreign, 'data'), { force: true });
      fs.rmdirSync(foreign);
    }
  });
});
