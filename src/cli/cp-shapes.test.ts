// `strata cp` into real containers, running (its root seen through /proc/PID/root) and stopped
// (a temporary overlay), for every shape of destination in docker cp's table: "/", an existing
// directory, a missing path, an existing file, a trailing "/", "SRC/.", links to a directory and
// to "/", tar streams, and back out to the host. Whatever a copy does not replace stays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTar } from '../store/tar/build.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

const SETUP = [
  'mkdir -p /app/old /app/merge /app/conflict/f.txt/x',
  'echo old > /app/file', 'echo old > /app/file2', 'echo keep > /app/old/keep', 'echo keep2 > /app/merge/keep2',
  'ln -s /app /applink', 'ln -s / /rootlink',
].join(' && ');

/** [what, cp source (a host name, or "-" with a tar), destination, shell check after | the error]. */
type Case = [string, string, string, string | RegExp];
const CASES: Case[] = [
  ['a file onto "/" goes inside, the root intact', 'f.txt', '/', '[ "$(cat /f.txt)" = F ] && [ -x /bin/sh ] && [ -f /etc/passwd ] && [ -d /app/old ]'],
  ['a file onto an existing directory goes inside', 'f.txt', '/app/old', '[ "$(cat /app/old/f.txt)" = F ] && [ "$(cat /app/old/keep)" = keep ]'],
  ['a file to a missing path is created', 'f.txt', '/app/new.txt', '[ "$(cat /app/new.txt)" = F ]'],
  ['a file onto an existing file overwrites it', 'f.txt', '/app/file', '[ "$(cat /app/file)" = F ]'],
  ['a file to a missing path ending in "/" is refused', 'f.txt', '/nodir/', /^Error: destination directory "\w+:\/nodir\/" must exist$/],
  ['a file never replaces a directory of its name', 'f.txt', '/app/conflict', /^Error: cannot overwrite directory "\/app\/conflict\/f.txt" with non-directory$/],
  ['a directory to a missing path is created as the copy', 'd', '/app/dnew', '[ "$(cat /app/dnew/sub/g)" = G ]'],
  ['a directory onto an existing directory goes inside', 'd', '/app/old', '[ "$(cat /app/old/d/sub/g)" = G ] && [ "$(cat /app/old/keep)" = keep ]'],
  ['"SRC/." merges its contents into the directory', 'd/.', '/app/merge', '[ "$(cat /app/merge/sub/g)" = G ] && [ "$(cat /app/merge/keep2)" = keep2 ]'],
  ['a directory onto a file is refused', 'd', '/app/file2', /^Error: cannot copy a directory to a file: "\w+:\/app\/file2"$/],
  ['a directory onto "/" goes inside', 'd', '/', '[ "$(cat /d/sub/g)" = G ] && [ -x /bin/sh ]'],
  ['"SRC/." onto "/" merges into the root', 'd/.', '/', '[ "$(cat /sub/g)" = G ] && [ -d /etc ]'],
  ['a file onto a link to a directory goes inside its target', 'f2.txt', '/applink', '[ "$(cat /app/f2.txt)" = F2 ] && [ -L /applink ]'],
  ['a file onto a link to "/" goes into the root', 'f2.txt', '/rootlink', '[ "$(cat /f2.txt)" = F2 ] && [ -L /rootlink ] && [ -x /bin/sh ]'],
  ['a directory through a link to "/"', 'e', '/rootlink/', '[ "$(cat /e/h)" = H ]'],
  ['a tar onto "/"', '-', '/', '[ "$(cat /t1.txt)" = T ] && [ -x /bin/sh ]'],
  ['a tar through a link to a directory', '-', '/applink/old', '[ "$(cat /app/old/t1.txt)" = T ] && [ "$(cat /app/old/keep)" = keep ]'],
  ['a tar through a link to "/"', '-', '/rootlink/app', '[ "$(cat /app/t1.txt)" = T ]'],
];

describe('cp: every destination shape, running and stopped', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  let host: string;
  before(async () => {
    fx = await lifecycleFixture();
    host = fs.mkdtempSync(path.join(fx.root, 'host-'));
    fs.writeFileSync(path.join(host, 'f.txt'), 'F\n');
    fs.writeFileSync(path.join(host, 'f2.txt'), 'F2\n');
    fs.mkdirSync(path.join(host, 'd', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(host, 'd', 'sub', 'g'), 'G\n');
    fs.mkdirSync(path.join(host, 'e'));
    fs.writeFileSync(path.join(host, 'e', 'h'), 'H\n');
    assert.equal(fx.strata(['run', '--name', 'setup', 'busybox', 'sh', '-c', SETUP]).status, 0);
    assert.equal(fx.strata(['commit', 'setup', 'cp-base']).status, 0);
    assert.equal(fx.strata(['run', '-d', '--name', 'running', 'cp-base', 'sleep', '600']).status, 0);
    assert.equal(fx.strata(['create', '--name', 'stopped', 'cp-base', 'sleep', '600']).status, 0);
  });
  after(async () => fx.teardown());

  for (const container of ['running', 'stopped']) {
    it(`${container}: copies land as docker cp puts them, refusals say why and change nothing`, () => {
      const checks: string[] = [];
      for (const [what, src, dst, expect] of CASES) {
        const r = src === '-'
          ? fx.strata(['cp', '-', `${container}:${dst}`], { input: buildTar([{ path: 't1.txt', content: 'T\n' }]) })
          : fx.strata(['cp', `${host}/${src}`, `${container}:${dst}`]);
        if (expect instanceof RegExp) {
          assert.equal(r.status, 125, `${what}: ${r.stderr}`);
          assert.match(r.stderr.trimEnd(), expect, what);
        } else {
          assert.equal(r.status, 0, `${what}: ${r.stderr}`);
          checks.push(`if ${expect}; then :; else echo "failed: ${what}"; fi`);
        }
      }
      if (container === 'stopped') assert.equal(fx.strata(['start', 'stopped']).status, 0);
      const seen = fx.strata(['exec', container, 'sh', '-c', checks.join('\n')]);
      assert.equal(seen.stdout + seen.stderr, '', 'every copy is where docker cp puts it');
      assert.equal(seen.status, 0);
      const diff = fx.strata(['exec', container, 'sh', '-c', 'ls /app/conflict/f.txt; cat /app/file2']);
      assert.equal(diff.stdout, 'x\nold\n', 'what a refused copy would have replaced is untouched');
    });
  }

  it("never writes into a running container's /dev, /proc or /sys: they are the kernel's, not its files", () => {
    const refusals: Array<[string[], Buffer | undefined, string]> = [
      [['cp', path.join(host, 'f.txt'), 'running:/dev/null'], undefined, 'running:/dev/null'],
      [['cp', '-', 'running:/'], buildTar([{ path: 'dev/', type: 'dir' }, { path: 'dev/null', content: 'x' }]), 'running:/dev'],
      [['cp', '-', 'running:/proc'], buildTar([{ path: 'x', content: 'x' }]), 'running:/proc'],
    ];
    for (const [args, input, shown] of refusals) {
      const r = fx.strata(args, { input });
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, new RegExp(`^Error: refusing to copy to "${shown}": /\\w+ of a running container is the kernel's, not part of its filesystem\n$`));
    }
    assert.equal(fx.strata(['exec', 'running', 'sh', '-c', '[ -c /dev/null ] && echo device']).stdout, 'device\n');
  });

  it('gives what it copies in to root, or keeps the host owners with -a, as docker cp', () => {
    const owned = path.join(host, 'owned');
    fs.writeFileSync(owned, 'o\n');
    fs.chownSync(owned, 1234, 5678);
    assert.equal(fx.strata(['cp', owned, 'running:/tmp/as-root']).status, 0);
    assert.equal(fx.strata(['cp', '-a', owned, 'running:/tmp/as-host']).status, 0);
    assert.equal(fx.strata(['exec', 'running', 'stat', '-c', '%u:%g', '/tmp/as-root', '/tmp/as-host']).stdout, '0:0\n1234:5678\n');
  });

  it('copies out to the host: a directory, and the root of a running container without /proc, /sys, /dev', () => {
    const out = path.join(host, 'out');
    assert.equal(fx.strata(['cp', 'running:/app/old', out]).status, 0);
    assert.equal(fs.readFileSync(path.join(out, 'keep'), 'utf8'), 'keep\n');
    const whole = path.join(host, 'whole');
    const r = fx.strata(['cp', 'running:/', whole]);
    assert.equal(r.status, 0, r.stderr);
    const top = fs.readdirSync(whole);
    for (const name of ['bin', 'etc', 'app']) assert.ok(top.includes(name), name);
    for (const name of ['proc', 'sys', 'dev']) assert.ok(!top.includes(name), `${name} is the kernel's, not copied`);
    assert.ok(fs.lstatSync(path.join(whole, 'rootlink')).isSymbolicLink(), 'links stay links');
    const into = fx.strata(['cp', 'running:/rootlink/etc/hostname', path.join(host, 'hn')]);
    assert.equal(into.status, 0, into.stderr);
    assert.match(fs.readFileSync(path.join(host, 'hn'), 'utf8'), /^\w+\n$/);
  });

  it("sees a stopped container's volumes and bind mounts, as a running one does", () => {
    const bind = fs.mkdtempSync(path.join(fx.root, 'bind-'));
    assert.equal(fx.strata(['create', '--name', 'vols', '-v', `${bind}:/data`, '-v', 'cpvol:/named', 'busybox', 'sleep', '600']).status, 0);
    assert.equal(fx.strata(['cp', path.join(host, 'f.txt'), 'vols:/data/']).status, 0);
    assert.equal(fx.strata(['cp', path.join(host, 'f.txt'), 'vols:/named']).status, 0);
    assert.equal(fs.readFileSync(path.join(bind, 'f.txt'), 'utf8'), 'F\n', 'written into the bind source');
    const seen = fx.strata(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/f.txt']);
    assert.equal(seen.stdout, 'F\n', 'written into the named volume');
    fs.writeFileSync(path.join(bind, 'back'), 'back\n');
    const out = path.join(host, 'back');
    assert.equal(fx.strata(['cp', 'vols:/data/back', out]).status, 0);
    assert.equal(fs.readFileSync(out, 'utf8'), 'back\n');
  });

  it("reads a stopped container's /etc/hostname, hosts and resolv.conf, as Docker's cp mounts them", () => {
    const id = fx.strata(['run', '-d', '--name', 'etcs', '-h', 'etchost', '--add-host', 'db:10.9.8.7', 'busybox', 'true']).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(fx.strata(['wait', 'etcs']).stdout, '0\n');
    const read = (file: string) => {
      const out = path.join(host, `etc-${file}`);
      const r = fx.strata(['cp', `etcs:/etc/${file}`, out]);
      assert.equal(r.status, 0, r.stderr);
      return fs.readFileSync(out, 'utf8');
    };
    assert.equal(read('hostname'), 'etchost\n');
    assert.match(read('hosts'), /^10\.9\.8\.7\tdb$/m);
    assert.match(read('resolv.conf'), /^nameserver /m);
  });
});
