// Build conformance: small Dockerfiles built with the real CLI (runc, overlayfs), whose image
// filesystem and config must be what podman (the reference here) and BuildKit give. Expected
// values are written out below; where podman and BuildKit differ, the comment says which one
// is followed. When podman is installed, a few cases are also built with it and compared.
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

/** An mtime with a fraction, to see how copies round it. */
const STAMP = 1_485_449_953;

const stamp = (file: string, seconds: number) => fs.utimesSync(file, seconds, seconds);

describe('build conformance (filesystem and config as podman and BuildKit give them)', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let n = 0;

  before(async () => {
    t = tempDir('strata-conformance-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => t.cleanup());

  /** Builds with strata and returns the saved image (written by the build itself, as `save` writes it: one CLI call). */
  async function build(ctx: string, flags: string[] = []): Promise<Saved> {
    const tag = `conf-${++n}`;
    const file = path.join(t.dir, `${tag}.tar`);
    const res = runStrata(['build', '-q', ...flags, '-t', tag, '-o', `type=docker,dest=${file}`, ctx], { root, timeoutMs: 120_000 });
    assert.equal(res.status, 0, res.stderr);
    return readSaved(file, t.dir);
  }

  const under = (s: Saved, prefix: string) => [...s.tree.keys()].filter((k) => k.startsWith(prefix)).sort();

  it('copies a symlink source under its own name, with its target\'s content (context, wildcard, stage)', async () => {
    const s = await build(context(t.dir, 'symlink-source'));
    for (const p of ['ctx/alias.txt', 'globbed/alias.txt']) {
      assert.equal(s.tree.get(p)?.type, 'File', p);
      assert.equal(s.tree.get(p)?.size, 'the real content\n'.length, p);
    }
    assert.equal(s.tree.has('ctx/real.txt'), false);
    assert.equal(s.tree.get('staged/pointer.txt')?.type, 'File');
    assert.equal(s.tree.get('staged/pointer.txt')?.size, 'staged\n'.length);
    assert.equal(s.tree.has('staged/target.txt'), false);
  });

  it('walks an ignored directory only for a "!" pattern that starts with its path', async () => {
    const s = await build(context(t.dir, 'ignore-descend'));
    // "!**/note.txt" brings back tree/note.txt (tree is walked for "!tree/keep") but not
    // tree/drop/note.txt nor other/note.txt: Docker's client, BuildKit and podman agree.
    assert.deepEqual(under(s, 'all/'), ['all/.dockerignore', 'all/Dockerfile', 'all/top.txt', 'all/tree', 'all/tree/keep', 'all/tree/keep/wanted.txt', 'all/tree/note.txt']);
  });

  it('accepts a wildcard matching nothing beside other sources, and fails when nothing matches at all', async () => {
    const ctx = context(t.dir, 'wildcards');
    const s = await build(ctx);
    assert.deepEqual(under(s, 'out/'), ['out/one.txt', 'out/two.txt']);
    const res = runStrata(['build', '-q', '-f', path.join(ctx, 'Dockerfile.empty'), ctx], { root });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /Dockerfile\.empty:2: COPY failed: file not found in build context: "nomatch-\*"/);
  });

  it('keeps copied mtimes to the nearest second and leaves the mtime of directories a COPY only passes through', async () => {
    const ctx = context(t.dir, 'timestamps', (dir) => {
      fs.utimesSync(path.join(dir, 'early.txt'), STAMP + 0.2, STAMP + 0.2);
      fs.utimesSync(path.join(dir, 'late.txt'), STAMP + 0.7, STAMP + 0.7);
      stamp(path.join(dir, 'dir', 'sub', 'deep.txt'), STAMP - 10);
      stamp(path.join(dir, 'dir', 'file.txt'), STAMP - 20);
      fs.utimesSync(path.join(dir, 'dir', 'sub'), STAMP - 29.6, STAMP - 29.6);
    });
    const s = await build(ctx);
    // podman rounds (its copier), BuildKit truncates in its layer tars: podman is followed.
    assert.equal(s.tree.get('var/spool/mail/early.txt')?.mtime, STAMP);
    assert.equal(s.tree.get('var/spool/mail/late.txt')?.mtime, STAMP + 1);
    assert.equal(s.tree.get('copied/sub')?.mtime, STAMP - 30);
    assert.equal(s.tree.get('copied/sub/deep.txt')?.mtime, STAMP - 10);
    assert.equal(s.tree.get('copied/file.txt')?.mtime, STAMP - 20);
    // /var and /var/spool are only passed through: busybox's own mtime (2024-01-01).
    assert.equal(s.tree.get('var')?.mtime, 1_704_067_200);
    assert.equal(s.tree.get('var/spool')?.mtime, 1_704_067_200);
  });

  it('drops setuid/setgid from context files, keeps them from a stage and in an archive', async () => {
    const ctx = context(t.dir, 'special-bits', (dir) => {
      fs.chmodSync(path.join(dir, 'setuid.bin'), 0o4755);
      fs.chmodSync(path.join(dir, 'setgid.bin'), 0o2755);
      fs.chmodSync(path.join(dir, 'sticky.bin'), 0o1755);
      fs.chmodSync(path.join(dir, 'plain.bin'), 0o640);
      const src = path.join(t.dir, 'bits-src');
      for (const [d, mode] of [['suid-dir', 0o4755], ['sgid-dir', 0o2775], ['sticky-dir', 0o1777]] as const) {
        fs.mkdirSync(path.join(src, d), { recursive: true });
        fs.chmodSync(path.join(src, d), mode);
      }
      fs.writeFileSync(path.join(src, 'suid-file'), 'x');
      fs.chmodSync(path.join(src, 'suid-file'), 0o4711);
      fs.symlinkSync('suid-file', path.join(src, 'a-link'));
      fs.lutimesSync(path.join(src, 'a-link'), STAMP - 400, STAMP - 400);
      tar.c({ file: path.join(dir, 'bits.tar'), cwd: src, sync: true }, ['suid-dir', 'sgid-dir', 'sticky-dir', 'suid-file', 'a-link']);
    });
    const s = await build(ctx);
    const mode = (p: string) => s.tree.get(p)?.mode;
    assert.deepEqual(['setuid', 'setgid', 'sticky', 'plain'].map((b) => mode(`ctx/${b}.bin`)), [0o755, 0o755, 0o1755, 0o640]);
    assert.equal(mode('stage/suid'), 0o4755);
    assert.deepEqual(['suid-dir', 'sgid-dir', 'sticky-dir', 'suid-file'].map((p) => mode(`archive/${p}`)), [0o4755, 0o2775, 0o1777, 0o4711]);
    assert.equal(s.tree.get('archive/a-link')?.mtime, STAMP - 400, 'a symlink keeps its archived mtime');
  });

  it('unpacks an archive with directory mtimes and modes as archived, hard links intact, and entries under its own symlinks', async () => {
    const ctx = context(t.dir, 'archive', (dir) => {
      const src = path.join(t.dir, 'tree-src');
      fs.mkdirSync(path.join(src, 'pkg', 'private'), { recursive: true });
      fs.writeFileSync(path.join(src, 'pkg', 'private', 'key'), 'secret');
      fs.linkSync(path.join(src, 'pkg', 'private', 'key'), path.join(src, 'pkg', 'key-link'));
      fs.chmodSync(path.join(src, 'pkg', 'private'), 0o700);
      stamp(path.join(src, 'pkg', 'private', 'key'), STAMP);
      stamp(path.join(src, 'pkg', 'private'), STAMP - 100);
      stamp(path.join(src, 'pkg'), STAMP - 200);
      // An entry under a symlink the archive itself made is written through it (Docker, podman).
      fs.mkdirSync(path.join(src, 'linked', 'real'), { recursive: true });
      fs.symlinkSync('real', path.join(src, 'linked', 'link'));
      fs.writeFileSync(path.join(src, 'linked', 'real', 'via-link.txt'), 'through');
      fs.lutimesSync(path.join(src, 'linked', 'link'), STAMP - 300, STAMP - 300);
      const viaReal = path.join('linked', 'real', 'via-link.txt');
      tar.c({ file: path.join(dir, 'tree.tar.gz'), gzip: true, cwd: src, sync: true, filter: (p) => path.normalize(p) !== viaReal }, ['pkg', 'linked/real', 'linked/link', 'linked/link/via-link.txt']);
    });
    const s = await build(ctx);
    assert.equal(s.tree.get('unpacked/pkg')?.mtime, STAMP - 200);
    assert.equal(s.tree.get('unpacked/pkg/private')?.mtime, STAMP - 100);
    assert.equal(s.tree.get('unpacked/pkg/private')?.mode, 0o700);
    assert.equal(s.tree.get('unpacked/pkg/private/key')?.mtime, STAMP);
    const key = s.tree.get('unpacked/pkg/private/key');
    const link = s.tree.get('unpacked/pkg/key-link');
    assert.equal(link?.sha, key?.sha);
    assert.equal(link?.size, 'secret'.length);
    assert.equal(s.tree.get('unpacked/linked/link')?.type, 'SymbolicLink');
    assert.equal(s.tree.get('unpacked/linked/link')?.mtime, STAMP - 300);
    assert.equal(s.tree.get('unpacked/linked/real/via-link.txt')?.size, 'through'.length);
  });

  it('drops what a RUN writes under a declared VOLUME, keeps what COPY puts there', async () => {
    const s = await build(context(t.dir, 'volume-run'));
    // podman and Docker's classic builder drop it; BuildKit keeps it. podman is followed.
    assert.deepEqual(under(s, 'srv/data/'), ['srv/data/added.txt', 'srv/data/kept.txt']);
    assert.equal(s.tree.get('srv/data/kept.txt')?.size, 'before\n'.length);
    assert.equal(s.tree.get('outside.txt')?.type, 'File');
    // The removal under /var/spool is undone too, and /var, only passed through, keeps busybox's mtime.
    assert.equal(s.tree.get('var/spool/mail')?.type, 'Directory');
    assert.equal(s.tree.get('var')?.mtime, 1_704_067_200);
  });

  it('writes the config as Docker and podman do', async () => {
    const s = await build(context(t.dir, 'metadata'));
    const c = s.config.config;
    assert.equal(c.WorkingDir, '/srv/app/');
    // Docker and BuildKit lowercase the protocol and list each port of a range (podman keeps "443/UDP" and "7000-7002/tcp").
    assert.deepEqual(Object.keys(c.ExposedPorts as object), ['443/udp', '7000/tcp', '7001/tcp', '7002/tcp', '8080/tcp', '9000/tcp']);
    assert.deepEqual(Object.keys(c.Labels as object), ['alpha', 'mid dle', 'zeta']);
    assert.deepEqual(Object.keys(c.Volumes as object), ['/var/a', '/var/b']);
    assert.equal(c.StopSignal, 'SIGTERM');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 3 });
    assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
    assert.deepEqual(c.OnBuild, ['RUN echo child']);
    assert.deepEqual(c.Entrypoint, ['/bin/echo']);
    assert.deepEqual(c.Cmd, ['hello']);
    assert.ok((c.Env as string[]).includes('PATH_LIKE=/a:/b'));
    // WORKDIR creates /srv/app with a layer of its own (BuildKit; podman defers it to the next step).
    assert.equal(s.tree.get('srv/app')?.type, 'Directory');
    assert.equal((s.config as { author?: string }).author, 'strata <conformance@example.com>');
    assert.deepEqual(s.config.history?.map((h) => (h.empty_layer ? 'E' : 'L')).join(''), 'LEEEEELEEEEEEEE');
  });

  it('follows a dangling symlink in a destination and creates WORKDIR directories for the USER', async () => {
    const s = await build(context(t.dir, 'dest-paths'));
    assert.equal(s.tree.get('dangling')?.type, 'SymbolicLink');
    assert.equal(s.tree.get('target/sub/file.txt')?.size, 'payload\n'.length);
    // USER daemon (1:1 in busybox's passwd): BuildKit and podman give it the directories WORKDIR creates.
    for (const p of ['made', 'made/here']) assert.deepEqual([s.tree.get(p)?.uid, s.tree.get(p)?.gid, s.tree.get(p)?.mode], [1, 1, 0o755], p);
    // COPY's own new directories are root's, whatever the USER.
    assert.deepEqual([s.tree.get('made/here/relative')?.uid, s.tree.get('made/here/relative/file.txt')?.uid], [0, 0]);
  });

  it('builds through steps that share one empty layer, and copies hard links from a stage', async () => {
    const s = await build(context(t.dir, 'unchanged-steps'));
    assert.equal(s.tree.get('done.txt')?.size, 'done\n'.length);
    const h = await build(context(t.dir, 'stage-hardlinks'));
    assert.deepEqual(under(h, 'sub/'), ['sub/b', 'sub/c']);
    assert.equal(h.tree.get('sub/b')?.sha, h.tree.get('sub/c')?.sha);
    // Still one file with two names (BuildKit, podman).
    assert.equal(h.tree.get('sub/c')?.link, 'hardlink:sub/b');
  });

  const podman = spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0;
  it('builds like podman does (compared with a real podman build)', { skip: podman ? false : 'podman is not installed' }, async () => {
    const proot = path.join(t.dir, 'podman');
    const p = (args: string[]) => spawnSync('podman', ['--root', path.join(proot, 'root'), '--runroot', path.join(proot, 'run'), '--storage-driver', 'overlay', ...args], { encoding: 'utf8', timeout: 120_000 });
    const bb = path.join(t.dir, 'busybox.tar');
    assert.equal(runStrata(['save', 'busybox', '-o', bb], { root }).status, 0);
    assert.equal(p(['load', '-i', bb]).status, 0);
    for (const name of ['ignore-descend', 'timestamps']) {
      const ctx = context(t.dir, name, name === 'timestamps' ? (dir) => fs.utimesSync(path.join(dir, 'late.txt'), STAMP + 0.6, STAMP + 0.6) : undefined);
      const mine = await build(ctx, ['--no-cache']);
      const built = p(['build', '-q', '--layers', '--runtime', 'runc', '--format', 'docker', '-t', `conf-${name}`, ctx]);
      assert.equal(built.status, 0, built.stderr);
      const file = path.join(t.dir, `podman-${name}.tar`);
      assert.equal(p(['save', '--format', 'docker-archive', '-o', file, `conf-${name}`]).status, 0);
      const theirs = await readSaved(file, t.dir);
      // Directories a step created or changed carry the time of the build: not compared.
      const changed = new Set(['all', 'all/tree', 'var/spool/mail', 'copied']);
      const view = (s: Saved) => [...s.tree].filter(([k]) => !/^(etc|run|proc|sys|dev)(\/|$)/.test(k)).map(([k, e]) => `${k} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.size} ${e.link} ${e.sha} ${changed.has(k) ? '-' : e.mtime}`).sort();
      assert.deepEqual(view(mine), view(theirs), name);
      for (const f of ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'StopSignal', 'Shell']) {
        // An empty list or map is the same as none (podman writes "Cmd": [] and "WorkingDir": "" for scratch).
        const norm = (v: unknown) => (v === undefined || v === null || v === '' || (typeof v === 'object' && Object.keys(v as object).length === 0) ? null : v);
        assert.deepEqual(norm(mine.config.config[f]), norm(theirs.config.config[f]), `${name}: ${f}`);
      }
    }
  });
});
