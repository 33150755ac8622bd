// End-to-end: detached containers under their shims, with real runc, overlayfs and ports.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { spawnStrata, strataCommand, tempDir } from '../testing/cli.js';
import { eventually, freePort, httpGet, lifecycleFixture, logged, type LifecycleFixture, assertNothingLeftBehind } from '../testing/lifecycle-fixture.js';

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
    await eventually(() => logged(fx.root, run.stdout.trim(), 'stderr').includes('url:/index.html'));
    const logs = fx.strata(['logs', 'web']);
    assert.match(logs.stderr, /url:\/index\.html/);
    assert.match(logs.stderr, /response:200/);
    const cat = fx.strata(['exec', 'web', 'cat', '/www/index.html']);
    assert.deepEqual([cat.status, cat.stdout], [0, '<h1>hello from strata</h1>\n']);
    const write = fx.strata(['exec', 'web', 'sh', '-c', 'echo x > /www/new']);
    assert.notEqual(write.status, 0);
    assert.match(write.stderr, /Read-only file system/);
    assert.equal(fs.existsSync(path.join(www.dir, 'new')), false);
    assert.equal(fx.strata(['stop', '-t', '0', 'web']).status, 0);
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
    await eventually(() => logged(fx.root, run.stdout.trim()) === 'ready\n');
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
    assert.equal(fx.strata(['stop', '-t', '0', 'orphan']).status, 0);
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
    // restart is not its end (Docker's daemon keeps it for the start): it runs again, and goes when it stops.
    const again = fx.strata(['run', '-d', '--rm', '--name', 'again', 'busybox', 'sleep', '300']);
    assert.equal(again.status, 0, again.stderr);
    const restart = fx.strata(['restart', '-t', '0', 'again']);
    assert.deepEqual([restart.status, restart.stdout, restart.stderr], [0, 'again\n', '']);
    assert.equal(fx.strata(['inspect', '-f', '{{.State.Status}}', 'again']).stdout, 'running\n');
    assert.equal(fx.strata(['stop', '-t', '0', 'again']).status, 0);
    await eventually(() => !fs.existsSync(path.join(fx.root, 'containers', again.stdout.trim())));
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
    const missing = fx.strata(['run', '-d', '--name', 'nocmd', 'busybox', 'nonexistent']);
    assert.deepEqual([missing.status, missing.stderr], [127, 'Error: unable to start container process: exec: "nonexistent": executable file not found in $PATH\n']);
    assert.match(fx.strata(['ps', '-a']).stdout, /Created\s+nocmd\n/);
    const bad = fx.strata(['run', '-d', '-p', '80:80:80:80', 'busybox', 'true']);
    assert.deepEqual([bad.status, bad.stderr], [125, 'Error: invalid port spec "80:80:80:80": too many colons\n']);
    assert.equal(fx.strata(['rm', '-f', 'dup', 'busy', 'nocmd']).status, 0);
  });

  /** `strata ARGS` in a real 90x25 terminal (tmux), then `echo "ARGS[0] exited $?"`. */
  function inTerminal(name: string, strataArgs: string[]) {
    const { command, args } = strataCommand();
    const cli = [command, ...args, ...strataArgs].map((a) => `'${a}'`).join(' ');
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    const session = `strata-${name}-${process.pid}`;
    const started = tmux('new-session', '-d', '-s', session, '-x', '90', '-y', '25', '-e', `STRATA_ROOT=${fx.root}`, `${cli}; echo "${strataArgs[0]} exited $?"; sleep 60`);
    assert.equal(started.status, 0, started.stderr);
    return {
      screen: () => tmux('capture-pane', '-p', '-t', session).stdout,
      keys: (...keys: string[]) => tmux('send-keys', '-t', session, ...keys),
      close: () => tmux('kill-session', '-t', session),
    };
  }

  /** Types a line until the shell in the terminal answers it (its prompt comes once the terminal size arrives). */
  async function typeUntil(term: ReturnType<typeof inTerminal>, line: string, answer: RegExp): Promise<void> {
    await eventually(() => {
      term.keys(line, 'Enter');
      return answer.test(term.screen());
    }, 50, 200);
  }

  it('attaches through a real terminal and detaches with Ctrl-P Ctrl-Q, leaving the container running', async () => {
    assert.equal(fx.strata(['run', '-dit', '--name', 'term', 'busybox', 'sh']).status, 0);
    const term = inTerminal('lc', ['attach', 'term']);
    try {
      await typeUntil(term, 'echo hi-$((6*7)); stty size', /hi-42\n25 90/);
      term.keys('C-p', 'C-q');
      const after = await eventually(() => /attach exited 0/.test(term.screen()) && term.screen());
      assert.match(after, /read escape sequence/);
      assert.match(fx.strata(['ps']).stdout, /Up .* term/);
      assert.match(fx.strata(['logs', 'term']).stdout, /hi-42\r\n/);
    } finally {
      term.close();
    }
    assert.equal(fx.strata(['rm', '-f', 'term']).status, 0);
  });

  it('detaches from a foreground run -it with Ctrl-P Ctrl-Q, leaving a container that attach and exec use', async () => {
    const run = inTerminal('dt', ['run', '-it', '--name', 'fg', 'busybox', 'sh']);
    try {
      await typeUntil(run, 'echo hi-$((6*7)); stty size', /hi-42\n25 90/);
      run.keys('C-p', 'C-q');
      const after = await eventually(() => /run exited 0/.test(run.screen()) && run.screen());
      assert.match(after, /read escape sequence/);
    } finally {
      run.close();
    }
    assert.match(fx.strata(['ps']).stdout, /Up .* fg\n/);
    const exec = fx.strata(['exec', 'fg', 'echo', 'exec-ok']);
    assert.equal(exec.stdout, 'exec-ok\n', exec.stderr);
    const attach = inTerminal('dt-attach', ['attach', 'fg']);
    try {
      await typeUntil(attach, 'echo back-$((6*7))', /back-42/);
      attach.keys('exit 3', 'Enter');
      await eventually(() => /attach exited 3/.test(attach.screen()));
    } finally {
      attach.close();
    }
    assert.match(fx.strata(['ps', '-a']).stdout, /Exited \(3\) .* fg\n/);
    assert.equal(fx.strata(['rm', 'fg']).status, 0);
  });

  it('leaves no shim, helper, runc process or mount behind', async () => {
    assert.deepEqual((await assertNothingLeftBehind(fx)).mounts, []);
  });
});
