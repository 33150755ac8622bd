// A shareable container's /dev/shm (`--ipc shareable`) while a container that joined it runs:
// neither a new start of the donor nor its removal (rm, rm -f, prune) deletes the files the
// joiner still uses; once no joiner runs, a start empties it and a removal takes it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe("a shareable container's /dev/shm while a container that joined it runs", { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  const shmOf = (name: string) => fx.ok(['exec', name, 'sh', '-c', 'ls /dev/shm; cat /dev/shm/* 2>/dev/null; true']);

  it('keeps the files across a start of the donor and refuses its removal until the joiner stops', () => {
    fx.ok(['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sleep', '1000']);
    fx.ok(['run', '-d', '--name', 'joiner', '--ipc', 'container:donor', 'busybox', 'sh', '-c', 'echo important > /dev/shm/b-data; sleep 1000']);
    fx.ok(['run', '-d', '--name', 'second', '--ipc', 'container:joiner', 'busybox', 'sleep', '1000']);
    assert.equal(shmOf('joiner'), 'b-data\nimportant\n');
    fx.ok(['stop', '-t', '0', 'donor']);
    fx.ok(['start', 'donor']);
    // Shared again, not emptied: the joiner keeps its file, and the donor sees it.
    assert.equal(shmOf('joiner'), 'b-data\nimportant\n');
    assert.equal(shmOf('donor'), 'b-data\nimportant\n');

    const refused = /^Error: cannot remove container "donor": container "(joiner|second)" uses its \/dev\/shm \(--ipc container:donor\): stop it first$/m;
    const forced = fx.strata(['rm', '-f', 'donor']);
    assert.notEqual(forced.status, 0);
    assert.match(forced.stderr, refused);
    assert.equal(fx.status('donor'), 'running', 'refused before it was killed');
    fx.ok(['stop', '-t', '0', 'donor']);
    assert.match(fx.strata(['rm', 'donor']).stderr, refused);
    fx.ok(['container', 'prune', '-f']);
    assert.equal(fx.status('donor'), 'exited', 'a prune leaves it');
    assert.equal(shmOf('joiner'), 'b-data\nimportant\n');

    // The joiner that joined through another counts too: both must stop.
    fx.ok(['stop', '-t', '0', 'joiner']);
    assert.match(fx.strata(['rm', 'donor']).stderr, /container "second" uses its \/dev\/shm/);
    fx.ok(['stop', '-t', '0', 'second']);
    fx.ok(['start', 'donor']);
    assert.equal(shmOf('donor'), '', 'no joiner runs: a start begins with an empty /dev/shm');
    fx.ok(['rm', '-f', 'donor', 'joiner', 'second']);
  });
});
