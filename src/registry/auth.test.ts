// login/logout and every way to authenticate and trust a registry, each against Debian's
// docker-registry on 127.0.0.1: htpasswd (Basic), token auth (a token server signing RS256
// JWTs), credential helpers, podman's auth.json, and TLS with a CA the test makes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, busyboxRoot, sandbox, type Sandbox } from './testing/fixtures.js';
import { strataCommand } from '../testing/cli.js';
import { registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

describe('registry authentication and trust', { skip }, () => {
  let sb: Sandbox;
  let src: string;
  const regs: TestRegistry[] = [];
  const start = async (o: Parameters<typeof startRegistry>[0]) => {
    const r = await startRegistry(o);
    regs.push(r);
    return r;
  };

  before(async () => {
    sb = sandbox();
    src = await busyboxRoot(sb, 'src');
  });
  after(async () => {
    for (const r of regs) await r.close();
    sb?.cleanup();
  });

  test('htpasswd: no credentials and a wrong password are one line each; login stores, logout forgets', async () => {
    const reg = await start({ auth: 'htpasswd' });
    const name = `${reg.host}/secret/bb:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    assertOneLineError(sb.strata(['push', name], { root: src }), /pushing ".*": unauthorized: authentication required/);
    const wrong = sb.strata(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'not-it\n' });
    assertOneLineError(wrong, /logging in to "127\.0\.0\.1:\d+": unauthorized: incorrect username or password/);
    assert.equal(fs.existsSync(path.join(sb.env.DOCKER_CONFIG!, 'config.json')), false, 'nothing stored');
    const ok = sb.strata(['login', '-u', 'alice', '--password-stdin', reg.host], { input: 'wonderland\n' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'Login Succeeded\n');
    const cfg = JSON.parse(fs.readFileSync(path.join(sb.env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host].auth, 'base64').toString(), 'alice:wonderland');
    const pushed = sb.strata(['push', name], { root: src });
    assert.equal(pushed.status, 0, pushed.stderr);
    const pulled = sb.strata(['pull', name], { root: sb.root('htpasswd-pull') });
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.equal(sb.strata(['logout', reg.host]).stdout, `Removing login credentials for ${reg.host}\n`);
    assert.equal(sb.strata(['logout', reg.host]).stdout, `Not logged in to ${reg.host}\n`);
    assert.equal(sb.strata(['logout']).stdout, 'Not logged in to https://index.docker.io/v1/\n');
    assertOneLineError(sb.strata(['pull', name], { root: sb.root('htpasswd-pull2') }), /unauthorized/);
  });

  /**
   * `strata login ARGS` on a terminal (script(1) makes the pty): each of ANSWERS is typed once
   * the output shows its prompt. Resolves with what the terminal showed and the exit status.
   */
  function loginOnTerminal(args: string[], answers: Array<{ after: RegExp; type: string }>): Promise<{ shown: string; status: number | null }> {
    const { command, args: lead } = strataCommand();
    const line = [command, ...lead, 'login', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qfec', line, '/dev/null'], { env: { ...process.env, ...sb.env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let shown = '';
    const pending = [...answers];
    child.stdout.on('data', (d: Buffer) => {
      shown += d.toString();
      while (pending.length && pending[0]!.after.test(shown)) child.stdin.write(`${pending.shift()!.type}\n`);
    });
    return new Promise((resolve) => child.once('close', (status) => {
      child.stdin.destroy();
      resolve({ shown: shown.replace(/\r/g, ''), status });
    }));
  }

  test('login on a terminal asks for the username and the password (not echoed), as Docker; without one it refuses', async () => {
    const reg = await start({ auth: 'htpasswd', users: { carol: 'tea-party' } });
    assertOneLineError(sb.strata(['login', reg.host], { input: '' }), /^Error: Cannot perform an interactive login from a non TTY device$/m);
    const first = await loginOnTerminal([reg.host], [{ after: /Username: $/, type: 'carol' }, { after: /Password: $/, type: 'tea-party' }]);
    assert.equal(first.status, 0, first.shown);
    assert.match(first.shown, /^Username: carol\nPassword: \nLogin Succeeded\n$/);
    assert.doesNotMatch(first.shown, /tea-party/, 'the password is not echoed');
    const cfg = JSON.parse(fs.readFileSync(path.join(sb.env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString(), 'carol:tea-party');
    // The stored username is the default: an empty line takes it.
    const again = await loginOnTerminal([reg.host], [{ after: /Username \(carol\): $/, type: '' }, { after: /Password: $/, type: 'tea-party' }]);
    assert.equal(again.status, 0, again.shown);
    assert.match(again.shown, /Login Succeeded/);
    // With -u only the password is asked; an empty one is Docker's error.
    const empty = await loginOnTerminal(['-u', 'carol', reg.host], [{ after: /Password: $/, type: '' }]);
    assert.equal(empty.status, 125);
    assert.match(empty.shown, /^Password: \nError: Password Required\n$/);
    const other = await loginOnTerminal(['127.0.0.1:1'], [{ after: /Username: $/, type: '' }]);
    assert.equal(other.status, 125);
    assert.match(other.shown, /Error: Non-null Username Required/);
    assert.equal(sb.strata(['logout', reg.host]).status, 0);
  });

  test('a credential helper (credsStore) and podman\'s auth.json are read', async () => {
    const reg = await start({ auth: 'htpasswd', users: { bob: 'builder' } });
    const bin = path.join(sb.dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const log = path.join(sb.dir, 'helper.log');
    fs.writeFileSync(path.join(bin, 'docker-credential-strtest'), `#!/bin/sh
read server
echo "$1 $server" >> "${log}"
[ "$1" = get ] && [ "$server" = "${reg.host}" ] && { echo '{"ServerURL":"${reg.host}","Username":"bob","Secret":"builder"}'; exit 0; }
echo "credentials not found in native keychain"; exit 1
`, { mode: 0o755 });
    fs.mkdirSync(sb.env.DOCKER_CONFIG!, { recursive: true });
    fs.writeFileSync(path.join(sb.env.DOCKER_CONFIG!, 'config.json'), JSON.stringify({ credsStore: 'strtest' }));
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const name = `${reg.host}/helped/bb:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    const r = sb.strata(['push', name], { root: src, env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(fs.readFileSync(log, 'utf8'), new RegExp(`get ${reg.host.replace(/\./g, '\\.')}`));
    // podman's auth file, with no Docker config at all.
    fs.rmSync(path.join(sb.env.DOCKER_CONFIG!, 'config.json'));
    const authFile = path.join(sb.dir, 'auth.json');
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('bob:builder').toString('base64') } } }));
    const p = sb.strata(['pull', name], { root: sb.root('authjson'), env: { REGISTRY_AUTH_FILE: authFile } });
    assert.equal(p.status, 0, p.stderr);
  });

  test('token auth: the token server is asked for the repository\'s pull and push scopes', async () => {
    const reg = await start({ auth: 'token' });
    const name = `${reg.host}/team/app:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    // An anonymous token without the scope: Docker's words (insufficient_scope is DENIED).
    assertOneLineError(sb.strata(['push', name], { root: src }), /pushing ".*": denied: requested access to the resource is denied$/m);
    assertOneLineError(sb.strata(['pull', `${reg.host}/team/nosuch`], { root: sb.root('token-denied') }),
      new RegExp(`^Error: pull access denied for ${reg.host.replace(/\./g, '\\.')}/team/nosuch, repository does not exist or may require 'docker login': denied: requested access to the resource is denied$`, 'm'));
    assertOneLineError(sb.strata(['login', '-u', 'alice', '-p', 'wrong', reg.host]), /incorrect username or password/);
    assert.equal(sb.strata(['login', '-u', 'alice', '-p', 'wonderland', reg.host]).status, 0);
    const r = sb.strata(['push', name], { root: src });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(reg.token!.scopesAsked.includes('repository:team/app:pull,push'), reg.token!.scopesAsked.join(' '));
    const p = sb.strata(['pull', name], { root: sb.root('token-pull') });
    assert.equal(p.status, 0, p.stderr);
    assert.ok(reg.token!.scopesAsked.includes('repository:team/app:pull'));
    // Logged in, but the token server grants this user no access to forbidden/: denied, not "incorrect password".
    assertOneLineError(sb.strata(['pull', `${reg.host}/forbidden/app:1`], { root: sb.root('token-forbidden') }), /^Error: pull access denied for .*\/forbidden\/app, repository does not exist or may require 'docker login': denied: /);
    assert.equal(sb.strata(['tag', 'busybox', `${reg.host}/forbidden/app:1`], { root: src }).status, 0);
    assertOneLineError(sb.strata(['push', `${reg.host}/forbidden/app:1`], { root: src }), /pushing ".*": denied: requested access to the resource is denied$/);
    sb.strata(['logout', reg.host]);
  });

  test('TLS: an unknown CA is refused; its certs.d directory or --tls-verify=false gets through', async () => {
    const reg = await start({ tls: true });
    const name = `${reg.host}/tls/bb:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    assertOneLineError(sb.strata(['push', name], { root: src }), /TLS certificate not trusted/);
    assert.equal(sb.strata(['push', '--tls-verify=false', name], { root: src }).status, 0);
    const certs = path.join(sb.dir, 'certs.d');
    fs.mkdirSync(path.join(certs, reg.host), { recursive: true });
    fs.copyFileSync(reg.caCert!, path.join(certs, reg.host, 'ca.crt'));
    sb.writeRegistriesConfig({ certsDirs: [certs] });
    try {
      const r = sb.strata(['pull', name], { root: sb.root('tls-pull') });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      sb.writeRegistriesConfig({});
    }
    // NODE_EXTRA_CA_CERTS, deferred by bin/strata past Node's start, is trusted too.
    const viaEnv = sb.strata(['pull', name], { root: sb.root('tls-env'), env: { STRATA_DEFERRED_CA_CERTS: reg.caCert } });
    assert.equal(viaEnv.status, 0, viaEnv.stderr);
  });
});
