// COPY/ADD semantics on plain directories (no containers): destinations, attributes,
// owners by name, archives, symlinks in the image's path and in the context.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { buildTar } from '../store/tar/build.js';
import { tempDir } from '../testing/cli.js';
import { BuildContext } from './context.js';
import { executeCopy, heredocFileName, type CopyJob } from './exec-copy.js';
import { contextSource } from './tree-source.js';

describe('COPY/ADD into an upper dir', () => {
  let t: ReturnType<typeof tempDir>;
  let lower: string;
  let ctxDir: string;
  let upper: string;
  let n = 0;

  before(() => {
    t = tempDir('strata-copy-');
    lower = path.join(t.dir, 'lower');
    ctxDir = path.join(t.dir, 'ctx');
    fs.mkdirSync(path.join(lower, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(lower, 'usr', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(lower, 'app'), { mode: 0o750 });
    fs.chmodSync(path.join(lower, 'app'), 0o750);
    fs.symlinkSync('usr/bin', path.join(lower, 'bin'));
    fs.writeFileSync(path.join(lower, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n');
    fs.writeFileSync(path.join(lower, 'etc', 'group'), 'root:x:0:\nstaff:x:50:\napp:x:1001:\n');
    fs.mkdirSync(path.join(ctxDir, 'dir', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(ctxDir, 'one.txt'), 'one');
    fs.writeFileSync(path.join(ctxDir, 'two.txt'), 'two');
    fs.writeFileSync(path.join(ctxDir, 'dir', 'a.txt'), 'a');
    fs.writeFileSync(path.join(ctxDir, 'dir', 'sub', 'b.txt'), 'b');
    fs.chmodSync(path.join(ctxDir, 'dir', 'a.txt'), 0o640);
    fs.symlinkSync('a.txt', path.join(ctxDir, 'dir', 'link'));
    const stage = path.join(t.dir, 'archive');
    fs.mkdirSync(path.join(stage, 'pkg'), { recursive: true });
    fs.writeFileSync(path.join(stage, 'pkg', 'inside.txt'), 'inside');
    execFileSync('tar', ['-czf', path.join(ctxDir, 'pkg.tgz'), '-C', stage, 'pkg']);
    execFileSync('tar', ['-cJf', path.join(ctxDir, 'pkg.txz'), '-C', stage, 'pkg']);
    execFileSync('tar', ['-cjf', path.join(ctxDir, 'pkg.tbz'), '-C', stage, 'pkg']);
  });
  after(() => t.cleanup());
  beforeEach(() => {
    upper = path.join(t.dir, `upper${n++}`);
    fs.mkdirSync(upper);
  });

  async function copy(sources: string[], dest: string, extra: Partial<CopyJob> = {}): Promise<void> {
    const ctx = await BuildContext.open(ctxDir);
    const source = contextSource(ctx);
    const items = [];
    for (const s of sources) items.push({ node: (await source.lookup(s, true))! });
    await executeCopy({ upperDir: upper, lowerDirs: [lower], source, items, heredocs: [], urls: [], dest, unpack: false, ...extra });
  }
  const read = (p: string) => fs.readFileSync(path.join(upper, p), 'utf8');

  it('a trailing slash makes the destination a directory; without one it is the file', async () => {
    await copy(['one.txt'], '/out/');
    assert.equal(read('out/one.txt'), 'one');
    await copy(['two.txt'], '/renamed.txt');
    assert.equal(read('renamed.txt'), 'two');
  });

  it('copies into an existing directory of the image, keeping its attributes', async () => {
    await copy(['one.txt'], '/app');
    assert.equal(read('app/one.txt'), 'one');
    assert.equal(fs.statSync(path.join(upper, 'app')).mode & 0o7777, 0o750);
  });

  it('copies a directory\'s content, not the directory, with modes, mtimes and links kept', async () => {
    await copy(['dir'], '/d');
    assert.deepEqual(fs.readdirSync(path.join(upper, 'd')).sort(), ['a.txt', 'link', 'sub']);
    assert.equal(read('d/sub/b.txt'), 'b');
    assert.equal(fs.statSync(path.join(upper, 'd', 'a.txt')).mode & 0o777, 0o640);
    assert.equal(fs.readlinkSync(path.join(upper, 'd', 'link')), 'a.txt');
    const mtime = (p: string) => fs.statSync(p).mtimeMs;
    // Kept to the nearest second, as podman's copier stores it.
    assert.equal(mtime(path.join(upper, 'd', 'a.txt')), Math.round(mtime(path.join(ctxDir, 'dir', 'a.txt')) / 1000) * 1000, 'mtime kept (to the second)');
  });

  it('refuses several sources without a trailing slash', async () => {
    await assert.rejects(copy(['one.txt', 'two.txt'], '/x'), /destination must be a directory and end with a \//);
  });

  it('follows symlinks of the image inside the image', async () => {
    await copy(['one.txt'], '/bin/');
    assert.equal(read('usr/bin/one.txt'), 'one');
    assert.equal(fs.existsSync(path.join(upper, 'bin')), false);
  });

  it('applies --chown by name (group = uid without a group) and --chmod', async () => {
    await copy(['one.txt'], '/o1', { owner: { uid: 1000, gid: 50 }, chmod: 0o755 });
    const st = fs.statSync(path.join(upper, 'o1'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1000, 50, 0o755]);
  });

  for (const archive of ['pkg.tgz', 'pkg.txz', 'pkg.tbz']) {
    it(`ADD unpacks ${archive}; COPY does not`, async () => {
      await copy([archive], '/opt', { unpack: true });
      assert.equal(read('opt/pkg/inside.txt'), 'inside');
      await copy([archive], '/copied/', { unpack: false });
      assert.ok(fs.statSync(path.join(upper, 'copied', archive)).isFile());
    });
  }

  it('ADD keeps a hostile archive inside the destination', async () => {
    const evil = path.join(t.dir, 'evil');
    fs.mkdirSync(evil, { recursive: true });
    fs.writeFileSync(path.join(evil, 'x'), 'x');
    const tarFile = path.join(ctxDir, 'evil.tar');
    execFileSync('tar', ['-cf', tarFile, '-C', evil, '--transform', 's,^x,../../escaped,', 'x']);
    try {
      await copy(['evil.tar'], '/safe', { unpack: true }).catch(() => undefined);
      assert.equal(fs.existsSync(path.join(upper, '..', 'escaped')), false);
      assert.equal(fs.existsSync(path.join(t.dir, 'escaped')), false);
    } finally {
      fs.rmSync(tarFile);
    }
  });

  describe('ADD of archives confined to the destination, as Docker extracts them', () => {
    const archive = async (name: string, entries: Parameters<typeof buildTar>[0]) => {
      fs.writeFileSync(path.join(ctxDir, name), buildTar(entries));
      return name;
    };

    it('puts absolute names under the destination', async () => {
      await copy([await archive('abs.tar', [{ path: '/etc/abs.conf', content: 'abs\n' }, { path: '/opt/', type: 'dir' }])], '/safe', { unpack: true });
      assert.equal(read('safe/etc/abs.conf'), 'abs\n');
      assert.ok(fs.statSync(path.join(upper, 'safe', 'opt')).isDirectory());
      assert.equal(fs.existsSync(path.join(upper, 'etc')), false, 'nothing at the root of the image');
    });

    it('keeps links to absolute paths as they are, and writes through a link to "/" or above it inside the destination', async () => {
      await copy([await archive('links.tar', [
        { path: 'lib', type: 'symlink', linkpath: '/usr/lib' },
        { path: 'root', type: 'symlink', linkpath: '/' },
        { path: 'root/etc/via-root', content: 'via\n' },
        { path: 'up', type: 'symlink', linkpath: '../../../../..' },
        { path: 'up/tmp/via-up', content: 'up\n' },
        { path: 'hard', type: 'link', linkpath: '/etc/via-root' },
      ])], '/safe', { unpack: true });
      assert.equal(fs.readlinkSync(path.join(upper, 'safe', 'lib')), '/usr/lib');
      assert.equal(fs.readlinkSync(path.join(upper, 'safe', 'root')), '/');
      assert.equal(read('safe/etc/via-root'), 'via\n');
      assert.equal(read('safe/tmp/via-up'), 'up\n');
      assert.equal(fs.statSync(path.join(upper, 'safe', 'hard')).ino, fs.statSync(path.join(upper, 'safe', 'etc', 'via-root')).ino, 'an absolute hard link name is inside too');
      assert.deepEqual(fs.readdirSync(upper), ['safe']);
      assert.equal(fs.existsSync(path.join(t.dir, 'tmp')), false);
    });

    const refused: Array<[string, Parameters<typeof buildTar>[0], string]> = [
      ['a name climbing above the destination', [{ path: 'a/../../escape', content: 'x' }], 'unpacking "climb.tar": refusing archive entry "a/../../escape": it would be written outside the destination'],
      ['a hard link to a file outside the archive', [{ path: 'h', type: 'link', linkpath: '/etc/passwd' }], 'unpacking "climb.tar": refusing archive entry "h": hard link target "/etc/passwd" does not exist in the archive'],
    ];
    for (const [what, entries, message] of refused) {
      it(`refuses ${what}, naming the archive and the entry in plain words`, async () => {
        await assert.rejects(copy([await archive('climb.tar', entries)], '/safe', { unpack: true }), (err: Error) => {
          assert.equal(err.message, message);
          return true;
        });
        assert.equal(fs.existsSync(path.join(upper, 'escape')), false);
        assert.equal(fs.existsSync(path.join(t.dir, 'escape')), false);
      });
    }
  });

  it('ADD fetches a URL and checks --checksum', async () => {
    const body = 'remote content\n';
    const server = http.createServer((req, res) => {
      if (req.url !== '/files/remote.txt') return void res.writeHead(404).end();
      res.writeHead(200, { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/remote.txt`;
      const good = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      await copy([], '/dl/', { urls: [url], checksum: good });
      assert.equal(read('dl/remote.txt'), body);
      const st = fs.statSync(path.join(upper, 'dl', 'remote.txt'));
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.mtime.toISOString(), '2015-10-21T07:28:00.000Z');
      await assert.rejects(copy([], '/bad/', { urls: [url], checksum: `sha256:${'0'.repeat(64)}` }), /checksum mismatch/);
      await assert.rejects(copy([], '/missing/', { urls: [url.replace('remote', 'absent')] }), /failed to fetch .*404/);
    } finally {
      server.close();
    }
  });

  it('links unchanged files from the previous layer, copies the rest', async () => {
    await copy(['dir'], '/d');
    const previous = upper;
    upper = path.join(t.dir, `upper${n++}`);
    fs.mkdirSync(upper);
    await copy(['dir'], '/d', { reuse: { root: previous, files: new Set(['dir/a.txt']) } });
    const a = fs.statSync(path.join(upper, 'd', 'a.txt'));
    assert.equal(a.ino, fs.statSync(path.join(previous, 'd', 'a.txt')).ino, 'unchanged file linked');
    assert.notEqual(fs.statSync(path.join(upper, 'd', 'sub', 'b.txt')).ino, fs.statSync(path.join(previous, 'd', 'sub', 'b.txt')).ino, 'not listed: copied');
    // A previous copy that differs (here: its mode) is never linked.
    fs.chmodSync(path.join(previous, 'd', 'a.txt'), 0o600);
    const third = path.join(t.dir, `upper${n++}`);
    fs.mkdirSync(third);
    upper = third;
    await copy(['dir'], '/d', { reuse: { root: previous, files: new Set(['dir/a.txt']) } });
    assert.notEqual(fs.statSync(path.join(upper, 'd', 'a.txt')).ino, fs.statSync(path.join(previous, 'd', 'a.txt')).ino);
    assert.equal(fs.statSync(path.join(upper, 'd', 'a.txt')).mode & 0o777, 0o640);
  });

  it('keeps hard links of the context as links only between names of one inode of one filesystem', async () => {
    // Two filesystems (tmpfs mounts) in a context, each with a file of two names: tmpfs numbers
    // its inodes from the same start, so the two files have the same inode number.
    const ctx = path.join(t.dir, 'ctx-mounts');
    const mounts = ['m1', 'm2'].map((m) => path.join(ctx, m));
    for (const m of mounts) {
      fs.mkdirSync(m, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', m]);
    }
    try {
      for (const m of mounts) {
        fs.writeFileSync(path.join(m, 'f'), `content of ${path.basename(m)}`);
        fs.linkSync(path.join(m, 'f'), path.join(m, 'g'));
      }
      assert.equal(fs.statSync(path.join(mounts[0]!, 'f')).ino, fs.statSync(path.join(mounts[1]!, 'f')).ino, 'the same inode number on both');
      const source = contextSource(await BuildContext.open(ctx));
      const items = [{ node: (await source.lookup('', true))! }];
      await executeCopy({ upperDir: upper, lowerDirs: [lower], source, items, heredocs: [], urls: [], dest: '/c/', unpack: false });
      assert.deepEqual(['m1/f', 'm1/g', 'm2/f', 'm2/g'].map((f) => read(`c/${f}`)), ['content of m1', 'content of m1', 'content of m2', 'content of m2']);
      assert.equal(fs.statSync(path.join(upper, 'c/m2/g')).ino, fs.statSync(path.join(upper, 'c/m2/f')).ino, 'a link within one filesystem stays a link');
    } finally {
      for (const m of mounts) execFileSync('umount', [m]);
    }
  });

  it('names a heredoc file by one cleaned name, never a path', () => {
    assert.deepEqual(['x', '../x', '/x', './x', '../../../x'].map(heredocFileName), ['x', 'x', 'x', 'x', 'x']);
    for (const name of ['a/b', '../../etc/x', '..', '.', '/', 'x\0y']) assert.throws(() => heredocFileName(name), /is not a file name$/, name);
  });

  it('writes heredoc files', async () => {
    await executeCopy({ upperDir: upper, lowerDirs: [lower], source: contextSource(await BuildContext.open(ctxDir)), items: [], heredocs: [{ name: 'hello.sh', content: 'echo hi\n' }], urls: [], dest: '/scripts/', unpack: false });
    assert.equal(read('scripts/hello.sh'), 'echo hi\n');
  });
});
