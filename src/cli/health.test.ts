// End-to-end: health checks of detached containers, probed in the real container by its shim:
// --health-* flags and an image's HEALTHCHECK, the status in inspect and ps (and ps's health
// filter), a probe killed at its timeout inside the container, --no-healthcheck.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readShimStatus } from '../runtime/index.js';
import { spawnStrata } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

type Health = { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string }> } | null;

describe('health checks', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });
  const ok = (args: string[]) => fx.ok(args);
  /** `strata ARGS` without blocking the test: two looks under way at once. */
  const okAsync = (args: string[]) => new Promise<string>((resolve, reject) => {
    const child = spawnStrata(args, { root: fx.root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(stdout) : reject(new Error(`strata ${args.join(' ')}: exit ${status}: ${stderr}`))));
  });
  // State has no Health without a check (as Docker's JSON): read through State.
  const health = (name: string): Health => (JSON.parse(ok(['inspect', '-f', '{{json .State}}', name])) as { Health?: Health }).Health ?? null;
  /** The IDs of the containers run here, by name (`run -d` prints it): no inspect needed to find one's dir. */
  const ids = new Map<string, string>();
  const runDetached = (name: string, args: string[]) => ids.set(name, ok(['run', '-d', '--name', name, ...args]).trim());
  /** What the shim has recorded of NAME's health, read from its status file (a poll then starts no CLI). */
  const recorded = (name: string) => {
    const dir = path.join(fx.root, 'containers', ids.get(name)!);
    return () => readShimStatus(dir)?.health;
  };
  /** Waits (at most MS) until the shim has recorded HOLDS of NAME's health; inspect then says what it is. */
  async function waitRecorded(name: string, holds: (h: NonNullable<ReturnType<ReturnType<typeof recorded>>>) => boolean, ms = 15_000): Promise<Health> {
    const read = recorded(name);
    for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 50))) {
      const h = read();
      if (h && holds(h)) break;
    }
    return health(name);
  }
  async function until(name: string, status: string, ms = 15_000): Promise<Health> {
    const h = await waitRecorded(name, (r) => r.Status === status, ms);
    assert.equal(h?.Status, status, `${name} never became ${status}: ${JSON.stringify(h)}`);
    return h;
  }

  it("a container without a check: {{.State.Health}} is <nil> as Docker's nil *Health (so are SizeRw without --size and Node)", () => {
    ok(['create', '--name', 'unchecked', 'busybox', 'true']);
    try {
      // One inspect for the three looks (lines of one template).
      const [templated, state, others] = ok(['inspect', '-f', '{{.State.Health}} {{json .State.Health}} {{if .State.Health}}yes{{else}}no{{end}}\n{{json .State}}\n{{.SizeRw}} {{.SizeRootFs}} {{.Node}} {{.ExecIDs}} {{.Config.Entrypoint}}', 'unchecked']).split('\n');
      assert.equal(templated, '<nil> null no');
      assert.equal((JSON.parse(state!) as { Health?: Health }).Health ?? null, null, 'still no Health in the JSON');
      assert.equal(others, '<nil> <nil> <nil> [] []');
      assert.match(ok(['inspect', '--size', '-f', '{{.SizeRw}}', 'unchecked']), /^\d+\n$/);
    } finally {
      fx.strata(['rm', '-f', 'unchecked']);
    }
  });

  it('--health-cmd: starting, unhealthy after the retries, healthy once the check passes; shown by ps and its filter', async () => {
    // The start period keeps it "starting" (failures in it do not count) while inspect and ps look,
    // however slow the machine: with none, two failing probes 200 ms apart could beat them to it.
    // Both look at once: one after the other they took over 3 s on a loaded machine (4 s seen).
    runDetached('hc', ['--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '200ms', '--health-retries', '2', '--health-start-period', '5s', 'busybox', 'sleep', '300']);
    try {
      const [inspected, listed] = await Promise.all([
        okAsync(['inspect', '-f', '{{json .State}}\n{{.Config.Healthcheck}} {{json .Config.Healthcheck}}', 'hc']), okAsync(['ps', '--format', '{{.Status}}', '--filter', 'name=hc']),
      ]);
      const [state, config] = inspected.split('\n');
      assert.equal((JSON.parse(state!) as { Health?: Health }).Health?.Status, 'starting');
      // Go's fmt of the *HealthConfig (time.Duration's String); its JSON leaves the zero fields out (omitempty), as Docker's.
      assert.equal(config, '{[CMD-SHELL test -f /tmp/ok && echo fine] 200ms 0s 5s 0s 2} '
        + '{"Test":["CMD-SHELL","test -f /tmp/ok \\u0026\\u0026 echo fine"],"Interval":200000000,"StartPeriod":5000000000,"Retries":2}');
      assert.match(listed, /^Up .* \(health: starting\)\n$/);
      const sick = await until('hc', 'unhealthy', 25_000);
      assert.ok(sick!.FailingStreak >= 2);
      assert.match(ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^hc Up .* \(unhealthy\)$/m);
      ok(['exec', 'hc', 'touch', '/tmp/ok']);
      const well = await until('hc', 'healthy');
      assert.equal(well!.FailingStreak, 0);
      assert.deepEqual([well!.Log.at(-1)!.ExitCode, well!.Log.at(-1)!.Output], [0, 'fine\n']);
      assert.ok(well!.Log.length <= 5);
      assert.equal(ok(['ps', '--format', '{{.Names}}', '--filter', 'health=healthy']), 'hc\n');
      assert.equal(ok(['ps', '--format', '{{.Names}}', '--filter', 'health=unhealthy']), '');
    } finally {
      fx.strata(['rm', '-f', 'hc']);
    }
  });

  it('kills a probe at its timeout, in the container, and records it as Docker does', async () => {
    // 100ms: about when runc exec starts the probe here, before or after it writes its pid (a
    // loaded machine's timing); killing runc alone then left the probe running. Its half ms is
    // in the message as Go's time.Duration prints it (not rounded to the timer's whole ms).
    runDetached('slow', ['--health-cmd', 'sleep 9 & sleep 7', '--health-timeout', '100.5ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '300']);
    try {
      const sick = await until('slow', 'unhealthy');
      assert.deepEqual([sick!.Log[0]!.ExitCode, sick!.Log[0]!.Output], [-1, 'Health check exceeded timeout (100.5ms)']);
      // Three probes timed out (each `sleep 7` would still be running, were it not killed).
      assert.ok((await waitRecorded('slow', (r) => r.Log.length >= 3))!.Log.length >= 3);
      // The timed-out probes were killed inside the container: at most the probe under way is left.
      const ps = ok(['exec', 'slow', 'ps', '-o', 'args']);
      assert.ok(ps.split('\n').filter((l) => l.startsWith('sleep 7')).length <= 1, ps);
      // And what the probes started: a child left behind would also have held the probe's output open.
      assert.ok(ps.split('\n').filter((l) => l.startsWith('sleep 9')).length <= 1, ps);
    } finally {
      fx.strata(['rm', '-f', 'slow']);
    }
  });

  it("runs an image's HEALTHCHECK; --no-healthcheck turns it off, zero --health-* values leave it; bad flags are refused", async () => {
    const ctx = path.join(fx.root, 'hc-ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nHEALTHCHECK --interval=200ms --retries=1 CMD ["true"]\n');
    ok(['build', '-q', '-t', 'withcheck:1', ctx]);
    runDetached('imagecheck', ['withcheck:1', 'sleep', '300']);
    runDetached('nocheck', ['--no-healthcheck', 'withcheck:1', 'sleep', '300']);
    try {
      await until('imagecheck', 'healthy');
      // Stopped, it is unhealthy as Docker's (its monitor stopped), and no longer listed as healthy.
      ok(['stop', '-t', '0', 'imagecheck']);
      assert.equal(health('imagecheck')?.Status, 'unhealthy');
      assert.equal(ok(['ps', '-a', '--format', '{{.Names}}', '--filter', 'health=healthy']), '');
      // A zero --health-* value is "not set" (docker/cli): the image's applies, as with no flag.
      ok(['create', '--name', 'zeroflags', '--health-interval', '0', '--health-timeout', '0s', '--health-retries', '0', 'withcheck:1', 'true']);
      // --no-healthcheck: Test NONE, the image's other fields merged in (moby's daemon merges it like any other).
      assert.equal(ok(['inspect', '-f', '{{.Name}} {{json .State.Health}} {{json .Config.Healthcheck}}', 'nocheck', 'zeroflags']),
        '/nocheck null {"Test":["NONE"],"Interval":200000000,"Retries":1}\n/zeroflags null {"Test":["CMD","true"],"Interval":200000000,"Retries":1}\n');
      assert.equal(ok(['ps', '--format', '{{.Names}}', '--filter', 'health=none']), 'nocheck\n');
    } finally {
      fx.strata(['rm', '-f', 'imagecheck', 'nocheck', 'zeroflags']);
    }
    for (const [args, message] of [
      [['--health-interval', 'often', '--health-cmd', 'true'], 'invalid argument "often" for "--health-interval" flag: time: invalid duration "often"'],
      [['--no-healthcheck', '--health-cmd', 'true'], '--no-healthcheck conflicts with --health-* options'],
    ] as const) {
      const bad = fx.strata(['run', '--rm', ...args, 'busybox', 'true']);
      assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
    }
    // Refused before the image is looked for (a missing one is not pulled for nothing).
    const early = fx.strata(['run', '--rm', '--pull', 'never', '--health-timeout', '-1s', '127.0.0.1:9/nosuch:1', 'true']);
    assert.deepEqual([early.status, early.stderr], [125, 'Error: --health-timeout cannot be negative\n']);
  });
});
