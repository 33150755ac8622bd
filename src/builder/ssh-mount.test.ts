// RUN --mount=type=ssh end to end: a real ssh-agent holding a fresh key, `strata build --ssh`,
// busybox steps that check the forwarded socket and list the agent's keys through it with the
// host's ssh-add (bound in with its libraries and run by their loader).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { parseSshSpecs } from './ssh-mount.js';

const LOADER = '/lib64/ld-linux-x86-64.so.2';
const TOOLS = `/tools/ld.so --library-path /tools /tools/ssh-add`;

/** ssh-add and the shared libraries it needs, copied flat into `dir`. */
function copySshAdd(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const ldd = spawnSync('ldd', ['/usr/bin/ssh-add'], { encoding: 'utf8' }).stdout;
  for (const m of ldd.matchAll(/=> (\/\S+)/g)) fs.copyFileSync(m[1], path.join(dir, path.basename(m[1])));
  fs.copyFileSync(LOADER, path.join(dir, 'ld.so'));
  fs.copyFileSync('/usr/bin/ssh-add', path.join(dir, 'ssh-add'));
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o755);
}

describe('RUN --mount=type=ssh (end to end)', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  let agent: ChildProcess;
  let agentSock: string;
  let key: string;
  let fingerprint: string;
  /** The builds' OS temp dir (TMPDIR), where their sockets are: what is left there is theirs. */
  let osTmp: string;
  const build = (args: string[], env?: NodeJS.ProcessEnv) => runStrata(['build', '--progress', 'plain', ...args], { root, env: { TMPDIR: osTmp, ...env }, timeoutMs: 120_000 });

  before(async () => {
    t = tempDir('strata-sshtest-');
    root = path.join(t.dir, 'root');
    osTmp = path.join(t.dir, 'ostmp');
    fs.mkdirSync(osTmp);
    await ensureBusybox(await openStore(root));
    key = path.join(t.dir, 'id_ed25519');
    assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'strata-test', '-f', key]).status, 0);
    fingerprint = spawnSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1];
    agentSock = path.join(t.dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !fs.existsSync(agentSock); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(spawnSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } }).status, 0);
    ctx = path.join(t.dir, 'ctx');
    copySshAdd(path.join(ctx, 'tools'));
  });
  after(() => {
    agent?.kill();
    t.cleanup();
  });

  it('forwards the agent of SSH_AUTH_SOCK (--ssh default) and of key files, then leaves no trace in the image', () => {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
      'FROM busybox',
      `RUN --mount=type=ssh --mount=type=bind,source=tools,target=/tools test -S /run/buildkit/ssh_agent.0 && echo "sock=$SSH_AUTH_SOCK" > /ssh.txt && stat -c '%a %u %g' $SSH_AUTH_SOCK >> /ssh.txt && ${TOOLS} -l >> /ssh.txt`,
      `RUN --mount=type=ssh,id=keys,target=/agent,mode=0644,uid=1000,gid=1000 --mount=type=bind,source=tools,target=/tools stat -c '%a %u %g' /agent > /keys.txt && SSH_AUTH_SOCK=/agent ${TOOLS} -l >> /keys.txt`,
      'RUN --mount=type=ssh,id=absent test ! -e /run/buildkit/ssh_agent.0 && echo skipped > /absent.txt',
      'CMD cat /ssh.txt /keys.txt /absent.txt; ls -a /run/buildkit /agent 2>&1',
    ].join('\n'));
    const r = build(['--ssh', 'default', '--ssh', `keys=${key}`, '-t', 'ssh:1', ctx], { SSH_AUTH_SOCK: agentSock });
    assert.equal(r.status, 0, r.stderr);
    const ran = runStrata(['run', '--rm', 'ssh:1'], { root });
    const lines = ran.stdout.split('\n');
    assert.equal(lines[0], 'sock=/run/buildkit/ssh_agent.0');
    assert.equal(lines[1], '600 0 0');
    assert.match(lines[2], new RegExp(`^256 ${fingerprint.replace(/[+/]/g, '\\$&')} strata-test \\(ED25519\\)$`));
    assert.equal(lines[3], '644 1000 1000');
    assert.match(lines[4], new RegExp(fingerprint.replace(/[+/]/g, '\\$&')), 'the private agent holds the key file');
    assert.equal(lines[5], 'skipped', 'an ssh mount without an agent is left out when not required');
    assert.match(ran.stdout, /ls: \/run\/buildkit: No such file or directory/);
    assert.match(ran.stdout, /ls: \/agent: No such file or directory/);
    // Nothing of the private agent or the relays is left on the host.
    assert.deepEqual(fs.readdirSync(osTmp), []);
  });

  it('refuses a required ssh mount without an agent, with the line', () => {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\n\nRUN --mount=type=ssh,id=deploy,required=true true\n');
    const r = build([ctx]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Dockerfile:3: .*no SSH key "deploy" forwarded from the client/);
  });

  it('refuses bad mount options and bad --ssh values in one line', () => {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=ssh,mode=999 true\n');
    const r = build(['--ssh', `default=${agentSock}`, ctx]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^.*Dockerfile:2: invalid mode "999" for mount type=ssh$/m);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=ssh true\n');
    const bad = build(['--ssh', `x=${path.join(t.dir, 'nope')}`, ctx]);
    assert.equal(bad.status, 125);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /ssh "x": .*nope: no such file or socket/);
    const unset = build(['--ssh', 'default', ctx], { SSH_AUTH_SOCK: '' });
    assert.equal(unset.status, 125);
    assert.match(unset.stderr, /ssh "default": SSH_AUTH_SOCK is not set/);
  });

  it('parses --ssh values', () => {
    assert.deepEqual([...parseSshSpecs(['default', 'a=/x/s.sock', 'b=k1,k2'])], [['default', []], ['a', ['/x/s.sock']], ['b', [path.resolve('k1'), path.resolve('k2')]]]);
    assert.throws(() => parseSshSpecs(['a=']), /invalid ssh "a=": expected ID\[=SOCKET\|KEY\[,KEY\]\]/);
    assert.throws(() => parseSshSpecs(['a', 'a']), /id "a" given twice/);
  });
});
