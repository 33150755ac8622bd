import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { dirView, resolveInRoot } from './resolve.js';
import { UnionView } from './union.js';

describe('resolveInRoot', () => {
  const t = tempDir();
  const root = path.join(t.dir, 'root');
  const outside = path.join(t.dir, 'outside');
  before(() => {
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret'), 'host secret');
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs-link'));
    fs.symlinkSync('../../../../../../outside/secret', path.join(root, 'climb'));
    fs.symlinkSync(outside, path.join(root, 'hostdir'));
    fs.symlinkSync('loop2', path.join(root, 'loop1'));
    fs.symlinkSync('loop1', path.join(root, 'loop2'));
    fs.symlinkSync('etc', path.join(root, 'etclink'));
  });
  after(() => t.cleanup());

  it('follows an absolute symlink inside the root, not on the host', async () => {
    const r = await resolveInRoot(dirView(root), '/abs-link', { followLast: true });
    assert.equal(r.rel, 'etc/passwd');
    assert.ok(r.stat?.isFile());
  });

  it('clamps .. in a link target at the root', async () => {
    // ../../outside/secret from the root is /outside/secret of the root, which does not exist.
    await assert.rejects(resolveInRoot(dirView(root), '/climb', { followLast: true }), { code: 'ENOENT' });
    fs.mkdirSync(path.join(root, 'outside'));
    const r = await resolveInRoot(dirView(root), '/climb', { followLast: true });
    assert.equal(r.rel, 'outside/secret');
    assert.equal(r.stat, undefined, 'the host file must not be reached');
  });

  it('treats a link to a host path as a path inside the root', async () => {
    await assert.rejects(resolveInRoot(dirView(root), '/hostdir/secret', { followLast: true }), { code: 'ENOENT' });
  });

  it('clamps .. in the requested path itself', async () => {
    const r = await resolveInRoot(dirView(root), '/../../etc/passwd', { followLast: true });
    assert.equal(r.rel, 'etc/passwd');
  });

  it('keeps the last link when not following it', async () => {
    const r = await resolveInRoot(dirView(root), '/etclink', { followLast: false });
    assert.equal(r.rel, 'etclink');
    assert.ok(r.stat?.isSymbolicLink());
  });

  it('follows intermediate links', async () => {
    const r = await resolveInRoot(dirView(root), 'etclink/passwd', { followLast: false });
    assert.equal(r.rel, 'etc/passwd');
  });

  it('refuses link loops', async () => {
    await assert.rejects(resolveInRoot(dirView(root), '/loop1', { followLast: true }), { code: 'ELOOP' });
  });

  it('reports a missing last component without failing', async () => {
    const r = await resolveInRoot(dirView(root), '/etc/nope', { followLast: true });
    assert.equal(r.rel, 'etc/nope');
    assert.equal(r.stat, undefined);
  });

  it('refuses a file used as a directory', async () => {
    await assert.rejects(resolveInRoot(dirView(root), '/etc/passwd/x', { followLast: true }), { code: 'ENOTDIR' });
  });

  it('gives the root directory for a link to "/" or "..", and for a root reached through a link', async () => {
    fs.symlinkSync('/', path.join(root, 'top'));
    fs.symlinkSync('..', path.join(root, 'up'));
    const rootLink = path.join(t.dir, 'proc-root');
    fs.symlinkSync(root, rootLink);
    for (const [view, p] of [[dirView(root), '/top'], [dirView(root), '/up'], [dirView(rootLink), '/'], [dirView(rootLink), '/top']] as const) {
      const r = await resolveInRoot(view, p, { followLast: true });
      assert.equal(r.rel, '');
      assert.ok(r.stat?.isDirectory(), `${p}: the root's stat, not the link's`);
    }
  });
});

describe('UnionView', () => {
  const t = tempDir();
  const lower = path.join(t.dir, 'lower');
  const upper = path.join(t.dir, 'upper');
  before(() => {
    fs.mkdirSync(path.join(lower, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(lower, 'gone'), { recursive: true });
    fs.mkdirSync(path.join(lower, 'opq'), { recursive: true });
    fs.writeFileSync(path.join(lower, 'opq', 'old'), 'old');
    fs.writeFileSync(path.join(lower, 'etc', 'passwd'), 'lower');
    fs.writeFileSync(path.join(lower, 'etc', 'group'), 'lower');
    fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(upper, 'opq'), { recursive: true });
    fs.writeFileSync(path.join(upper, 'opq', '.wh..wh..opq'), '');
    fs.writeFileSync(path.join(upper, 'etc', 'passwd'), 'upper');
    const mk = (p: string) => assert.equal(spawnSync('mknod', [p, 'c', '0', '0']).status, 0);
    mk(path.join(upper, 'etc', 'group'));
    mk(path.join(upper, 'gone'));
  });
  after(() => t.cleanup());

  it('shows the topmost version of a file', async () => {
    const view = UnionView.of([lower], upper);
    assert.equal((await view.readFile('etc/passwd')).toString(), 'upper');
  });

  it('hides what a whiteout deletes, files and directories', async () => {
    const view = UnionView.of([lower], upper);
    assert.equal(await view.lstat('etc/group'), undefined);
    assert.equal(await view.lstat('gone'), undefined);
    await assert.rejects(resolveInRoot(view, '/gone/x', { followLast: true }), { code: 'ENOENT' });
  });

  it('hides the lower content of an opaque directory', async () => {
    const view = UnionView.of([lower], upper);
    assert.equal(await view.lstat('opq/old'), undefined);
  });

  it('shows lower files without the upper dir', async () => {
    const view = UnionView.of([lower]);
    assert.equal((await view.readFile('etc/group')).toString(), 'lower');
  });
});
