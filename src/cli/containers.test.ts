// End-to-end: the Docker flow through the real CLI, real runc and overlayfs, each suite with
// its own state root, cleaned up (containers deleted, mounts gone) even when a test fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRuntimeStatus, runcRootOf } from '../runtime/index.js';
import { openStore } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';

function cleanupRoot(root: string): void {
  const runcRoot = path.join(root, 'runc');
  const list = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' });
  for (const id of (list.stdout ?? '').split('\n').filter(Boolean)) spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
  for (const m of mounts.filter((m) => m.startsWith(root)).reverse()) spawnSync('umount', ['-l', m]);
  fs.rmSync(root, { recursive: true, force: true });
}

async function setupRoot(): Promise<{ root: string; s: (args: string[], input?: string) => ReturnType<typeof runStrata>; done: () => void }> {
  const t = tempDir('strata-ctr-');
  await ensureBusybox(await openStore(t.dir));
  return { root: t.dir, s: (args, input) => runStrata(args, { root: t.dir, input }), done: () => cleanupRoot(t.dir) };
}

describe('the Docker flow: run, ps, diff, commit, images, run, history, tag, rmi', () => {
  let env: Awaited<ReturnType<typeof setupRoot>>;
  before(async () => (env = await setupRoot()));
  after(() => env.done());

  it('walks the whole flow', () => {
    const { s } = env;
    const run = s(['run', '--name', 't1', 'busybox', 'sh', '-c', 'echo hi > /FILE']);
    assert.equal(run.status, 0, run.stderr);
    const ps = s(['ps', '-a']);
    assert.match(ps.stdout, /^CONTAINER ID {3}IMAGE {5}COMMAND {18}CREATED {2,}STATUS {2,}PORTS {5}NAMES$/m);
    assert.match(ps.stdout, /^[0-9a-f]{12} {3}busybox {3}"sh -c echo hi > \/FI…" {3}.* ago {3,}Exited \(0\) .* ago {3,}t1$/m);
    assert.equal(s(['ps']).stdout.split('\n').filter(Boolean).length, 1, 'ps without -a lists running containers only');
    assert.equal(s(['diff', 't1']).stdout, 'A /FILE\n');
    const id = s(['ps', '-a', '-q', '--no-trunc']).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(id), 'the exited container has nothing mounted');
    assert.ok(fs.existsSync(path.join(env.root, 'containers', id, 'upper', 'FILE')), 'its upper dir persists');
    const commit = s(['commit', '-m', 'my message', '-c', 'CMD ["cat", "/FILE"]', 't1', 'snap:1']);
    assert.equal(commit.status, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.match(s(['images']).stdout, /^snap {9}1 /m);
    const again = s(['run', '--rm', 'snap:1', 'ls', '/FILE']);
    assert.equal(again.stdout, '/FILE\n', again.stderr);
    assert.equal(s(['run', '--rm', 'snap:1']).stdout, 'hi\n', 'the committed CMD applies');
    const history = s(['history', 'snap:1']).stdout;
    assert.match(history.split('\n')[1]!, /sh -c echo hi > \/FILE .*my message/);
    assert.equal(s(['tag', 'snap:1', 'snap:2']).status, 0);
    assert.match(s(['images']).stdout, /^snap {9}2 /m);
    assert.equal(s(['rmi', 'snap:2']).status, 0);
    assert.doesNotMatch(s(['images']).stdout, /^snap {9}2 /m);
    assert.equal(s(['ps', '-a', '-q']).stdout.split('\n').filter(Boolean).length, 1, '--rm containers are gone');
    assert.equal(s(['rm', 't1']).stdout, 't1\n');
    assert.equal(s(['ps', '-a', '-q']).stdout, '');
  });

  it('passes exit codes through: the container\'s, 125, 126, 127', () => {
    const { s } = env;
    assert.equal(s(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).status, 3);
    const notFound = s(['run', '--rm', 'busybox', 'nope']);
    assert.equal(notFound.status, 127);
    assert.equal(notFound.stderr, 'Error: unable to start container process: exec: "nope": executable file not found in $PATH\n');
    const notExec = s(['run', '--rm', 'busybox', '/etc/passwd']);
    assert.equal(notExec.status, 126);
    assert.match(notExec.stderr, /exec: "\/etc\/passwd": permission denied/);
    assert.equal(s(['run', '--rm', '--bogus', 'busybox', 'true']).status, 125);
    const noImage = s(['run', '--rm', 'nosuchimage', 'true']);
    assert.equal(noImage.status, 125);
    assert.match(noImage.stderr, /no such image/);
    const notTty = s(['run', '--rm', '-it', 'busybox', 'true'], '');
    assert.equal(notTty.status, 125);
    assert.equal(notTty.stderr, 'Error: the input device is not a TTY\n');
    assert.equal(s(['ps', '-a', '-q']).stdout, '', 'nothing is left behind');
  });

  it('applies -e, --env-file, -w, -u, -h, --entrypoint and the image config', () => {
    const { s, root } = env;
    const envFile = path.join(root, 'envfile');
    fs.writeFileSync(envFile, 'FROM_FILE=yes\n');
    const out = s(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp/work', '-h', 'myhost', 'busybox', 'sh', '-c', 'echo $A $FROM_FILE $(pwd) $(hostname) $HOSTNAME']);
    assert.equal(out.stdout, '1 yes /tmp/work myhost myhost\n', out.stderr);
    assert.equal(s(['run', '--rm', '-u', 'nobody', 'busybox', 'id', '-u']).stdout, '65534\n');
    assert.equal(s(['run', '--rm', '-u', '1234:5678', 'busybox', 'id']).stdout, 'uid=1234 gid=5678\n');
    assert.match(s(['run', '--rm', '-u', 'ghost', 'busybox', 'id']).stderr, /unable to find user ghost: no matching entries in passwd file/);
    assert.equal(s(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'a', 'b']).stdout, 'a b\n');
    // One container with the defaults: its capabilities and its seccomp mode.
    const status = s(['run', '--rm', 'busybox', 'grep', '-E', '^(CapEff|Seccomp):', '/proc/self/status']).stdout;
    assert.match(status, /^CapEff:\t00000000a80425fb$/m);
    if (fs.existsSync('/usr/share/containers/seccomp.json')) {
      assert.match(status, /^Seccomp:\t2$/m, "Docker's default filter");
      assert.equal(s(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'grep ^Seccomp: /proc/self/status']).stdout, 'Seccomp:\t0\n');
    }
  });

  it('isolates the network: own loopback by default, only lo with none, the host with host', () => {
    const { s } = env;
    assert.equal(s(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net']).stdout, 'lo\n');
    // Compare namespaces, not interface lists: other tests add and remove veths on the host meanwhile.
    const hostNetns = fs.readlinkSync('/proc/self/ns/net');
    const netnsAndName = (args: string[]) => s(['run', '--rm', ...args, 'busybox', 'sh', '-c', 'readlink /proc/self/ns/net; hostname; ip addr show lo']).stdout.split('\n');
    const [ownNetns, , ...ownLo] = netnsAndName([]);
    assert.match(ownLo.join('\n'), /inet 127\.0\.0\.1\/8/);
    assert.notEqual(ownNetns, hostNetns);
    // On the host's network the container is named as the host (Docker's), unless -h says otherwise.
    const [onHost, hostName] = netnsAndName(['--network', 'host']);
    assert.deepEqual([onHost, hostName], [hostNetns, os.hostname()]);
    assert.equal(s(['run', '--rm', '--network', 'host', '-h', 'named', 'busybox', 'hostname']).stdout, 'named\n');
  });

  it('bind-mounts host directories read-write and read-only', () => {
    const { s, root } = env;
    const dir = path.join(root, 'bind');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'in'), 'from host');
    assert.equal(s(['run', '--rm', '-v', `${dir}:/data`, 'busybox', 'sh', '-c', 'cat /data/in; echo out > /data/out']).stdout, 'from host');
    assert.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'out\n');
    const ro = s(['run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'sh', '-c', 'echo x > /data/ro']);
    assert.notEqual(ro.status, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.ok(!fs.existsSync(path.join(dir, 'ro')));
  });

  it('bind-mounts a host file where the image has nothing: an empty file is its mount point, as podman and Docker make it', () => {
    const { s, root } = env;
    const file = path.join(root, 'conf.ini');
    fs.writeFileSync(file, 'key=1\n');
    const r = s(['run', '--rm', '-v', `${file}:/new/dir/conf.ini:ro`, '-v', `${file}:/etc/extra.ini`, 'busybox', 'sh', '-c', 'cat /new/dir/conf.ini /etc/extra.ini; [ -f /new/dir/conf.ini ] && echo file']);
    assert.equal(r.stdout, 'key=1\nkey=1\nfile\n', r.stderr);
    const onDir = s(['run', '--rm', '-v', `${file}:/etc`, 'busybox', 'true']);
    assert.equal(onDir.status, 125);
    assert.equal(onDir.stderr, `Error: invalid mount "${file}:/etc": cannot mount a file onto the directory "/etc" of the image\n`, 'one line, said once');
  });
});

describe('container commands: rm, wait, rename, export, cp, prune', () => {
  let env: Awaited<ReturnType<typeof setupRoot>>;
  before(async () => (env = await setupRoot()));
  after(() => env.done());

  it('refuses to remove a running container without -f, kills it with -f', async () => {
    const { s, root } = env;
    const child = spawnStrata(['run', '--name', 'sleeper', 'busybox', 'sleep', '60'], { root });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // Waited for in the state files inspect and ps read (no CLI start per poll), then seen through ps.
      const containers = path.join(root, 'containers');
      const running = () => fs.existsSync(containers) && fs.readdirSync(containers).filter((d) => /^[0-9a-f]{64}$/.test(d)).some((id) => readRuntimeStatus(path.join(containers, id), runcRootOf(root), id)?.state === 'running');
      for (let i = 0; i < 200 && !running(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(s(['ps']).stdout, /Up .* sleeper/);
      const refused = s(['rm', 'sleeper']);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /cannot remove container "sleeper": container is running: stop the container before removing or force remove/);
      assert.equal(s(['rm', '-f', 'sleeper']).status, 0);
      assert.equal(await exited, 137);
      assert.equal(s(['ps', '-a', '-q']).stdout, '');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('forwards SIGTERM to the container and exits with its code', async () => {
    const { s, root } = env;
    const child = spawnStrata(['run', '--name', 'trapper', 'busybox', 'sh', '-c', 'trap "exit 42" TERM; echo ready; while true; do sleep 0.1; done'], { root });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      assert.match(s(['inspect', '--format', '{{.State.Status}}', 'trapper']).stdout, /running/);
      child.kill('SIGTERM');
      assert.equal(await exited, 42);
      assert.match(s(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, /^trapper Exited \(42\) /m);
      assert.equal(s(['rm', 'trapper']).status, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  for (const how of ['run', 'create + start -a'] as const) {
    it(`publishes a port of a foreground container on 127.0.0.1 (${how})`, async () => {
      const { s, root } = env;
      const port = await new Promise<number>((resolve) => {
        const srv = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (srv.address() as net.AddressInfo).port;
          srv.close(() => resolve(p));
        });
      });
      const args = ['--name', 'web', '-h', 'webhost', '-p', `127.0.0.1:${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc'];
      if (how !== 'run') assert.equal(s(['create', ...args]).status, 0);
      const child = spawnStrata(how === 'run' ? ['run', '--rm', ...args] : ['start', '-a', 'web'], { root });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        const get = () => new Promise<string>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/hostname' }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          }).on('error', reject);
        });
        let body = '';
        for (let i = 0; i < 100 && body === ''; i++) body = await get().catch(async () => (await new Promise((r) => setTimeout(r, 100)), ''));
        assert.equal(body, 'webhost\n');
        assert.match(s(['ps']).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp +web`));
        assert.equal(s(['rm', '-f', 'web']).status, 0);
        assert.equal(await exited, 137);
        await assert.rejects(get(), 'the port is closed with the container');
      } finally {
        child.kill('SIGKILL');
      }
    });
  }

  it('waits, renames, exports', () => {
    const { s, root } = env;
    assert.equal(s(['create', '--name', 'c1', 'busybox', 'sh', '-c', 'mkdir -p /out && echo data > /out/f; exit 5']).status, 0);
    assert.match(s(['ps', '-a']).stdout, /Created {3,}.*c1/);
    assert.equal(s(['start', '-a', 'c1']).status, 5);
    assert.equal(s(['wait', 'c1']).stdout, '5\n');
    // A --rm container is gone with its status once it exits: wait still says its code, as Docker's.
    for (let i = 0; i < 3; i++) {
      assert.equal(s(['run', '-d', '--rm', '--name', `gone${i}`, 'busybox', 'sh', '-c', `sleep 1; exit ${6 + i}`]).status, 0);
      assert.deepEqual([s(['wait', `gone${i}`]).stdout], [`${6 + i}\n`]);
    }
    assert.equal(s(['rename', 'c1', 'c2']).status, 0);
    assert.match(s(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, /^c2 Exited \(5\) /);
    const tarFile = path.join(root, 'export.tar');
    assert.equal(s(['export', '-o', tarFile, 'c2']).status, 0);
    const list = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(list.includes('out/f') && list.includes('bin/busybox'), list.slice(0, 5).join(','));
    assert.equal(s(['diff', 'c2']).stdout, 'A /out\nA /out/f\n');
    const nowhere = path.join(root, 'missing', 'export.tar');
    const refused = s(['export', '-o', nowhere, 'c2']);
    assert.deepEqual([refused.status, refused.stderr], [125, `Error: writing "${nowhere}": no such file or directory\n`], 'one line naming the file, no temp path');
  });

  it('copies in and out, confined to the container root', () => {
    const { s, root } = env;
    const host = path.join(root, 'hostside');
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'secret'), 'host secret');
    // /esc points (absolutely) at a host directory: inside the container it means the container's own path.
    assert.equal(s(['run', '--name', 'cp1', 'busybox', 'sh', '-c', `mkdir -p /etc/app ${host} && echo cfg > /etc/app/conf && ln -s ${host} /esc && ln -s ../../../../../../.. /up`]).status, 0);
    const out = path.join(root, 'out');
    fs.mkdirSync(out);
    assert.equal(s(['cp', 'cp1:/etc/app', out]).status, 0);
    assert.equal(fs.readFileSync(path.join(out, 'app', 'conf'), 'utf8'), 'cfg\n');
    const escOut = s(['cp', 'cp1:/esc/secret', path.join(out, 'stolen')]);
    assert.notEqual(escOut.status, 0);
    assert.ok(!fs.existsSync(path.join(out, 'stolen')), 'a host file was read through a container symlink');
    const upOut = s(['cp', `cp1:/up${host}/secret`, path.join(out, 'stolen2')]);
    assert.notEqual(upOut.status, 0);
    const src = path.join(root, 'payload');
    fs.writeFileSync(src, 'payload');
    assert.equal(s(['cp', src, 'cp1:/esc/']).status, 0, 'the copy lands inside the container');
    assert.deepEqual(fs.readdirSync(host), ['secret'], 'nothing was written into the host directory');
    assert.equal(s(['cp', src, 'cp1:/etc/app/']).status, 0);
    const diff = s(['diff', 'cp1']).stdout;
    assert.match(diff, /^A \/etc\/app\/payload$/m);
    assert.match(diff, new RegExp(`^A ${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/payload$`, 'm'));
  });

  it('lists the last N or the latest container, truncated or not', () => {
    const { s } = env;
    const ids = ['n1', 'n2', 'n3'].map((name) => s(['create', '--name', name, 'busybox', 'true']).stdout.trim());
    assert.deepEqual(s(['ps', '-n', '2', '--format', '{{.Names}}']).stdout, 'n3\nn2\n');
    assert.equal(s(['ps', '-l', '-q', '--no-trunc']).stdout, `${ids[2]}\n`);
    assert.equal(s(['ps', '-l', '-q']).stdout, `${ids[2]!.slice(0, 12)}\n`);
    assert.equal(s(['ps', '--filter', 'status=created', '-f', 'name=^n[13]$', '--format', '{{.Names}}']).stdout, 'n3\nn1\n');
    assert.equal(s(['ps', '-a', '-f', 'status=exited', '-f', 'name=^n']).stdout.split('\n').length, 2, 'only the header');
    assert.equal(s(['ps', '-f', 'bogus=1']).status, 125);
    assert.equal(s(['rm', 'n1', 'n2', 'n3']).status, 0);
  });

  it('prunes stopped containers', () => {
    const { s } = env;
    s(['create', 'busybox', 'true']);
    const pruned = s(['container', 'prune', '-f']);
    assert.match(pruned.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.equal(s(['ps', '-a', '-q']).stdout, '');
  });
});

describe('run -it through a real terminal', () => {
  let env: Awaited<ReturnType<typeof setupRoot>>;
  before(async () => (env = await setupRoot()));
  after(() => env.done());

  it('gives a usable shell prompt', async () => {
    const session = `strata-test-${process.pid}`;
    const { command, args } = (await import('../testing/cli.js')).strataCommand();
    const marker = path.join(env.root, 'exit-code');
    const line = [command, ...args, 'run', '-it', '--rm', 'busybox', 'sh'].map((a) => `'${a}'`).join(' ');
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    const started = tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', `STRATA_ROOT='${env.root}' ${line}; echo $? > '${marker}'`);
    assert.equal(started.status, 0, started.stderr);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
      const until = async (re: RegExp) => {
        for (let i = 0; i < 150 && !re.test(screen()); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(screen(), re);
      };
      await until(/^\/ # ?$/m);
      tmux('send-keys', '-t', session, 'echo $((6*7))', 'Enter');
      await until(/^42$/m);
      tmux('send-keys', '-t', session, 'exit 7', 'Enter');
      for (let i = 0; i < 100 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(fs.readFileSync(marker, 'utf8').trim(), '7');
    } finally {
      tmux('kill-session', '-t', session);
    }
  });
});
