// `run -u` and `exec -u` give the process the groups the container's /etc/group gives its user
// (moby/sys/user's GetExecUser rules): none beyond an explicit group, never root's own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

const SETUP = [
  'echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd',
  'echo app:x:1000: >> /etc/group',
  'echo crew:x:50:other,app >> /etc/group',
  'grep -q "^wheel:x:10:root" /etc/group || echo wheel:x:10:root >> /etc/group',
].join(' && ');

describe('supplementary groups of -u', () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
    assert.equal(fx.strata(['run', '--name', 'setup', 'busybox', 'sh', '-c', SETUP]).status, 0);
    assert.equal(fx.strata(['commit', 'setup', 'groups-img']).status, 0);
    assert.equal(fx.strata(['run', '-d', '--name', 'ug', '--group-add', '777', 'groups-img', 'sleep', '300']).status, 0);
  });
  after(async () => fx.teardown());

  /** [-u value, `id -G` of run, of exec (which adds the container's --group-add 777)]. */
  const table: Array<[string | undefined, string, string]> = [
    ['1000:1000', '1000', '1000 777'],
    ['app', '1000 50', '1000 50 777'],
    ['app:1000', '1000', '1000 777'],
    ['nobody', '65534', '65534 777'],
    ['4321', '0', '0 777'],
    [undefined, '0 10', '0 10 777'],
  ];
  for (const [user, runGroups, execGroups] of table) {
    it(`-u ${user ?? '(none)'}: run and exec get the user's groups, not root's`, () => {
      const flag = user === undefined ? [] : ['-u', user];
      const run = fx.strata(['run', '--rm', ...flag, 'groups-img', 'id', '-G']);
      assert.equal(run.stdout, `${runGroups}\n`, run.stderr);
      const exec = fx.strata(['exec', ...flag, 'ug', 'id', '-G']);
      assert.equal(exec.stdout, `${execGroups}\n`, exec.stderr);
    });
  }

  it('exec -u keeps the container environment, the working directory and the limits', () => {
    const r = fx.strata(['exec', '-u', 'app', '-w', '/tmp', '-e', 'EXTRA=1', 'ug', 'sh', '-c', 'echo $PATH $EXTRA $(pwd) $(ulimit -n)']);
    const root = fx.strata(['exec', 'ug', 'sh', '-c', 'ulimit -n']);
    assert.equal(r.stdout, `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin 1 /tmp ${root.stdout.trim()}\n`, r.stderr);
  });
});
