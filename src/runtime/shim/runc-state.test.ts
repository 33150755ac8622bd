// runcStateFromFiles reads what `runc state` would say of a running or paused container from
// runc's state file and the freezer, without starting runc: it must agree with runc itself,
// running, paused, with a cgroup below the container's frozen (runc: running), and once the
// container is gone (it cannot tell: runc is asked).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lifecycleFixture, type LifecycleFixture } from '../../testing/lifecycle-fixture.js';
import { runcState, runcStateFromFiles } from './state.js';

describe('runc state from its files', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  it('agrees with runc: running, paused, a child cgroup frozen, gone', () => {
    const id = fx.ok(['run', '-d', 'busybox', 'sleep', '300']).trim();
    const runcRoot = path.join(fx.root, 'runc');
    const both = () => {
      const r = runcState(runcRoot, id);
      return { files: runcStateFromFiles(runcRoot, id), runc: r && { status: r.status, pid: r.pid } };
    };
    let s = both();
    assert.equal(s.runc?.status, 'running');
    assert.deepEqual(s.files, s.runc);

    fx.ok(['pause', id]);
    s = both();
    assert.equal(s.runc?.status, 'paused');
    assert.deepEqual(s.files, s.runc);
    fx.ok(['unpause', id]);
    assert.deepEqual(both().files, { status: 'running', pid: s.runc!.pid });

    // A cgroup below the container's, frozen (not runc's doing): runc says running, so do we.
    const cgroup = fs.readFileSync(`/proc/${s.runc!.pid}/cgroup`, 'utf8').match(/^\d+:freezer:(.*)$/m)?.[1];
    if (cgroup) {
      const own = path.join('/sys/fs/cgroup/freezer', cgroup);
      const below = path.join(own, 'below-by-test');
      fs.mkdirSync(below);
      try {
        fs.writeFileSync(path.join(below, 'freezer.state'), 'FROZEN');
        s = both();
        assert.equal(s.runc?.status, 'running');
        assert.deepEqual(s.files, s.runc);
      } finally {
        fs.writeFileSync(path.join(below, 'freezer.state'), 'THAWED');
        fs.rmdirSync(below);
      }
    }

    fx.ok(['rm', '-f', id]);
    assert.equal(runcStateFromFiles(runcRoot, id), undefined);
  });
});
