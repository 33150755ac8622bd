// Removals racing starts: `rm` and `container prune` find a container stopped, a `start` brings
// it up before they remove it; its files must stay (runtime/start-claim.ts). And `rm -f` of a
// container that SIGKILL does not end (frozen) keeps it. Failpoints stop the remover between its
// look and its removal, so the race is the same every run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitStopped } from '../testing/faults.js';
import { runStrata, spawnStrata } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('removals racing a start', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  const idOf = (name: string) => fx.ok(['inspect', '-f', '{{.Id}}', name]).trim();

  /** Runs strata ARGS stopped at container.remove-checked, runs MEANWHILE, lets it go on; its exit code and stderr. */
  async function stoppedAtRemoval(args: string[], meanwhile: () => void): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const child = spawnStrata(args, { root: fx.root, env: { STRATA_FAILPOINT: 'container.remove-checked:stop' } });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      await waitStopped(child.pid!, `${args.join(' ')} stopped at container.remove-checked`);
      meanwhile();
    } finally {
      child.kill('SIGCONT');
    }
    return { code: await exited, stderr, stdout };
  }

  it('rm of a stopped container that a start brings up meanwhile refuses, and its files stay', async () => {
    fx.ok(['create', '--name', 'racy', 'busybox', 'sh', '-c', 'echo precious > /precious; sleep 1000']);
    const id = idOf('racy');
    const { code, stderr } = await stoppedAtRemoval(['rm', 'racy'], () => fx.ok(['start', 'racy']));
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim(), 'Error: cannot remove container "racy": container is running: stop the container before removing or force remove');
    assert.equal(fx.status('racy'), 'running');
    assert.equal(fx.ok(['exec', 'racy', 'cat', '/precious']), 'precious\n');
    assert.ok(fs.existsSync(path.join(fx.root, 'containers', id, 'upper', 'precious')));
    fx.ok(['rm', '-f', 'racy']);
  });

  it('container prune leaves a container that a start brought up meanwhile', async () => {
    fx.ok(['create', '--name', 'pruned-racy', 'busybox', 'sleep', '1000']);
    const id = idOf('pruned-racy');
    const { code, stderr, stdout } = await stoppedAtRemoval(['container', 'prune', '-f'], () => fx.ok(['start', 'pruned-racy']));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stdout, new RegExp(id));
    assert.equal(fx.status('pruned-racy'), 'running');
    assert.ok(fs.existsSync(path.join(fx.root, 'containers', id, 'upper')));
    fx.ok(['rm', '-f', 'pruned-racy']);
  });

  it('rm -f of a container still live after SIGKILL keeps it and its files', () => {
    fx.ok(['run', '-d', '--name', 'stuck', 'busybox', 'sleep', '1000']);
    const id = idOf('stuck');
    const dir = path.join(fx.root, 'containers', id);
    // Its process frozen in a freezer cgroup below the container's own: SIGKILL stays pending, so
    // runc still has it however long rm -f waits (10 s; 1 s here, STRATA_TEST_KILL_WAIT_MS), as a
    // process in uninterruptible sleep.
    // (runc thaws a container it sees paused before SIGKILL; the container's own cgroup is not frozen.)
    const pid = Number(fx.ok(['inspect', '-f', '{{.State.Pid}}', 'stuck']).trim());
    const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(/^\d+:freezer:(.*)$/m)?.[1];
    assert.ok(cgroup, 'the container has a freezer cgroup');
    const own = path.join('/sys/fs/cgroup/freezer', cgroup);
    const frozen = path.join(own, 'frozen-by-test');
    fs.mkdirSync(frozen);
    let r;
    try {
      fs.writeFileSync(path.join(frozen, 'cgroup.procs'), String(pid));
      fs.writeFileSync(path.join(frozen, 'freezer.state'), 'FROZEN');
      r = runStrata(['rm', '-f', 'stuck'], { root: fx.root, env: { STRATA_TEST_KILL_WAIT_MS: '1000' } });
    } finally {
      // Back in its thawed cgroup, it dies of the pending SIGKILL.
      fs.writeFileSync(path.join(own, 'cgroup.procs'), String(pid));
      try {
        fs.rmdirSync(frozen);
      } catch {
        // runc removed the container's cgroups already
      }
    }
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim(), 'Error: cannot remove container "stuck": it is still running after SIGKILL (frozen, or in uninterruptible sleep): the container and its files are kept');
    assert.ok(fs.existsSync(path.join(dir, 'upper')));
    fx.ok(['rm', '-f', 'stuck']);
  });

  it('a start after the removal went through finds no container', async () => {
    fx.ok(['create', '--name', 'gone', 'busybox', 'sleep', '1000']);
    const id = idOf('gone');
    // The start looked the container up, then stops; the removal goes through meanwhile.
    const child = spawnStrata(['start', 'gone'], { root: fx.root, env: { STRATA_FAILPOINT: 'start.looked-up:stop' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      await waitStopped(child.pid!, 'start stopped at start.looked-up');
      fx.ok(['rm', 'gone']);
    } finally {
      child.kill('SIGCONT');
    }
    assert.equal(await exited, 1, stderr);
    assert.equal(stderr.trim(), `Error: no such container: "${id}"`);
    assert.deepEqual(fs.readdirSync(path.join(fx.root, 'containers')).filter((e) => e.includes(id)), []);
  });
});
