// Removals that must keep what is still someone's: `rm -v` keeps an anonymous volume another
// container uses (--volumes-from), as Docker does; `volume rm` keeps a volume that a container
// created while it looked at the users now uses.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitStopped } from '../testing/faults.js';
import { spawnStrata } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('removals keep what another container uses', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  const mountpoint = (name: string) => (JSON.parse(fx.ok(['volume', 'inspect', name])) as Array<{ Mountpoint: string }>)[0]!.Mountpoint;

  it('rm -v keeps an anonymous volume that a --volumes-from container mounts, and drops it once unused', () => {
    const before = new Set(fx.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean));
    fx.ok(['create', '--name', 'owner', '-v', '/data', 'busybox', 'true']);
    const [anon] = fx.ok(['volume', 'ls', '-q']).split('\n').filter((v) => v && !before.has(v));
    assert.match(anon ?? '', /^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(mountpoint(anon!), 'precious'), 'data\n');
    fx.ok(['create', '--name', 'borrower', '--volumes-from', 'owner', 'busybox', 'true']);
    fx.ok(['rm', '-v', 'owner']);
    assert.equal(fs.readFileSync(path.join(mountpoint(anon!), 'precious'), 'utf8'), 'data\n');
    fx.ok(['rm', 'borrower']);
    // Used by no container now: `volume prune` takes it (it is anonymous).
    assert.match(fx.ok(['volume', 'prune', '-f']), new RegExp(anon!));
  });

  it('volume rm keeps a volume that a container created meanwhile uses', async () => {
    fx.ok(['volume', 'create', 'racy']);
    fs.writeFileSync(path.join(mountpoint('racy'), 'precious'), 'data\n');
    // `volume rm` stopped once it has found no user, before it moves the volume away.
    const rm = spawnStrata(['volume', 'rm', 'racy'], { root: fx.root, env: { STRATA_FAILPOINT: 'volume.users-read:stop' } });
    let stderr = '';
    rm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => rm.once('close', (code) => resolve(code)));
    try {
      await waitStopped(rm.pid!, 'volume rm stopped at volume.users-read');
      fx.ok(['create', '--name', 'newcomer', '-v', 'racy:/data', 'busybox', 'true']);
    } finally {
      rm.kill('SIGCONT');
    }
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /removing volume "racy": volume is in use by container "[0-9a-f]{12}"/);
    assert.equal(fs.readFileSync(path.join(mountpoint('racy'), 'precious'), 'utf8'), 'data\n');
    fx.ok(['rm', 'newcomer']);
    fx.ok(['volume', 'rm', 'racy']);
  });
});
