// `cp - CONTAINER:DIR` and `cp CONTAINER:PATH -`: tar streams through stdin and stdout, on
// real containers (stopped: a temporary overlay; running: /proc/PID/root), with hostile
// archives refused and nothing written outside the destination.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { buildTar } from '../store/tar/build.js';
import { strataCommand } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

/** Runs strata with binary stdout (a tar). */
function strataBytes(root: string, args: string[]): { status: number; stdout: Buffer; stderr: string } {
  const { command, args: lead } = strataCommand();
  const r = spawnSync(command, [...lead, ...args], { env: { ...process.env, STRATA_ROOT: root }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** `tar -tv`-like listing of a tar in memory: "name type" lines, via the system tar. */
function listTar(bytes: Buffer): string[] {
  const r = spawnSync('tar', ['-t'], { input: bytes, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const payload = buildTar([
  { path: './', type: 'dir', mode: 0o700 },
  { path: 'a', content: 'A\n' },
  { path: 'sub/', type: 'dir' },
  { path: 'sub/b', content: 'B\n', uid: 1234, gid: 5678, mode: 0o640 },
  { path: 'sub/link', type: 'symlink', linkpath: '/etc/passwd' },
  { path: 'sub/hard', type: 'link', linkpath: 'a' },
  { path: '.wh.plain', content: 'not a whiteout\n' },
]);

describe('cp with tar streams', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => (fx = await lifecycleFixture()));
  after(async () => fx.teardown());

  it('extracts a tar from stdin into a stopped container and streams a path back as a tar', () => {
    assert.equal(fx.strata(['run', '--name', 'stopped', 'busybox', 'mkdir', '/dest']).status, 0);
    const put = fx.strata(['cp', '-', 'stopped:/dest'], { input: payload });
    assert.equal(put.status, 0, put.stderr);
    assert.equal(fx.strata(['diff', 'stopped']).stdout, ['A /dest', 'A /dest/.wh.plain', 'A /dest/a', 'A /dest/sub', 'A /dest/sub/b', 'A /dest/sub/hard', 'A /dest/sub/link', ''].join('\n'));
    const check = fx.strata(['start', '-a', 'stopped']);
    assert.notEqual(check.status, 0, 'mkdir /dest fails now that it exists');
    const got = strataBytes(fx.root, ['cp', 'stopped:/dest/sub', '-']);
    assert.equal(got.status, 0, got.stderr);
    assert.deepEqual(listTar(got.stdout).sort(), ['sub/', 'sub/b', 'sub/hard', 'sub/link']);
    const verbose = spawnSync('tar', ['-tv', '--numeric-owner'], { input: got.stdout, encoding: 'utf8' }).stdout;
    assert.match(verbose, /^-rw-r----- 1234\/5678 .* sub\/b$/m, 'mode and owners survive both ways');
    assert.match(verbose, /^lrwxrwxrwx .* sub\/link -> \/etc\/passwd$/m, 'links stay links');
    const one = strataBytes(fx.root, ['cp', 'stopped:/dest/a', '-']);
    assert.equal(spawnSync('tar', ['-xO'], { input: one.stdout, encoding: 'utf8' }).stdout, 'A\n');
    assert.deepEqual(listTar(one.stdout), ['a'], 'a file is archived under its own name');
    const followed = strataBytes(fx.root, ['cp', '-L', 'stopped:/dest/sub/link', '-']);
    assert.deepEqual(listTar(followed.stdout), ['link'], '-L: the target under the link\'s name');
    assert.match(spawnSync('tar', ['-xO'], { input: followed.stdout, encoding: 'utf8' }).stdout, /^root:x:0:0:/);
    assert.deepEqual(listTar(strataBytes(fx.root, ['cp', 'stopped:/dest/.', '-']).stdout).sort(), ['.wh.plain', 'a', 'sub/', 'sub/b', 'sub/hard', 'sub/link'], '"/." streams the contents');
  });

  it('extracts into a running container, gzip too, and the process sees the files', () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'running', 'busybox', 'sleep', '60']).status, 0);
    const put = fx.strata(['cp', '-', 'running:/tmp'], { input: gzipSync(payload) });
    assert.equal(put.status, 0, put.stderr);
    const seen = fx.strata(['exec', 'running', 'sh', '-c', 'cat /tmp/sub/b; stat -c "%a %u:%g" /tmp /tmp/sub/b; readlink /tmp/sub/link']);
    assert.equal(seen.stdout, 'B\n1777 0:0\n640 1234:5678\n/etc/passwd\n', seen.stderr);
    const got = strataBytes(fx.root, ['cp', 'running:/etc/hostname', '-']);
    assert.deepEqual(listTar(got.stdout), ['hostname']);
    // A device node goes into the tar with its numbers, as Docker's: /dev/null is char 1,3.
    const dev = spawnSync('tar', ['-tv'], { input: strataBytes(fx.root, ['cp', 'running:/dev/null', '-']).stdout, encoding: 'utf8' }).stdout;
    assert.match(dev, /^c\S+ 0\/0\s+1,3 .* null\n$/);
  });

  it('export and cp - write hard links, FIFOs and device nodes as such, in a tar tar(1) reads whole', () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'kinds', 'busybox', 'sh', '-c', 'mkdir /t; echo x > /t/f; ln /t/f /t/h; mkfifo /t/p; mknod /t/c c 1 3; sleep 60']).status, 0);
    // Its files are made once it runs: waited for in its upper dir, from the host.
    const upper = `${fx.root}/containers/${fx.strata(['inspect', '-f', '{{.Id}}', 'kinds']).stdout.trim()}/upper`;
    assert.equal(spawnSync('sh', ['-c', 'until [ -e "$0/t/c" ]; do sleep 0.05; done', upper], { timeout: 10_000 }).status, 0);
    for (const args of [['export', 'kinds'], ['cp', 'kinds:/t', '-']]) {
      const r = spawnSync('tar', ['-tv'], { input: strataBytes(fx.root, args).stdout, encoding: 'utf8' });
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      assert.match(r.stdout, /^h\S+ .* t\/h link to t\/f$/m, args[0]);
      assert.match(r.stdout, /^p\S+ .* t\/p$/m, args[0]);
      assert.match(r.stdout, /^c\S+ 0\/0\s+1,3 .* t\/c$/m, args[0]);
    }
  });

  it('refuses a destination that is missing or not a directory, and a directory over a file', () => {
    const missing = fx.strata(['cp', '-', 'stopped:/nope'], { input: payload });
    assert.equal(missing.stderr, 'Error: could not find the file /nope in container stopped\n');
    const file = fx.strata(['cp', '-', 'stopped:/etc/passwd'], { input: payload });
    assert.match(file.stderr, /^Error: extraction point is not a directory: "\/etc\/passwd"\n$/);
    const over = fx.strata(['cp', '-', 'stopped:/'], { input: buildTar([{ path: 'dest', content: 'x' }]) });
    assert.match(over.stderr, /^Error: cannot overwrite directory "\/dest" with non-directory\n$/);
  });

  const hostile: Array<[string, (host: string) => Buffer, RegExp]> = [
    ['a ".." name', () => buildTar([{ path: '../../../../escape', content: 'x' }]), /path escapes the root/],
    ['an absolute name', () => buildTar([{ path: '/escape', content: 'x' }]), /absolute path/],
    ['a write through a symlink planted by the archive', (host) => buildTar([{ path: 'ln', type: 'symlink', linkpath: host }, { path: 'ln/escape', content: 'x' }]), /"ln" is a symlink/],
    ['a write through a symlink to ".."', (host) => buildTar([{ path: 'up', type: 'symlink', linkpath: '../../../../../..' }, { path: `up${host}/escape`, content: 'x' }]), /"up" is a symlink/],
    ['a hard link to a host file', (host) => buildTar([{ path: 'h', type: 'link', linkpath: `${host}/secret` }]), /does not exist in the archive/],
    ['a hard link out through ".."', (host) => buildTar([{ path: 'h', type: 'link', linkpath: `../../../../../..${host}/secret` }]), /path escapes the root/],
  ];
  for (const [what, make, why] of hostile) {
    it(`refuses ${what}, writing nothing outside`, () => {
      const host = fs.mkdtempSync(path.join(fx.root, 'host-'));
      fs.writeFileSync(path.join(host, 'secret'), 'secret');
      // A running container's root is /proc/PID/root: the links are its own, checked there too.
      for (const target of what.includes('symlink') ? ['stopped:/dest', 'running:/tmp'] : ['stopped:/dest']) {
        const r = fx.strata(['cp', '-', target], { input: make(host) });
        assert.equal(r.status, 125, r.stderr);
        assert.match(r.stderr, why);
        assert.equal(r.stderr.split('\n').length, 2, 'one line');
      }
      assert.deepEqual(fs.readdirSync(host), ['secret']);
      assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'secret');
      assert.ok(!fs.existsSync(path.join(fx.root, 'escape')) && !fs.existsSync('/escape'));
    });
  }
});
