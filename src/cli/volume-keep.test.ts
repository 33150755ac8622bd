// Removals that must keep what is still someone's: `rm -v` keeps an anonymous volume another
// container uses (--volumes-from), as Docker does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
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
});
