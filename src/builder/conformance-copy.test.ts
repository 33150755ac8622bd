// Build conformance, continued (see conformance.test.ts): `**` in COPY sources, ADD archives
// over an image's files, hard links from a stage, cache mounts' owners and what RUN mounts
// leave behind. Built with the real CLI (runc, overlayfs); where podman and BuildKit agree and
// podman is installed, the same build is compared with podman's, entry for entry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { context, readSaved, type Saved } from './testing/saved.js';

const STAMP = 1_485_449_953;
const podman = spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0;

/** Archives for archive-shapes, written with node-tar from a scratch tree. */
function archives(scratch: string, dir: string): void {
  const src = fs.mkdtempSync(path.join(scratch, 'arc-'));
  const file = (rel: string, body: string, mode: number) => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), body);
    fs.chmodSync(path.join(src, rel), mode);
    fs.utimesSync(path.join(src, rel), STAMP, STAMP);
  };
  file('m/f664', 'a', 0o664);
  file('m/f600', 'b', 0o600);
  file('m/f777', 'c', 0o777);
  fs.mkdirSync(path.join(src, 'm/d775'));
  fs.chmodSync(path.join(src, 'm/d775'), 0o775);
  tar.c({ file: path.join(dir, 'modes.tar'), cwd: src, sync: true }, ['m']);
  // Entries written through symlinks the archive itself made: relative, absolute, and one
  // climbing above the root (which stays at the destination, as in a chroot).
  file('l/real/a.txt', 'via relative', 0o644);
  file('l/real/b.txt', 'via absolute', 0o644);
  file('l/real/c.txt', 'via climbing', 0o644);
  const l = path.join(src, 'l');
  const links = (abs: string, up: string) => {
    for (const [name, to] of [['rel', 'real'], ['abs', abs], ['up', up]]) {
      fs.rmSync(path.join(l, name), { force: true });
      fs.symlinkSync(to, path.join(l, name));
    }
  };
  // The links as archived, then (to read the files through them here) pointing at real/: two
  // tars joined, the first without its end-of-archive blocks.
  links('/real', '../../..');
  const head = path.join(scratch, 'links-head.tar');
  const tail = path.join(scratch, 'links-tail.tar');
  tar.c({ file: head, cwd: l, sync: true, portable: true, noDirRecurse: true }, ['real', 'rel', 'abs', 'up']);
  links('real', 'real');
  tar.c({ file: tail, cwd: l, sync: true, portable: true }, ['rel/a.txt', 'abs/b.txt', 'up/c.txt']);
  let first = fs.readFileSync(head);
  while (first.length >= 512 && first.subarray(first.length - 512).every((b) => b === 0)) first = first.subarray(0, first.length - 512);
  fs.writeFileSync(path.join(dir, 'through-links.tar'), Buffer.concat([first, fs.readFileSync(tail)]));
  file('s/thing/in.txt', 'in a directory', 0o644);
  file('s/pop', 'now a file', 0o644);
  tar.c({ file: path.join(dir, 'shapes.tar'), cwd: path.join(src, 's'), sync: true, portable: true }, ['thing', 'pop']);
}

describe('build conformance: globs, archives over an image, hard links, cache mounts', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let n = 0;
  const p = (args: string[]) => spawnSync('podman', ['--root', path.join(t.dir, 'podman', 'root'), '--runroot', path.join(t.dir, 'podman', 'run'), '--storage-driver', 'overlay', ...args], { encoding: 'utf8', timeout: 120_000 });

  before(async () => {
    t = tempDir('strata-conformance-copy-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    if (podman) {
      const bb = path.join(t.dir, 'busybox.tar');
      assert.equal(runStrata(['save', 'busybox', '-o', bb], { root }).status, 0);
      assert.equal(p(['load', '-i', bb]).status, 0);
    }
  });
  after(() => t.cleanup());

  async function build(ctx: string): Promise<Saved> {
    const tag = `confc-${++n}`;
    // The build writes the archive itself, as `save` writes it (one CLI call, not two).
    const file = path.join(t.dir, `${tag}.tar`);
    const res = runStrata(['build', '-q', '-t', tag, '-o', `type=docker,dest=${file}`, ctx], { root, timeoutMs: 120_000 });
    assert.equal(res.status, 0, res.stderr);
    return readSaved(file, t.dir);
  }

  async function podmanBuild(ctx: string): Promise<Saved> {
    const tag = `confc-podman-${++n}`;
    const built = p(['build', '-q', '--layers', '--runtime', 'runc', '--format', 'docker', '-t', tag, ctx]);
    assert.equal(built.status, 0, built.stderr);
    const file = path.join(t.dir, `${tag}.tar`);
    assert.equal(p(['save', '--format', 'docker-archive', '-o', file, tag]).status, 0);
    return readSaved(file, t.dir);
  }

  /** Entries outside busybox's own tree, directory mtimes left out (a step's time), or all mtimes. */
  const view = (s: Saved, mtimes = true) => [...s.tree].filter(([k]) => !/^(etc|run|proc|sys|dev|bin|usr|var|tmp|root|home|lib|lib64|linuxrc)(\/|$)/.test(k))
    .map(([k, e]) => `${k} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.size} ${e.link} ${e.sha} ${e.type === 'Directory' || !mtimes ? '-' : e.mtime}`).sort();
  const under = (s: Saved, prefix: string) => [...s.tree.keys()].filter((k) => k.startsWith(prefix)).sort();

  it('selects with ** what Docker selects: one directory level, as *', async () => {
    const ctx = context(t.dir, 'globstar');
    const s = await build(ctx);
    assert.deepEqual(under(s, 'one/'), ['one/one.txt', 'one/seven.txt']);
    assert.deepEqual(under(s, 'two/'), ['two/three.txt']);
    assert.deepEqual(under(s, 'three/'), ['three/one.txt', 'three/seven.txt']);
    assert.deepEqual(under(s, 'four/'), ['four/three.txt']);
    if (podman) assert.deepEqual(view(s), view(await podmanBuild(ctx)));
  });

  it('extracts archives with their modes, through their own links, and over files and populated directories', async () => {
    const ctx = context(t.dir, 'archive-shapes', (dir) => archives(t.dir, dir));
    const s = await build(ctx);
    const mode = (k: string) => s.tree.get(k)?.mode.toString(8);
    assert.deepEqual(['mode/m/f664', 'mode/m/f600', 'mode/m/f777', 'mode/m/d775'].map(mode), ['664', '600', '777', '775']);
    assert.deepEqual(under(s, 'sym/'), ['sym/abs', 'sym/c.txt', 'sym/real', 'sym/real/a.txt', 'sym/real/b.txt', 'sym/rel', 'sym/up']);
    assert.equal(s.tree.has('real'), false, 'nothing lands outside the destination');
    assert.equal(s.tree.get('thing')?.type, 'Directory');
    assert.equal(s.tree.get('thing/in.txt')?.size, 'in a directory'.length);
    assert.equal(s.tree.get('pop')?.type, 'File');
    assert.equal(under(s, 'pop/').length, 0);
    if (podman) assert.deepEqual(view(s), view(await podmanBuild(ctx)));
  });

  it('keeps hard links copied from a stage or the context as hard links', async () => {
    const ctx = context(t.dir, 'stage-hardlinks');
    const s = await build(ctx);
    assert.equal(s.tree.get('sub/c')?.link, 'hardlink:sub/b');
    // The files were made by a RUN: their mtimes are the build's.
    if (podman) assert.deepEqual(view(s, false), view(await podmanBuild(ctx), false));
    const cctx = context(t.dir, 'context-hardlinks', (dir) => {
      fs.writeFileSync(path.join(dir, 'a'), 'shared\n');
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.linkSync(path.join(dir, 'a'), path.join(dir, 'sub', 'b'));
      fs.writeFileSync(path.join(dir, 'alone'), 'alone\n');
    });
    const c = await build(cctx);
    assert.equal(c.tree.get('ctx/sub/b')?.link, 'hardlink:ctx/a');
    assert.equal(c.tree.get('ctx/alone')?.link, '');
    if (podman) assert.deepEqual(view(c), view(await podmanBuild(cctx)));
  });

  it('gives a cache mount its uid, gid and mode, one cache per owner and mode, and leaves no mount stubs', async () => {
    // podman shares one cache whatever the uid: BuildKit is followed.
    const s = await build(context(t.dir, 'cache-mounts'));
    const res = runStrata(['run', '--rm', `confc-${n}`, 'cat', '/tmp/as10', '/as0', '/other', '/again'], { root });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, '10:0 755\nby10\n0:0 755\n10:20 700\nby10\n');
    for (const stub of ['var/cache', 'opt', 'usr/tmpfs']) assert.equal(s.tree.has(stub), false, stub);
  });
});
