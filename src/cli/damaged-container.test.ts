// A container whose record is torn (its config.json not JSON, as after a disk that lost a
// write's tail) is left out of `ps` with a warning, and can still be removed by its name or ID, as Docker lets a container its daemon
// could not load go: before, `rm` failed on the record it could not read, and since `image
// prune` refuses to collect while a record is unreadable (the layers it holds are unknown), the
// store could not be cleaned without deleting files by hand.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('rm of a container whose record is damaged', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });
  const tear = (id: string) => fs.writeFileSync(path.join(fx.root, 'containers', id, 'config.json'), '{"Id": "');

  it('removes a stopped one by name: its files and name go, and prune works again', () => {
    const id = fx.ok(['create', '--name', 'torn', 'busybox', 'true']).trim();
    fx.ok(['create', '--name', 'whole', 'busybox', 'true']);
    tear(id);
    // ps lists the others and says which one it left out.
    const ps = fx.strata(['ps', '-a', '--format', '{{.Names}}']);
    assert.equal(ps.status, 0, ps.stderr);
    assert.equal(ps.stdout, 'whole\n');
    assert.match(ps.stderr, new RegExp(`WARNING: container "${id.slice(0, 12)}" is damaged: .* not listed`));
    fx.ok(['rm', 'whole']);
    const blocked = fx.strata(['image', 'prune', '-a', '-f']);
    assert.equal(blocked.status, 125);
    assert.match(blocked.stderr, /is damaged/);
    assert.equal(fx.ok(['rm', 'torn']), 'torn\n');
    assert.equal(fs.existsSync(path.join(fx.root, 'containers', id)), false);
    assert.equal(fx.strata(['image', 'prune', '-f']).status, 0);
    // The name is free again.
    fx.ok(['create', '--name', 'torn', 'busybox', 'true']);
    fx.ok(['rm', 'torn']);
  });

  it('refuses a running one without -f, and kills and removes it with -f', async () => {
    const id = fx.ok(['run', '-d', '--name', 'torn-live', 'busybox', 'sleep', '300']).trim();
    tear(id);
    const runcState = () => spawnSync('runc', ['--root', path.join(fx.root, 'runc'), 'state', id]).status;
    assert.equal(runcState(), 0, 'runc has it');
    const refused = fx.strata(['rm', id.slice(0, 12)]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /its record is damaged and it is running: force remove/);
    assert.ok(fs.existsSync(path.join(fx.root, 'containers', id)));
    fx.ok(['rm', '-f', 'torn-live']);
    assert.equal(fs.existsSync(path.join(fx.root, 'containers', id)), false);
    assert.notEqual(runcState(), 0, 'runc no longer has it');
    // Its shim ends with it: nothing of the root is left running.
    await eventually(() => fx.leftovers().processes.length === 0, 50, 100);
  });
});
