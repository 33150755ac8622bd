// `run -d` spawns its container's shim before the container exists (shim/client.ts
// spawnEarlyShim): what that shim leaves when the run goes no further. A run refused after the
// spawn (a name already taken) and a run killed after creating its container must leave no
// shim process and no temp log, and a killed one's container stays Created and starts later.
import assert from 'node:assert/strict';
import fs from 'node:fs';
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
});
