// End-to-end, second half (a file of its own so the two halves run in parallel): volumes,
// restart policy, exec flags, -P, pause/top/stats/kill, outbound networking.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { readRuntimeStatus, runcRootOf } from '../runtime/index.js';
import { eventually, httpGet, lifecycleFixture, logged, type LifecycleFixture, assertNothingLeftBehind } from '../testing/lifecycle-fixture.js';

describe('detached containers: volumes, exec, state', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
  });

  it('keeps named volumes, shares them with --volumes-from and drops anonymous ones with rm -v', async () => {
    const w = fx.strata(['run', '--name', 'writer', '-v', 'shared:/data', '-v', '/scratch', 'busybox', 'sh', '-c', 'echo kept > /data/f; echo tmp > /scratch/f']);
    assert.equal(w.status, 0, w.stderr);
    const vols = fx.strata(['volume', 'ls', '-q']).stdout.trim().split('\n');
    assert.equal(vols.length, 2);
    assert.ok(vols.includes('shared'));
    const r = fx.strata(['run', '--rm', '--volumes-from', 'writer:ro', 'busybox', 'sh', '-c', 'cat /data/f /scratch/f; echo no > /data/g']);
    assert.match(r.stdout, /^kept\ntmp\n$/);
    assert.match(r.stderr, /Read-only file system/);
    const inUse = fx.strata(['volume', 'rm', 'shared']);
    assert.equal(inUse.status, 1);
    assert.match(inUse.stderr, /volume is in use by container/);
    assert.equal(fx.strata(['rm', '-v', 'writer']).status, 0);
    assert.deepEqual(fx.strata(['volume', 'ls', '-q']).stdout, 'shared\n');
    const again = fx.strata(['run', '--rm', '--mount', 'type=volume,src=shared,dst=/d,readonly', 'busybox', 'cat', '/d/f']);
    assert.equal(again.stdout, 'kept\n');
    assert.equal(fx.strata(['volume', 'rm', 'shared']).stdout, 'shared\n');
  });

  it("fills an anonymous volume for the image's VOLUME from the image, and rm -v drops it", async () => {
    assert.equal(fx.strata(['run', '--name', 'seed', 'busybox', 'sh', '-c', 'mkdir /data && echo seeded > /data/f']).status, 0);
    assert.equal(fx.strata(['commit', '-c', 'VOLUME /data', 'seed', 'volimg']).status, 0);
    const before = new Set(fx.strata(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean));
    const run = fx.strata(['run', '--name', 'user', 'volimg', 'sh', '-c', 'cat /data/f; echo more > /data/g']);
    assert.deepEqual([run.status, run.stdout], [0, 'seeded\n']);
    const created = fx.strata(['volume', 'ls', '-q']).stdout.split('\n').filter((v) => v && !before.has(v));
    assert.equal(created.length, 1);
    assert.match(created[0]!, /^[0-9a-f]{64}$/);
    const [info] = JSON.parse(fx.strata(['volume', 'inspect', created[0]!]).stdout) as Array<{ Mountpoint: string }>;
    assert.deepEqual(fs.readdirSync(info!.Mountpoint).sort(), ['f', 'g']);
    assert.equal(fx.strata(['rm', '-v', 'user', 'seed']).status, 0);
    assert.equal(fx.strata(['volume', 'ls', '-q']).stdout.includes(created[0]!), false);
  });

  it('applies --restart on-failure:N, then stays exited', async () => {
    const run = fx.strata(['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo try; exit 3']);
    assert.equal(run.status, 0, run.stderr);
    await eventually(() => logged(fx.root, run.stdout.trim()) === 'try\ntry\ntry\n', 200);
    assert.equal(fx.strata(['logs', 'flaky']).stdout, 'try\ntry\ntry\n');
    const wait = fx.strata(['wait', 'flaky']);
    assert.equal(wait.stdout, '3\n');
    const [info] = JSON.parse(fx.strata(['inspect', 'flaky']).stdout) as Array<{ RestartCount: number }>;
    assert.equal(info!.RestartCount, 2);
    // A start by the user counts from zero again (Docker resets its restart manager).
    assert.equal(fx.strata(['update', '--restart', 'no', 'flaky']).status, 0);
    assert.equal(fx.strata(['start', 'flaky']).status, 0);
    assert.deepEqual([fx.strata(['wait', 'flaky']).stdout, fx.strata(['inspect', '-f', '{{.RestartCount}}', 'flaky']).stdout], ['3\n', '0\n']);
    // --restart always brings back even a clean exit, until `stop`.
    const loop = fx.strata(['run', '-d', '--name', 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'echo round; sleep 0.2']);
    assert.equal(loop.status, 0, loop.stderr);
    await eventually(() => logged(fx.root, loop.stdout.trim()).split('\n').filter(Boolean).length >= 3, 200);
    assert.equal(fx.strata(['stop', 'loop']).status, 0);
    const rounds = fx.strata(['logs', 'loop']).stdout;
    assert.ok(rounds.split('\n').filter(Boolean).length >= 3, rounds);
    assert.match(fx.strata(['ps', '-a']).stdout, /Exited \(\d+\) .* loop\n/);
    // Between its runs (the backoff has grown to 3.2 s after five), Docker's refusals, not runc's words.
    const crash = fx.strata(['run', '-d', '--name', 'crash', '--restart', 'always', 'busybox', 'false']);
    assert.equal(crash.status, 0, crash.stderr);
    // Watched in its status file (no CLI start per poll), then seen as inspect shows it.
    const crashId = crash.stdout.trim();
    const between = () => readRuntimeStatus(path.join(fx.root, 'containers', crashId), runcRootOf(fx.root), crashId);
    await eventually(() => between()?.state === 'restarting' && between()!.restartCount >= 5, 200, 50);
    assert.match(fx.strata(['inspect', '-f', '{{.State.Restarting}} {{.RestartCount}}', 'crash']).stdout, /^true ([5-9]|\d\d)\n/);
    const restarting = /^Error: container "[0-9a-f]{12}" is restarting, wait until the container is running\n$/;
    for (const args of [['pause', 'crash'], ['exec', 'crash', 'true'], ['top', 'crash']]) {
      const refused = fx.strata(args);
      assert.match(refused.stderr, restarting, args.join(' '));
      assert.notEqual(refused.status, 0, args.join(' '));
    }
    assert.equal(fx.strata(['rm', '-f', 'crash']).status, 0);
    // Stopped by the user: no further round.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fx.strata(['logs', 'loop']).stdout, rounds);
    assert.equal(fx.strata(['rm', 'loop', 'flaky']).status, 0);
  });

  it('gives a detached container its default network, the host\'s loopback services out of reach (no traffic leaves)', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'out', 'busybox', 'sleep', '60']).status, 0);
    const route = fx.strata(['exec', 'out', 'ip', 'route']);
    const gateway = /^default via (\S+) dev eth0/m.exec(route.stdout)?.[1];
    assert.ok(gateway, `${route.stdout}${route.stderr}`);
    // A service on the host's 127.0.0.1 is not reached through the gateway. (The server is a
    // process of its own: ours is blocked while the CLI runs.)
    const hostOnly = spawn(process.execPath, ['-e', "require('net').createServer((c) => c.end('host secret\\n')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = Number(String(await new Promise<Buffer>((r) => hostOnly.stdout.once('data', r))).trim());
      const probe = fx.strata(['exec', 'out', 'sh', '-c', `nc -w 2 ${gateway} ${port} </dev/null`]);
      assert.doesNotMatch(probe.stdout, /host secret/);
      assert.notEqual(probe.status, 0);
    } finally {
      hostOnly.kill('SIGKILL');
    }
    // Up before the container's first instruction (runc starts it in the plumbed namespace).
    assert.equal(fx.strata(['run', '-d', '--name', 'early', 'busybox', 'ip', 'route']).status, 0);
    assert.equal(fx.strata(['wait', 'early']).stdout, '0\n');
    assert.match(fx.strata(['logs', 'early']).stdout, /^default via \S+ dev eth0/m);
    assert.equal(fx.strata(['rm', 'early']).status, 0);
    assert.equal(fx.strata(['run', '-d', '--name', 'isolated', '--network', 'none', 'busybox', 'sleep', '60']).status, 0);
    assert.equal(fx.strata(['exec', 'isolated', 'ip', 'route']).stdout, '');
    assert.equal(fx.strata(['rm', '-f', 'out', 'isolated']).status, 0);
  });

  it('reports a detached start that cannot run as Docker does, keeping no address for it', () => {
    // The CLI prepares the start while the shim loads; this one fails there (no such command),
    // and the shim, doing it again, records the failure.
    const r = fx.strata(['run', '-d', '--name', 'nocmd', 'busybox', 'nope']);
    assert.deepEqual([r.status, r.stderr], [127, 'Error: unable to start container process: exec: "nope": executable file not found in $PATH\n']);
    assert.equal(fx.strata(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'nocmd']).stdout, 'created 127\n');
    const ctr = fx.strata(['inspect', '--format', '{{.Id}}', 'nocmd']).stdout.trim();
    const endpoints = fs.readdirSync(path.join(fx.root, 'networks')).filter((d) => /^[0-9a-f]{64}$/.test(d)).flatMap((n) => fs.readdirSync(path.join(fx.root, 'networks', n, 'endpoints')));
    assert.deepEqual(endpoints.filter((e) => e === `${ctr}.json`), []);
    assert.equal(fx.strata(['rm', 'nocmd']).status, 0);
  });

  it('execs with -i, -d, -u, -e, -w and passes exit codes', async () => {
    const ex = fx.ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']).trim();
    assert.equal(fx.strata(['exec', '-i', 'ex', 'cat'], { input: 'piped in\n' }).stdout, 'piped in\n');
    assert.equal(fx.strata(['exec', '-u', 'nobody', 'ex', 'id', '-u']).stdout, '65534\n');
    assert.equal(fx.strata(['exec', '-e', 'A=1', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $A $(pwd)']).stdout, '1 /tmp\n');
    assert.equal(fx.strata(['exec', '-d', 'ex', 'sh', '-c', 'echo done > /tmp/flag']).status, 0);
    // Waited for in the container's upper dir (no CLI start per poll), then read through exec.
    const flag = path.join(fx.root, 'containers', ex, 'upper', 'tmp', 'flag');
    await eventually(() => fs.existsSync(flag) && fs.readFileSync(flag, 'utf8') === 'done\n');
    assert.equal(fx.strata(['exec', 'ex', 'cat', '/tmp/flag']).stdout, 'done\n');
    assert.equal(fx.strata(['exec', 'ex', 'sh', '-c', 'exit 7']).status, 7);
    assert.equal(fx.strata(['exec', 'ex', 'echo', '010', '1e5', '-n']).stdout, '010 1e5 -n\n');
    const missing = fx.strata(['exec', 'ex', 'nope']);
    assert.deepEqual([missing.status, missing.stderr], [127, 'Error: unable to start container process: exec: "nope": executable file not found in $PATH\n']);
    assert.equal(fx.strata(['exec', 'ex', '/etc/passwd']).status, 126);
    // -t with no terminal of ours (a script, CI): the command still gets a pty, as Docker's;
    // -it refuses a stdin that is not a terminal, as `run -it` does.
    const tty = fx.strata(['exec', '-t', 'ex', 'sh', '-c', 'tty; exit 3']);
    assert.equal(tty.status, 3, tty.stderr);
    assert.match(tty.stdout, /^\/dev\/pts\/\d+\r\n$/);
    assert.equal(fx.strata(['exec', '-t', '-u', 'nobody', 'ex', 'id', '-u']).stdout, '65534\r\n');
    const notTty = fx.strata(['exec', '-it', 'ex', 'true'], { input: '' });
    assert.deepEqual([notTty.status, notTty.stderr], [125, 'Error: the input device is not a TTY\n']);
    assert.equal(fx.strata(['rm', '-f', 'ex']).status, 0);
    assert.equal(fx.strata(['create', '--name', 'cold', 'busybox', 'true']).status, 0);
    const stopped = fx.strata(['exec', 'cold', 'true']);
    assert.equal(stopped.status, 125);
    assert.match(stopped.stderr, /^Error: container "[0-9a-f]{12}" is not running\n$/);
    assert.equal(fx.strata(['rm', 'cold']).status, 0);
  });

  it('publishes every EXPOSEd port with -P, and mounts a tmpfs', async () => {
    assert.equal(fx.strata(['create', '--name', 'expbase', 'busybox', 'true']).status, 0);
    assert.equal(fx.strata(['commit', '-c', 'EXPOSE 80', 'expbase', 'expimg']).status, 0);
    const www = tempDir('strata-www-');
    fs.writeFileSync(path.join(www.dir, 'index.html'), 'exposed\n');
    try {
      assert.equal(fx.strata(['run', '-d', '--name', 'pub', '-P', '-v', `${www.dir}:/www:ro`, '--mount', 'type=tmpfs,dst=/scratch', 'expimg', 'httpd', '-f', '-p', '80', '-h', '/www']).status, 0);
      const line = fx.strata(['port', 'pub', '80']).stdout;
      const m = /^0\.0\.0\.0:(\d+)\n$/.exec(line);
      assert.ok(m, line);
      assert.deepEqual(await httpGet(Number(m[1]), '/index.html'), { status: 200, body: 'exposed\n' });
      assert.match(fx.strata(['ps']).stdout, new RegExp(`0\\.0\\.0\\.0:${m[1]}->80/tcp\\s+pub`));
      assert.match(fx.strata(['exec', 'pub', 'sh', '-c', 'grep " /scratch " /proc/mounts']).stdout, /^tmpfs \/scratch tmpfs /);
    } finally {
      www.cleanup();
    }
    assert.equal(fx.strata(['rm', '-f', 'pub', 'expbase']).status, 0);
  });

  it('pauses, unpauses, lists processes and usage, and kills', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'idle', 'busybox', 'sleep', '300']).status, 0);
    assert.equal(fx.strata(['pause', 'idle']).status, 0);
    assert.match(fx.strata(['ps']).stdout, /Up .* \(Paused\)/);
    assert.match(fx.strata(['exec', 'idle', 'true']).stderr, /is paused/);
    // top lists a frozen container's processes (Docker's daemon asks its task for them, paused or not).
    assert.match(fx.strata(['top', 'idle']).stdout, /\ssleep 300\n$/);
    // As Docker's daemon: start does not thaw a paused container, it refuses it (each name in turn).
    const start = fx.strata(['start', 'idle', 'nosuch']);
    assert.deepEqual([start.status, start.stdout, start.stderr], [1, '', 'Error: cannot start a paused container, try unpause instead\nError: no such container: "nosuch"\n']);
    const attached = fx.strata(['start', '-a', 'idle']);
    assert.deepEqual([attached.status, attached.stdout, attached.stderr], [125, '', 'Error: cannot start a paused container, try unpause instead\n']);
    // rm without -f: Docker's daemon's words for a paused container.
    assert.deepEqual(fx.strata(['rm', 'idle']).stderr, 'Error: cannot remove container "idle": container is paused and must be unpaused first\n');
    assert.equal(fx.strata(['unpause', 'idle']).status, 0);
    const top = fx.strata(['top', 'idle']).stdout.split('\n');
    assert.match(top[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.match(top[1]!, /^root\s+\d+\s+\d+\s+\d+\s+\S+\s+\?\s+\d\d:\d\d:\d\d\s+sleep 300$/);
    const stats = fx.strata(['stats', '--no-stream', 'idle']).stdout.split('\n');
    assert.match(stats[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    assert.match(stats[1]!, /^[0-9a-f]{12}\s+idle\s+\d+\.\d\d%\s+[\d.]+[KMG]?i?B \/ [\d.]+[KMG]iB\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+1$/);
    assert.equal(fx.strata(['kill', '-s', 'TERM', 'idle']).status, 0);
    // sleep as pid 1 ignores SIGTERM (no handler): still running; SIGKILL ends it.
    assert.match(fx.strata(['ps']).stdout, /idle/);
    assert.equal(fx.strata(['kill', 'idle']).status, 0);
    assert.equal(fx.strata(['wait', 'idle']).stdout, '137\n');
    // A bad signal is what is wrong, even with a container that no longer runs (Docker's daemon parses it first).
    const badSignal = fx.strata(['kill', '-s', 'FOO', 'idle']);
    assert.deepEqual([badSignal.status, badSignal.stderr], [1, 'Error: invalid signal: "FOO"\n']);
    // kill of a paused container resumes it after the signal (its stop signal, or any when it has none), as Docker's daemon.
    const trapper = fx.strata(['run', '-d', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "echo got; exit 7" TERM; echo ready; while true; do sleep 0.1; done']);
    assert.equal(trapper.status, 0, trapper.stderr);
    await eventually(() => logged(fx.root, trapper.stdout.trim()) === 'ready\n');
    assert.equal(fx.strata(['pause', 'trapper']).status, 0);
    assert.equal(fx.strata(['kill', '-s', 'TERM', 'trapper']).stdout, 'trapper\n');
    await eventually(() => fx.strata(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'trapper']).stdout === 'exited 7\n');
    assert.equal(fx.strata(['logs', 'trapper']).stdout, 'ready\ngot\n');
    assert.equal(fx.strata(['rm', 'idle', 'trapper']).status, 0);
  });

  it('leaves no shim, helper, runc process or mount behind', async () => {
    assert.deepEqual((await assertNothingLeftBehind(fx)).mounts, []);
  });
});
