// End-to-end: the restart policy has one home, HostConfig.RestartPolicy. A record written by an
// earlier version with only the --restart text (Strata.restart) restarts by it; where both are
// kept, HostConfig's is the policy; `update --restart` leaves one policy, shown by `inspect`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('restart policy', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  /** Rewrites the container's record as an earlier version would have left it. */
  const edit = (name: string, change: (record: { HostConfig: Record<string, unknown>; Strata: Record<string, unknown> }) => void) => {
    const id = fx.ok(['inspect', '-f', '{{.Id}}', name]).trim();
    const file = path.join(fx.root, 'containers', id, 'config.json');
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    change(record);
    fs.writeFileSync(file, JSON.stringify(record, null, 2));
    return file;
  };
  const waitExited = async (name: string) => {
    let state = '';
    for (let waited = 0; waited < 20_000 && state !== 'exited'; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      state = fx.ok(['inspect', '-f', '{{.State.Status}}', name]).trim();
    }
    assert.equal(state, 'exited');
  };
  const policy = (name: string) => fx.ok(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}', name]);

  it("a record with only an earlier version's --restart text restarts by it; update leaves one policy", async () => {
    fx.ok(['create', '--name', 'older', 'busybox', 'sh', '-c', 'exit 3']);
    const file = edit('older', (r) => {
      delete r.HostConfig.RestartPolicy;
      r.Strata.restart = 'on-failure:2';
    });
    assert.equal(policy('older'), 'on-failure 2\n');
    fx.ok(['start', 'older']);
    await waitExited('older');
    assert.equal(fx.ok(['inspect', '-f', '{{.RestartCount}} {{.State.ExitCode}}', 'older']), '2 3\n');

    assert.equal(fx.ok(['update', '--restart', 'on-failure:1', 'older']), 'older\n');
    assert.equal(policy('older'), 'on-failure 1\n');
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual([record.HostConfig.RestartPolicy, record.Strata.restart], [{ Name: 'on-failure', MaximumRetryCount: 1 }, undefined]);
    fx.ok(['rm', 'older']);
  });

  it("where both are kept, HostConfig's policy is the one the container runs by", async () => {
    fx.ok(['create', '--name', 'both', 'busybox', 'sh', '-c', 'exit 3']);
    edit('both', (r) => {
      r.Strata.restart = 'always';
    });
    assert.equal(policy('both'), 'no 0\n');
    fx.ok(['start', 'both']);
    await waitExited('both');
    // Give a wrong restart its chance (the first comes 100 ms after the exit).
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fx.ok(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'both']), '0 exited\n');
    fx.ok(['rm', 'both']);
  });

  it('a new container keeps its policy in HostConfig only', () => {
    fx.ok(['create', '--name', 'fresh', '--restart', 'unless-stopped', 'busybox', 'true']);
    const id = fx.ok(['inspect', '-f', '{{.Id}}', 'fresh']).trim();
    const record = JSON.parse(fs.readFileSync(path.join(fx.root, 'containers', id, 'config.json'), 'utf8'));
    assert.deepEqual([record.HostConfig.RestartPolicy, record.Strata.restart], [{ Name: 'unless-stopped', MaximumRetryCount: 0 }, undefined]);
    fx.ok(['rm', 'fresh']);
  });
});
