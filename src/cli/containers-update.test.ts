// End-to-end: `update` changes a running container's cgroup (read back from the host and from
// inside), keeps the record in step, refuses what Docker refuses without changing anything, a
// new restart policy applies to the run under way, and an update that comes while a start is
// under way reaches the container it starts (failpoints stop the start at its worst moment).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { locateCgroup, readCgroupLimits, readRuntimeStatus, runcRootOf, runcState } from '../runtime/index.js';
import { spawnStrata } from '../testing/cli.js';
import { eventually, lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
const MiB = 1024 * 1024;

describe('update', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });
  const ok = (args: string[]) => fx.ok(args);
  /**
   * Container ID's state as inspect reads it (the shim's status file, runc's state files), read
   * here: a poll, or a look for its pid, then starts no CLI. What matters is then asserted through inspect.
   */
  const statusOf = (id: string) => readRuntimeStatus(path.join(fx.root, 'containers', id), runcRootOf(fx.root), id);
  const pidOf = (id: string) => statusOf(id)?.pid ?? 0;
  const limitsOf = (id: string) => readCgroupLimits(locateCgroup(pidOf(id))!);
  /** Waits (at most MS) until HOLDS of container ID's status. */
  async function waitStatus(id: string, holds: (s: NonNullable<ReturnType<typeof statusOf>>) => boolean, ms = 30_000): Promise<void> {
    for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 50))) {
      const s = statusOf(id);
      if (s && holds(s)) return;
    }
  }
  /** Resolves once the process is stopped (SIGSTOP at its failpoint). */
  const stopped = (pid: number) => eventually(() => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T'), 200, 50);
  const swapFile = V2 ? '/sys/fs/cgroup/memory.swap.max' : '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes';

  it("changes a running container's limits and its HostConfig; refuses Docker's conflicts, changing nothing", () => {
    const up = ok(['run', '-d', '--name', 'up', '-m', '64m', 'busybox', 'sleep', '300']).trim();
    try {
      assert.equal(ok(['update', '--memory', '96m', '--cpus', '0.5', '--pids-limit', '30', '--memory-reservation', '32m', 'up']), 'up\n');
      const limits = limitsOf(up);
      assert.deepEqual([limits.memory, limits.cpuQuota, limits.cpuPeriod, limits.pids], [96 * MiB, 50000, 100000, 30]);
      // The swap set at run (memory + swap = twice 64m) stays: 96m is below it.
      assert.equal(ok(['exec', 'up', 'cat', swapFile]), `${(V2 ? 128 - 96 : 128) * MiB}\n`);
      assert.equal(ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}', 'up']),
        `${96 * MiB} ${128 * MiB} ${32 * MiB} 500000000 30\n`);

      // Refused for this container: exit 1, as Docker's (and strata's rm, start...) for each container that fails.
      for (const [args, message] of [
        [['--memory', '256m'], 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time'],
        [['--memory', '256m', '--memory-swap', '200m'], 'Minimum memoryswap limit should be larger than memory limit, see usage'],
        [['--memory-reservation', '128m'], 'Minimum memory limit can not be less than memory reservation limit, see usage'],
      ] as const) {
        const bad = fx.strata(['update', ...args, 'up']);
        assert.deepEqual([bad.status, bad.stderr], [1, `Error: ${message}\n`], args.join(' '));
      }
      // A malformed flag, or none: strata's usage error, before any container is looked at.
      for (const [args, message] of [
        [['--cpus', 'lots'], 'invalid argument "lots" for "--cpus" flag: failed to parse lots as a rational number'],
        [[], 'you must provide one or more flags when using this command'],
      ] as const) {
        const bad = fx.strata(['update', ...args, 'up']);
        assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`], args.join(' '));
      }
      assert.equal(limitsOf(up).memory, 96 * MiB, 'a refused update left the cgroup as it was');

      assert.equal(ok(['update', '--memory', '256m', '--memory-swap', '-1', 'up']), 'up\n');
      assert.equal(limitsOf(up).memory, 256 * MiB);
      assert.equal(ok(['inspect', '-f', '{{.HostConfig.MemorySwap}}', 'up']), '-1\n');
      const missing = fx.strata(['update', '--cpus', '1', 'nosuchcontainer']);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /nosuchcontainer/);
    } finally {
      fx.strata(['rm', '-f', 'up']);
    }
  });

  it('updates a stopped container, whose next start has the new limits', () => {
    const cold = ok(['create', '--name', 'cold', 'busybox', 'sleep', '300']).trim();
    try {
      assert.equal(ok(['update', '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '12', 'cold']), 'cold\n');
      ok(['start', 'cold']);
      const limits = limitsOf(cold);
      assert.deepEqual([limits.memory, limits.pids], [64 * MiB, 12]);
    } finally {
      fx.strata(['rm', '-f', 'cold']);
    }
  });

  it('a restart by the policy has the limits updated while the container ran, as Docker\'s next start', async () => {
    const relimit = ok(['run', '-d', '--name', 'relimit', '--restart', 'on-failure:1', '-m', '64m', 'busybox', 'sh', '-c', 'if [ -e /again ]; then exec sleep 300; fi; touch /again; until [ -e /updated ]; do sleep 0.1; done; exit 1']).trim();
    try {
      assert.equal(ok(['update', '--memory', '96m', '--memory-swap', '192m', '--pids-limit', '40', 'relimit']), 'relimit\n');
      // Its first run ends only now, after the update.
      ok(['exec', 'relimit', 'touch', '/updated']);
      await waitStatus(relimit, (s) => s.restartCount === 1 && s.state === 'running' && !!s.pid);
      assert.equal(ok(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'relimit']).trim(), '1 running');
      const limits = limitsOf(relimit);
      assert.deepEqual([limits.memory, limits.pids], [96 * MiB, 40]);
    } finally {
      fx.strata(['rm', '-f', 'relimit']);
    }
  });

  it('updates a container between two runs of its restart policy, whose next run has the new limits', async () => {
    const bouncing = ok(['run', '-d', '--name', 'bouncing', '--restart', 'always', '-m', '64m', 'busybox', 'sh', '-c', 'if [ -e /again4 ]; then exec sleep 300; fi; [ -e /again3 ] && touch /again4; [ -e /again2 ] && touch /again3; [ -e /again1 ] && touch /again2; touch /again1; exit 1']).trim();
    try {
      // Its third restart waits 0.8 s (Docker's backoff, doubling from 100 ms): seen in its status
      // file (inspect's own source), so the update comes early in that wait.
      const show = () => {
        const s = statusOf(bouncing);
        return `${s?.restartCount} ${s?.state}`;
      };
      await waitStatus(bouncing, (s) => s.restartCount === 3 && s.state === 'restarting', 30_000);
      assert.equal(show(), '3 restarting');
      const r = fx.strata(['update', '--memory', '96m', '--memory-swap', '192m', 'bouncing']);
      assert.deepEqual([r.status, r.stderr], [0, '']);
      await waitStatus(bouncing, (s) => s.restartCount === 4 && s.state === 'running' && !!s.pid);
      assert.equal(ok(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'bouncing']).trim(), '4 running');
      assert.equal(limitsOf(bouncing).memory, 96 * MiB);
    } finally {
      fx.strata(['rm', '-f', 'bouncing']);
    }
  });

  it('a new restart policy applies to the run under way; none with --rm', async () => {
    const flaky = ok(['run', '-d', '--name', 'flaky', 'busybox', 'sh', '-c', 'until [ -e /updated ]; do sleep 0.1; done; exit 3']).trim();
    try {
      assert.equal(ok(['update', '--restart', 'on-failure:2', 'flaky']), 'flaky\n');
      // Its run ends only now, after the update.
      ok(['exec', 'flaky', 'touch', '/updated']);
      await waitStatus(flaky, (s) => s.restartCount >= 1, 20_000);
      const [restarts, policy] = ok(['inspect', '-f', '{{.RestartCount}}|{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'flaky']).split('|');
      assert.ok(Number(restarts) >= 1, 'the container ran again after its exit 3');
      assert.equal(policy, 'on-failure 2\n');
    } finally {
      fx.strata(['rm', '-f', 'flaky']);
    }
    ok(['run', '-d', '--rm', '--name', 'brief', 'busybox', 'sleep', '300']);
    try {
      const bad = fx.strata(['update', '--restart', 'always', 'brief']);
      assert.deepEqual([bad.status, bad.stderr], [1, 'Error: Restart policy cannot be updated because AutoRemove is enabled for the container\n']);
    } finally {
      fx.strata(['rm', '-f', 'brief']);
    }
  });

  it('an update while a start is under way, its spec made from the old record, reaches the container it starts', async () => {
    const racing = ok(['create', '--name', 'racing', '-m', '64m', 'busybox', 'sleep', '300']).trim();
    try {
      // `start` stopped once it has made the run spec (limits included) from the record.
      const start = spawnStrata(['start', 'racing'], { root: fx.root, env: { STRATA_FAILPOINT: 'start.spec-made:stop' } });
      const closed = new Promise<number | null>((r) => start.once('close', (code) => r(code)));
      await stopped(start.pid!);
      assert.equal(ok(['update', '--memory', '96m', '--memory-swap', '192m', '--pids-limit', '25', 'racing']), 'racing\n');
      start.kill('SIGCONT');
      assert.equal(await closed, 0);
      // Once `start` returns, the container runs with the limits its record names.
      const limits = limitsOf(racing);
      assert.deepEqual([limits.memory, limits.pids], [96 * MiB, 25]);
      assert.equal(ok(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}', 'racing']), `${96 * MiB} 25\n`);
    } finally {
      fx.strata(['rm', '-f', 'racing']);
    }
  });

  it("an update while a foreground run is recorded running but runc has not made its container yet succeeds and reaches it", async () => {
    const run = spawnStrata(['run', '--name', 'early', '-m', '64m', 'busybox', 'sleep', '300'], { root: fx.root, env: { STRATA_FAILPOINT: 'run.status-saved:stop' } });
    const closed = new Promise((r) => run.once('close', r));
    try {
      await stopped(run.pid!);
      const [state, early] = ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}|{{.Id}}', 'early']).trim().split('|');
      assert.equal(state, 'running 0');
      const r = fx.strata(['update', '--memory', '96m', '--memory-swap', '192m', 'early']);
      assert.deepEqual([r.status, r.stderr, r.stdout], [0, '', 'early\n']);
      run.kill('SIGCONT');
      await eventually(() => pidOf(early!) > 0 && limitsOf(early!).memory === 96 * MiB, 100, 100);
    } finally {
      run.kill('SIGCONT');
      fx.strata(['rm', '-f', 'early']);
      await closed;
    }
  });

  it("an update whose runc update came before runc made the container, which it made before the update looked again, succeeds and reaches it", async () => {
    // The run stopped once it is recorded running, before runc makes its container.
    const run = spawnStrata(['run', '--name', 'made', '-m', '64m', 'busybox', 'sleep', '300'], { root: fx.root, env: { STRATA_FAILPOINT: 'run.status-saved:stop' } });
    const closed = new Promise((r) => run.once('close', r));
    let update: ReturnType<typeof spawnStrata> | undefined;
    try {
      await stopped(run.pid!);
      const id = ok(['inspect', '-f', '{{.Id}}', 'made']).trim();
      // The update stopped once its `runc update` was refused: runc has no such container yet.
      update = spawnStrata(['update', '--memory', '96m', '--memory-swap', '192m', 'made'], { root: fx.root, env: { STRATA_FAILPOINT: 'update.runc-refused:stop' } });
      let stderr = '';
      update.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const updated = new Promise<number | null>((r) => update!.once('close', r));
      await stopped(update.pid!);
      // Now runc makes it (the run then waits for the record the update holds).
      run.kill('SIGCONT');
      await eventually(() => runcState(runcRootOf(fx.root), id) !== undefined, 200, 50);
      update.kill('SIGCONT');
      assert.deepEqual([await updated, stderr], [0, '']);
      await eventually(() => pidOf(id) > 0 && limitsOf(id).memory === 96 * MiB, 100, 100);
    } finally {
      update?.kill('SIGCONT');
      run.kill('SIGCONT');
      fx.strata(['rm', '-f', 'made']);
      await closed;
    }
  });
});
