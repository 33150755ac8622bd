// `strata --host ssh://…` / STRATA_HOST against Debian's openssh-server, started here on
// 127.0.0.1 (a free port) with its own sshd_config, host key and an authorized key the test
// makes. The "remote" strata works on a state root of its own; the local one stays empty.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { freePort } from '../registry/testing/registry-server.js';
import { parseHost, remoteTarget } from './remote.js';

const SSHD = '/usr/sbin/sshd';
const skip = !fs.existsSync(SSHD) || process.getuid?.() !== 0 ? 'needs openssh-server and root' : false;
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'strata');

test('host URLs and the --host flag', () => {
  assert.deepEqual(parseHost('ssh://me@example.com:2222'), { host: 'example.com', user: 'me', port: 2222, url: 'ssh://me@example.com:2222' });
  assert.throws(() => parseHost('tcp://x:2375'), /only ssh:\/\//);
  assert.throws(() => parseHost('ssh://x/path'), /extra path/);
  assert.deepEqual(remoteTarget(['--host', 'ssh://h', 'ps', '-a'], {})?.args, ['ps', '-a']);
  assert.deepEqual(remoteTarget(['-H', 'ssh://h', 'ps'], {})?.host.host, 'h');
  assert.equal(remoteTarget(['ps'], { STRATA_HOST: 'ssh://u@h' })?.host.user, 'u');
  assert.equal(remoteTarget(['ps'], { STRATA_HOST: '' }), undefined);
});

describe('a remote engine over ssh', { skip }, () => {
  let dir: string;
  let cleanup: () => void;
  let sshd: ChildProcess;
  let host: string;
  let remoteRoot: string;
  let localRoot: string;
  let env: NodeJS.ProcessEnv;
  let log = '';

  const local = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) => runStrata(args, { root: localRoot, input: o.input, cwd: o.cwd, env: { ...env, ...o.env } });

  before(async () => {
    ({ dir, cleanup } = tempDir('strata-ssh-'));
    remoteRoot = path.join(dir, 'remote-root');
    localRoot = path.join(dir, 'local-root');
    fs.mkdirSync(localRoot);
    await ensureBusybox(await openStore(remoteRoot));
    // The remote machine's `strata`: this checkout's, first on the PATH of ssh sessions.
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.symlinkSync(bin, path.join(dir, 'bin', 'strata'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
    fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
    const port = await freePort();
    host = `ssh://root@127.0.0.1:${port}`;
    const offline = path.resolve(path.dirname(bin), '..', 'testdata', 'registry', 'offline.json');
    fs.writeFileSync(path.join(dir, 'sshd_config'), [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/host_key`, `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'PrintMotd no', 'PrintLastLog no',
      `SetEnv STRATA_ROOT=${remoteRoot} PATH=${dir}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin STRATA_REGISTRIES_CONFIG=${offline}`,
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8')}`);
    fs.writeFileSync(path.join(dir, 'ssh_config'), [
      'Host *', `  IdentityFile ${dir}/client_key`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${dir}/known_hosts`,
      '  StrictHostKeyChecking yes', '  BatchMode yes', '  LogLevel ERROR', '',
    ].join('\n'));
    env = { STRATA_HOST: host, STRATA_SSH_COMMAND: `ssh -F ${dir}/ssh_config` };
    // sshd's privilege separation directory (what Debian's service makes at start).
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    sshd.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (sshd.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(() => {
    if (sshd && sshd.exitCode === null) sshd.kill('SIGTERM');
    cleanup?.();
  });

  test('commands run on the remote machine: its images, its exit codes, stdin streamed', () => {
    const images = local(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(images.status, 0, images.stderr + log);
    assert.equal(images.stdout, 'busybox:latest\n');
    const here = runStrata(['images', '-q'], { root: localRoot });
    assert.equal(here.stdout, '', 'the local root is untouched');
    const code = local(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(code.status, 7);
    assert.equal(code.stdout, 'out\n');
    assert.equal(code.stderr, 'err\n');
    const cat = local(['run', '--rm', '-i', '--network', 'none', 'busybox', 'tr', 'a-z', 'A-Z'], { input: 'streamed through ssh\n' });
    assert.equal(cat.stdout, 'STREAMED THROUGH SSH\n', cat.stderr);
    // The flag form, with STRATA_HOST unset.
    const flag = runStrata(['--host', host, 'images', '-q'], { root: localRoot, env: { STRATA_SSH_COMMAND: env.STRATA_SSH_COMMAND, STRATA_HOST: '' } });
    assert.equal(flag.stdout.trim().length, 12, flag.stderr);
  });

  test('build streams the context (without what .dockerignore excludes) to the remote strata', () => {
    const ctx = path.join(dir, 'ctx');
    fs.mkdirSync(path.join(ctx, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(ctx, 'a.txt'), 'from the client\n');
    fs.writeFileSync(path.join(ctx, 'secret.txt'), 'never sent\n');
    fs.writeFileSync(path.join(ctx, '.dockerignore'), 'secret.txt\n');
    fs.writeFileSync(path.join(ctx, 'sub', 'app.Dockerfile'), 'FROM busybox\nCOPY . /ctx/\nRUN ls -a /ctx > /list && cat /ctx/a.txt >> /list\n');
    const b = local(['build', '-q', '-f', 'sub/app.Dockerfile', '-t', 'remote/app:1', '.'], { cwd: ctx });
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stdout, /^sha256:[a-f0-9]{64}\n$/);
    const list = local(['run', '--rm', '--network', 'none', 'remote/app:1', 'cat', '/list']);
    assert.match(list.stdout, /a\.txt/);
    assert.match(list.stdout, /from the client/);
    assert.doesNotMatch(list.stdout, /secret/);
    assert.equal(runStrata(['images', '-q'], { root: localRoot }).stdout, '');
    // Warm: the remote keeps its cache between builds.
    const again = local(['build', '--progress', 'plain', '-f', 'sub/app.Dockerfile', ctx], { cwd: ctx });
    assert.match(again.stderr, /CACHED/);
  });

  test('bad uses are one line, exit 125', () => {
    const outside = path.join(dir, 'elsewhere.Dockerfile');
    fs.writeFileSync(outside, 'FROM busybox\n');
    const r = local(['build', '-f', outside, path.join(dir, 'ctx')]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^Error: with --host, the Dockerfile must be inside the build context/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    const bad = local(['images'], { env: { STRATA_HOST: 'tcp://127.0.0.1:2375' } });
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /invalid host "tcp:\/\/127\.0\.0\.1:2375": only ssh:/);
    const down = local(['images'], { env: { STRATA_HOST: `ssh://root@127.0.0.1:${1}` } });
    assert.notEqual(down.status, 0);
    assert.match(down.stderr, /ssh: connect to host 127\.0\.0\.1 port 1/);
  });

  test('the terminal goes through: run -it over ssh in a real terminal', { skip: spawnSync('sh', ['-c', 'command -v tmux']).status !== 0 ? 'needs tmux' : false }, async () => {
    const session = `strata-ssh-${process.pid}`;
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    const cli = `STRATA_HOST=${host} STRATA_SSH_COMMAND='${env.STRATA_SSH_COMMAND}' ${bin} run -it --rm --network none busybox sh`;
    assert.equal(tmux('new-session', '-d', '-s', session, '-x', '90', '-y', '25', `${cli}; echo "run exited $?"; sleep 60`).status, 0);
    try {
      let screen = '';
      for (let i = 0; i < 100 && !/tty-is-\/dev\/pts/.test(screen); i++) {
        tmux('send-keys', '-t', session, 'echo tty-is-$(tty)', 'Enter');
        await new Promise((r) => setTimeout(r, 200));
        screen = tmux('capture-pane', '-p', '-t', session).stdout;
      }
      assert.match(screen, /tty-is-\/dev\/pts\/\d+/, screen);
      tmux('send-keys', '-t', session, 'exit 3', 'Enter');
      for (let i = 0; i < 50 && !/run exited/.test(screen); i++) {
        await new Promise((r) => setTimeout(r, 200));
        screen = tmux('capture-pane', '-p', '-t', session).stdout;
      }
      assert.match(screen, /run exited 3/, screen);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });
});
