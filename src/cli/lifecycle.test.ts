// End-to-end: detached containers under their shims, with real runc, overlayfs and ports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { spawnStrata, strataCommand, tempDir } from '../testing/cli.js';
import { slirpAvailable } from '../runtime/ports-slirp.js';
import { eventually, freePort, httpGet, lifecycleFixture, type LifecycleFixture } from './lifecycle-fixture.js';

const ID = /^[0-9a-f]{64}$/;

describe('detached containers', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  const www = tempDir('strata-www-');
  before(async () => {
    fx = await lifecycleFixture();
    fs.writeFileSync(path.join(www.dir, 'index.html'), '<h1>hello from strata</h1>\n');
  });
  after(async () => {
    await fx.teardown();
    www.cleanup();
  });

  it('serves a web page through a published port, with logs, exec, a read-only volume, stop and start', async () => {
    const port = await freePort();
    const run = fx.strata(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, '-v', `${www.dir}:/www:ro`, 'busybox', 'httpd', '-f', '-vv', '-p', '80', '-h', '/www']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout.trim(), ID);
    const page = await httpGet(port, '/index.html');
    assert.deepEqual(page, { status: 200, body: '<h1>hello from strata</h1>\n' });
    const ps = fx.strata(['ps']);
    assert.match(ps.stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp\\s+web`));
    assert.equal(fx.strata(['port', 'web']).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    const logs = await eventually(() => {
      const l = fx.strata(['logs', 'web']);
      return l.stderr.includes('url:/index.html') && l;
    });
    assert.match(logs.stderr, /response:200/);
    const cat = fx.strata(['exec', 'web', 'cat', '/www/index.html']);
    assert.deepEqual([cat.status, cat.stdout], [0, '<h1>hello from strata</h1>\n']);
    const write = fx.strata(['exec', 'web', 'sh', '-c', 'echo x > /www/new']);
    assert.notEqual(write.status, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.equal(fs.existsSync(path.join(www.dir, 'new')), false);
    assert.equal(fx.strata(['stop', '-t', '1', 'web']).status, 0);
    await assert.rejects(httpGet(port, '/index.html'));
    assert.match(fx.strata(['ps', '-a']).stdout, /Exited \(137\)/);
    assert.equal(fx.strata(['start', 'web']).status, 0);
    assert.equal((await httpGet(port, '/index.html')).status, 200);
    assert.equal(fx.strata(['rm', '-f', 'web']).status, 0);
    await assert.rejects(httpGet(port, '/index.html'));
  });

  it('publishes ports for an attached run too, streaming output and passing the exit code', async () => {
    const port = await freePort();
    const child = spawnStrata(['run', '--rm', '--name', 'fg', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c',
      'echo up; httpd -p 80 -h /etc; until [ -f /tmp/go ]; do sleep 0.1; done; echo bye; exit 4'], { root: fx.root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const page = await eventually(async () => (await httpGet(port, '/hostname').catch(() => undefined)));
    assert.equal(page.status, 200);
    assert.equal(fx.strata(['exec', 'fg', 'touch', '/tmp/go']).status, 0);
    assert.equal(await exited, 4);
    assert.equal(out, 'up\nbye\n');
    await eventually(() => !fx.strata(['ps', '-a']).stdout.includes(' fg\n'));
  });

  it('outlives the CLI and leaves its output in logs and Exited (0) in ps -a', async () => {
    const run = fx.strata(['run', '-d', '--name', 'batch', 'busybox', 'sh', '-c', 'echo hello; sleep 1; echo bye >&2']);
    assert.equal(run.status, 0, run.stderr);
    const wait = fx.strata(['wait', 'batch']);
    assert.equal(wait.stdout, '0\n');
    const logs = fx.strata(['logs', 'batch']);
    assert.deepEqual([logs.stdout, logs.stderr], ['hello\n', 'bye\n']);
    assert.match(fx.strata(['ps', '-a']).stdout, /Exited \(0\) .* batch/);
    assert.match(fx.strata(['logs', '-t', '--tail', '1', 'batch']).stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z bye\n$/);
    assert.equal(fx.strata(['logs', '--since', '2999-01-01T00:00:00Z', 'batch']).stdout, '');
  });

  it('follows logs until the container exits', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done']).status, 0);
    const follow = spawnStrata(['logs', '-f', 'ticker'], { root: fx.root });
    let out = '';
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => follow.on('close', (c) => resolve(c)));
    assert.deepEqual([code, out], [0, 'tick 1\ntick 2\ntick 3\n']);
  });

  it("stops with the image's STOPSIGNAL", async () => {
    assert.equal(fx.strata(['create', '--name', 'sigbase', 'busybox', 'true']).status, 0);
    assert.equal(fx.strata(['commit', '-c', 'STOPSIGNAL SIGUSR1', 'sigbase', 'sigimg']).status, 0);
    const run = fx.strata(['run', '-d', '--name', 'sig', 'sigimg', 'sh', '-c', 'trap "echo got-usr1; exit 0" USR1; echo ready; while :; do sleep 0.1; done']);
    assert.equal(run.status, 0, run.stderr);
    await eventually(() => fx.strata(['logs', 'sig']).stdout === 'ready\n');
    assert.equal(fx.strata(['stop', 'sig']).status, 0);
    assert.equal(fx.strata(['logs', 'sig']).stdout, 'ready\ngot-usr1\n');
    assert.match(fx.strata(['ps', '-a']).stdout, /Exited \(0\) .* sig\n/);
    assert.equal(fx.strata(['rm', 'sig', 'sigbase']).status, 0);
  });

  it('tells the truth after its shim is killed', async () => {
    const run = fx.strata(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '300']);
    assert.equal(run.status, 0, run.stderr);
    const dir = path.join(fx.root, 'containers', run.stdout.trim());
    const { shimPid } = JSON.parse(fs.readFileSync(path.join(dir, 'shim.json'), 'utf8')) as { shimPid: number };
    process.kill(shimPid, 'SIGKILL');
    await eventually(() => !fs.existsSync(`/proc/${shimPid}`));
    // runc still runs the container: it is up, and stop still works through runc.
    assert.match(fx.strata(['ps']).stdout, /Up .* orphan/);
    assert.equal(fx.strata(['stop', '-t', '1', 'orphan']).status, 0);
    assert.match(fx.strata(['ps', '-a']).stdout, /Exited \(137\) .* orphan/);
    assert.equal(fx.strata(['start', 'orphan']).status, 0);
    assert.match(fx.strata(['ps']).stdout, /Up .* orphan/);
    assert.equal(fx.strata(['rm', '-f', 'orphan']).status, 0);
  });

  it('removes itself with run -d --rm', async () => {
    const run = fx.strata(['run', '-d', '--rm', '--name', 'gone', 'busybox', 'true']);
    assert.equal(run.status, 0, run.stderr);
    const id = run.stdout.trim();
    await eventually(() => !fx.strata(['ps', '-aq', '--no-trunc']).stdout.includes(id));
    assert.equal(fs.existsSync(path.join(fx.root, 'containers', id)), false);
  });

  it('refuses a name in use, a port in use and a bad port spec with one clear line', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'dup', 'busybox', 'sleep', '30']).status, 0);
    const again = fx.strata(['run', '-d', '--name', 'dup', 'busybox', 'true']);
    assert.equal(again.status, 125);
    assert.match(again.stderr, /^Error: conflict: the container name "\/dup" is already in use/);
    const held = net.createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', () => r()));
    const port = (held.address() as net.AddressInfo).port;
    try {
      const busy = fx.strata(['run', '-d', '--name', 'busy', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '30']);
      assert.equal(busy.status, 125);
      assert.equal(busy.stderr, `Error: cannot publish port 127.0.0.1:${port}/tcp: address already in use\n`);
      assert.doesNotMatch(fx.strata(['ps']).stdout, / busy$/m);
    } finally {
      held.close();
    }
    const bad = fx.strata(['run', '-d', '-p', '80:80:80:80', 'busybox', 'true']);
    assert.deepEqual([bad.status, bad.stderr], [125, 'Error: invalid port spec "80:80:80:80": too many colons\n']);
    assert.equal(fx.strata(['rm', '-f', 'dup', 'busy']).status, 0);
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
    await eventually(() => fx.strata(['logs', 'flaky']).stdout === 'try\ntry\ntry\n', 200);
    const wait = fx.strata(['wait', 'flaky']);
    assert.equal(wait.stdout, '3\n');
    const [info] = JSON.parse(fx.strata(['inspect', 'flaky']).stdout) as Array<{ RestartCount: number }>;
    assert.equal(info!.RestartCount, 2);
  });

  it('gives a detached container an outbound route through slirp4netns (no traffic sent)', { skip: !slirpAvailable() && 'slirp4netns is not installed' }, async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'out', 'busybox', 'sleep', '60']).status, 0);
    assert.match(fx.strata(['exec', 'out', 'ip', 'route']).stdout, /^default via 10\.0\.2\.2 dev tap0/m);
    assert.equal(fx.strata(['run', '-d', '--name', 'isolated', '--network', 'none', 'busybox', 'sleep', '60']).status, 0);
    assert.equal(fx.strata(['exec', 'isolated', 'ip', 'route']).stdout, '');
    assert.equal(fx.strata(['rm', '-f', 'out', 'isolated']).status, 0);
  });

  it('execs with -i, -d, -u, -e, -w and passes exit codes', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']).status, 0);
    assert.equal(fx.strata(['exec', '-i', 'ex', 'cat'], { input: 'piped in\n' }).stdout, 'piped in\n');
    assert.equal(fx.strata(['exec', '-u', 'nobody', 'ex', 'id', '-u']).stdout, '65534\n');
    assert.equal(fx.strata(['exec', '-e', 'A=1', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $A $(pwd)']).stdout, '1 /tmp\n');
    assert.equal(fx.strata(['exec', '-d', 'ex', 'sh', '-c', 'echo done > /tmp/flag']).status, 0);
    await eventually(() => fx.strata(['exec', 'ex', 'cat', '/tmp/flag']).stdout === 'done\n');
    assert.equal(fx.strata(['exec', 'ex', 'sh', '-c', 'exit 7']).status, 7);
    const missing = fx.strata(['exec', 'ex', 'nope']);
    assert.deepEqual([missing.status, missing.stderr], [127, 'Error: unable to start container process: exec: "nope": executable file not found in $PATH\n']);
    assert.equal(fx.strata(['exec', 'ex', '/etc/passwd']).status, 126);
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
  });

  it('attaches through a real terminal and detaches with Ctrl-P Ctrl-Q, leaving the container running', async () => {
    assert.equal(fx.strata(['run', '-dit', '--name', 'term', 'busybox', 'sh']).status, 0);
    const session = `strata-lc-${process.pid}`;
    const { command, args } = strataCommand();
    const cli = [command, ...args].map((a) => `'${a}'`).join(' ');
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    const started = tmux('new-session', '-d', '-s', session, '-x', '90', '-y', '25', '-e', `STRATA_ROOT=${fx.root}`, `${cli} attach term; echo "attach exited $?"; sleep 60`);
    assert.equal(started.status, 0, started.stderr);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
      // The shell's prompt is redrawn for us once the terminal size arrives; type a line.
      await eventually(() => {
        tmux('send-keys', '-t', session, 'echo hi-$((6*7)); stty size', 'Enter');
        return /hi-42\n25 90/.test(screen());
      }, 50, 200);
      tmux('send-keys', '-t', session, 'C-p', 'C-q');
      const after = await eventually(() => /attach exited 0/.test(screen()) && screen());
      assert.match(after, /read escape sequence/);
      assert.match(fx.strata(['ps']).stdout, /Up .* term/);
      assert.match(fx.strata(['logs', 'term']).stdout, /hi-42\r\n/);
    } finally {
      tmux('kill-session', '-t', session);
    }
    assert.equal(fx.strata(['rm', '-f', 'term']).status, 0);
  });

  it('leaves no shim, helper, runc process or mount behind', async () => {
    const ids = fx.strata(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length) fx.strata(['rm', '-f', ...ids]);
    const left = await eventually(() => {
      const l = fx.leftovers();
      return l.processes.length === 0 && l;
    }, 50);
    assert.deepEqual(left.mounts, []);
  });
});
