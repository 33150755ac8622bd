// `run -d` spawns its container's shim before the container exists (shim/client.ts
// spawnEarlyShim): what that shim leaves when the run goes no further. A run refused after the
// spawn (a name already taken) and a run killed after creating its container must leave no
// shim process and no temp log, and a killed one's container stays Created and starts later.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runStrata, spawnStrata } from '../testing/cli.js';
import { eventually, freePort, httpGet, lifecycleFixture, processesMentioning, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

/** The shim processes of the state root ROOT (their environment names it). */
function shimsOf(root: string): number[] {
  return processesMentioning(root).filter((pid) => {
    try {
      return /shim\/(start\.cjs|main\.[jt]s)/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
}

const shimLogs = (root: string) => (fs.existsSync(path.join(root, 'tmp')) ? fs.readdirSync(path.join(root, 'tmp')).filter((n) => n.endsWith('-shim.log')) : []);

describe('run -d: the shim spawned before the container exists', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  it('takes the container when the run goes on: its log is the container\'s shim.log', () => {
    const id = fx.ok(['run', '-d', '--name', 'first', 'busybox', 'sleep', '300']).trim();
    assert.equal(fx.ok(['inspect', '-f', '{{.State.Running}}', 'first']).trim(), 'true');
    assert.ok(fs.statSync(path.join(fx.root, 'containers', id, 'shim.log')).isFile());
    assert.deepEqual(shimLogs(fx.root), []);
  });

  it('exits, and its log goes, when the run is refused after the spawn (a name already taken)', async () => {
    const before = shimsOf(fx.root).length;
    const r = fx.strata(['run', '-d', '--name', 'first', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /already in use/);
    await eventually(() => shimsOf(fx.root).length === before, 50, 100);
    assert.deepEqual(shimLogs(fx.root), []);
  });

  it('exits when the command is killed before "go"; the next command sweeps its log, the container starts later', async () => {
    const before = shimsOf(fx.root).length;
    const child = spawnStrata(['run', '-d', '--name', 'killed', 'busybox', 'sleep', '300'], { root: fx.root, env: { STRATA_FAILPOINT: 'run.created' } });
    const signal = await new Promise((r) => child.once('exit', (_code, sig) => r(sig)));
    assert.equal(signal, 'SIGKILL');
    // Its temp log was there until the shim's starter died, and the shim ends at the EOF.
    assert.equal(shimLogs(fx.root).length, 1);
    await eventually(() => shimsOf(fx.root).length === before, 50, 100);
    assert.equal(fx.ok(['inspect', '-f', '{{.State.Status}}', 'killed']).trim(), 'created');
    // A foreground run sweeps what dead processes left before it exits.
    fx.ok(['run', '--rm', 'busybox', 'true']);
    assert.deepEqual(shimLogs(fx.root), []);
    fx.ok(['start', 'killed']);
    assert.equal(fx.ok(['inspect', '-f', '{{.State.Running}}', 'killed']).trim(), 'true');
  });

  it('binds the -p ports while the command prepares (not on a host network), and a refused run lets them go', async () => {
    const port = await freePort();
    // With STRATA_TIMING the shim's log says when it bound them.
    const timed = (args: string[]) => runStrata(args, { root: fx.root, env: { STRATA_TIMING: '1' } });
    // Refused after the spawn: the port its shim bound is free again once the shim is gone.
    const refused = timed(['run', '-d', '--name', 'first', '-p', `127.0.0.1:${port}:80`, 'busybox', 'true']);
    assert.equal(refused.status, 125);
    await eventually(async () => {
      const r = timed(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'echo early > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
      return r.status === 0 ? r.stdout.trim() : undefined;
    }, 20, 100).then(async (id) => {
      assert.match(fs.readFileSync(path.join(fx.root, 'containers', id, 'shim.log'), 'utf8'), /shim: ports bound early/);
      assert.deepEqual(await eventually(() => httpGet(port, '/index.html').then((p) => p.status === 200 && p, () => undefined)), { status: 200, body: 'early\n' });
    });
    fx.ok(['rm', '-f', 'web']);
    // On the host's network -p is discarded: the container's own server takes the port.
    const host = timed(['run', '-d', '--network', 'host', '-p', `127.0.0.1:${port}:${port}`, 'busybox', 'sh', '-c', `echo host > /tmp/index.html; exec httpd -f -p 127.0.0.1:${port} -h /tmp`]);
    assert.equal(host.status, 0, host.stderr);
    const id = host.stdout.trim();
    assert.doesNotMatch(fs.readFileSync(path.join(fx.root, 'containers', id, 'shim.log'), 'utf8'), /ports bound early/);
    assert.deepEqual(await eventually(() => httpGet(port, '/index.html').then((p) => p.status === 200 && p, () => undefined)), { status: 200, body: 'host\n' });
    fx.ok(['rm', '-f', id]);
  });

  // Without -i or -t, the command has a launcher (runtime/shim/runc-launcher.ts) start the first
  // start's runc as soon as it is prepared; the shim adopts that run.
  describe('the first start launched by the command', () => {
    /** The runc process running container ID, if any, and its parent's command line. */
    function runcOf(id: string): { pid: number; parent: string } | undefined {
      for (const pid of processesMentioning(id)) {
        let cmdline: string;
        let ppid: string;
        try {
          cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          ppid = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]!;
        } catch {
          continue;
        }
        if (!cmdline.startsWith('runc\0') || !cmdline.includes('\0run\0')) continue;
        let parent = '';
        try {
          parent = fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8');
        } catch {
          // gone meanwhile
        }
        return { pid, parent };
      }
      return undefined;
    }

    it('runs under the launcher, its output logged and its exit code recorded by the shim', async () => {
      const id = fx.ok(['run', '-d', '--name', 'launched', 'busybox', 'sh', '-c', 'echo out; echo err >&2; sleep 1; exit 3']).trim();
      const runc = runcOf(id);
      assert.ok(runc, 'runc runs the container');
      assert.match(runc.parent, /^sh\0-c\0[^]*#end/, 'runc\'s parent is the launcher, not the shim');
      await eventually(() => fx.ok(['inspect', '-f', '{{.State.Status}}', 'launched']).trim() === 'exited', 100, 100);
      assert.equal(fx.ok(['inspect', '-f', '{{.State.ExitCode}}', 'launched']).trim(), '3');
      const logs = fx.strata(['logs', 'launched']);
      assert.equal(logs.stdout, 'out\n');
      assert.equal(logs.stderr, 'err\n');
      // A start after that is the shim's own (no launcher).
      fx.ok(['start', 'launched']);
      await eventually(() => fx.ok(['inspect', '-f', '{{.State.Status}}', 'launched']).trim() === 'exited', 100, 100);
      assert.equal(fx.strata(['logs', 'launched']).stdout, 'out\nout\n');
      fx.ok(['rm', 'launched']);
    });

    it('is not imagined from the user\'s environment: a shim without a launcher runs runc itself', () => {
      // A shim handed STRATA_SHIM_LAUNCHER would take fds 4-6 it was never given (Node's own).
      fx.ok(['create', '--name', 'plain', 'busybox', 'sleep', '300']);
      const r = runStrata(['start', 'plain'], { root: fx.root, env: { STRATA_SHIM_LAUNCHER: '1', STRATA_EARLY_PORTS: '["127.0.0.1:1:1"]' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fx.ok(['inspect', '-f', '{{.State.Running}}', 'plain']).trim(), 'true');
      fx.ok(['rm', '-f', 'plain']);
    });

    it('starts nothing when the command is killed after telling its shim, before the launch', async () => {
      const child = spawnStrata(['run', '-d', '--name', 'told', 'busybox', 'sleep', '300'], { root: fx.root, env: { STRATA_FAILPOINT: 'start.shim-told' } });
      const signal = await new Promise((r) => child.once('exit', (_code, sig) => r(sig)));
      assert.equal(signal, 'SIGKILL');
      const id = fx.ok(['inspect', '-f', '{{.Id}}', 'told']).trim();
      // The shim saw no launch: the container did not start, and nothing of its run is left.
      await eventually(() => processesMentioning(id).length === 0, 50, 100);
      assert.equal(fx.ok(['inspect', '-f', '{{.State.Status}}', 'told']).trim(), 'created');
      assert.match(fx.ok(['inspect', '-f', '{{.State.Error}}', 'told']), /not started/);
      fx.ok(['start', 'told']);
      assert.equal(fx.ok(['inspect', '-f', '{{.State.Running}}', 'told']).trim(), 'true');
      fx.ok(['rm', '-f', 'told']);
    });

    it('is killed when the shim cannot publish its port, and the container stays Created', async () => {
      const port = await freePort();
      const taken = net.createServer();
      await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
      const containers = () => fs.readdirSync(path.join(fx.root, 'containers'));
      const before = new Set(containers());
      try {
        const r = fx.strata(['run', '-d', '--name', 'taken', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '300']);
        assert.equal(r.status, 125);
        assert.match(r.stderr, new RegExp(`${port}`));
        // Found without a command (the next one's sweep would end a run whose shim is gone).
        const id = containers().find((c) => !before.has(c))!;
        assert.equal(runcOf(id), undefined);
        await eventually(() => processesMentioning(id).length === 0, 50, 100);
        assert.equal(fx.ok(['inspect', '-f', '{{.State.Status}}', 'taken']).trim(), 'created');
        fx.ok(['rm', 'taken']);
      } finally {
        taken.close();
      }
    });
  });
});
