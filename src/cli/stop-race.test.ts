// A `stop` or `kill` that comes while a start has claimed the container but runc does not have it
// yet: it waits for the start to settle, then stops it, and the restart policy sees the stop
// (the start's claim, not the shim, forgets earlier stops: runtime/start-claim.ts). A failpoint
// holds the start between its claim and its "go", so the race is the same every run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnStrata } from '../testing/cli.js';
import { eventually, waitStopped } from '../testing/faults.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('a stop while a start is under way', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  const run = (child: ReturnType<typeof spawnStrata>) => {
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  };

  /** `start NAME` held after its claim while STOPPER runs (until it has written its stop marker); both results. */
  async function stopDuringStart(name: string, stopper: string[]) {
    const marker = path.join(fx.root, 'containers', fx.ok(['inspect', '-f', '{{.Id}}', name]).trim(), 'stop-requested');
    const start = spawnStrata(['start', name], { root: fx.root, env: { STRATA_FAILPOINT: 'start.spec-made:stop' } });
    const started = run(start);
    let stopped;
    try {
      await waitStopped(start.pid!, 'start held at start.spec-made');
      assert.equal(fx.status(name), 'running'); // claimed: seen as running
      stopped = run(spawnStrata(stopper, { root: fx.root }));
      // The stop has looked and marked (the start's claim removed any earlier marker).
      assert.ok(await eventually(() => fs.existsSync(marker)), 'the stop marked the container');
    } finally {
      start.kill('SIGCONT');
    }
    return { start: await started, stop: await stopped };
  }

  for (const stopper of [['stop', '-t', '0'], ['kill']]) {
    it(`${stopper[0]} during the start of a --restart always container stops it for good`, async () => {
      const name = `racy-${stopper[0]}`;
      fx.ok(['create', '--restart', 'always', '--name', name, 'busybox', 'sleep', '1000']);
      const { start, stop } = await stopDuringStart(name, [...stopper, name]);
      assert.equal(start.code, 0, start.stderr);
      assert.equal(stop.code, 0, stop.stderr);
      // Not brought back by its restart policy (Docker's: a container stopped by the user stays
      // stopped). Give a wrong restart its chance: the first comes 100 ms after the exit.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(fx.status(name), 'exited');
      fx.ok(['rm', '-f', name]);
    });
  }
});
