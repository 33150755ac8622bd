// `volume prune --filter`: Docker's label, label! and all filters choose among the unused
// volumes; a volume a container uses is never taken, and a bad filter is an error before any removal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('volume prune --filter', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  const names = () => fx.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean).sort();

  it('removes only the unused volumes the filters select', () => {
    fx.ok(['volume', 'create', '--label', 'keep=1', 'keeper']);
    fx.ok(['volume', 'create', '--label', 'tier=tmp', 'scratch']);
    fx.ok(['volume', 'create', '--label', 'tier=tmp', 'inuse']);
    fx.ok(['volume', 'create', 'plain']);
    fx.ok(['create', '--name', 'user', '-v', 'inuse:/d', 'busybox', 'true']);

    const bad = fx.strata(['volume', 'prune', '-f', '--filter', 'until=1h']);
    assert.notEqual(bad.status, 0);
    assert.equal(bad.stderr, 'Error: invalid filter "until": volume prune supports label, label!, all\n');
    assert.deepEqual(names(), ['inuse', 'keeper', 'plain', 'scratch']);

    assert.match(fx.ok(['volume', 'prune', '-a', '-f', '--filter', 'label=tier=tmp']), /^Deleted Volumes:\nscratch\n\nTotal reclaimed space: /);
    assert.deepEqual(names(), ['inuse', 'keeper', 'plain']);

    // all=true is -a; label! keeps the labelled one.
    assert.match(fx.ok(['volume', 'prune', '-f', '--filter', 'all=true', '--filter', 'label!=keep']), /^Deleted Volumes:\nplain\n\n/);
    assert.deepEqual(names(), ['inuse', 'keeper']);
    fx.ok(['rm', 'user']);
  });
});
