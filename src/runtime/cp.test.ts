// cp's placement on plain directories (a container root without a container): docker cp's
// table of destination shapes, and confinement to the root. The same shapes on real running
// and stopped containers are in src/cli/cp-shapes.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { copyFromContainer } from './cp-out.js';
import { copyToContainer, placeCopy } from './cp.js';

const opts = { followLink: false, container: 'c' };

describe('placeCopy follows docker cp', () => {
  const file = { isDir: false, contentsOnly: false, name: 'f' };
  const dir = { isDir: true, contentsOnly: false, name: 'd' };
  const contents = { isDir: true, contentsOnly: true, name: 'd' };
  const stat = (isDir: boolean) => ({ isDirectory: () => isDir }) as fs.Stats;
  const at = (resolved: string, s: fs.Stats | undefined, assertsDir = false) => ({ resolved, stat: s, assertsDir, given: `c:/${resolved}` });
  const table: Array<[string, Parameters<typeof placeCopy>, ReturnType<typeof placeCopy> | RegExp]> = [
    ['file to a missing path: created', [file, at('x/new', undefined)], { dir: 'x', name: 'new' }],
    ['file to a missing path ending in /: error', [file, at('x/new', undefined, true)], /destination directory "c:\/x\/new" must exist/],
    ['file onto a file: overwritten', [file, at('x/old', stat(false))], { dir: 'x', name: 'old' }],
    ['file onto a directory: inside', [file, at('x', stat(true))], { dir: 'x', name: 'f' }],
    ['file onto the root: inside', [file, at('', stat(true))], { dir: '', name: 'f' }],
    ['directory to a missing path: created as the copy', [dir, at('new', undefined, true)], { dir: '', name: 'new' }],
    ['directory onto a directory: inside', [dir, at('x', stat(true))], { dir: 'x', name: 'd' }],
    ['directory contents onto a directory: merged', [contents, at('x', stat(true))], { dir: 'x', name: undefined }],
    ['directory contents to a missing path: created', [contents, at('x/new', undefined)], { dir: 'x', name: 'new' }],
    ['directory onto a file: error', [dir, at('x/old', stat(false))], /cannot copy a directory to a file: "c:\/x\/old"/],
  ];
  for (const [what, args, want] of table) {
    it(what, () => {
      if (want instanceof RegExp) assert.throws(() => placeCopy(...args), want);
      else assert.deepEqual(placeCopy(...args), want);
    });
  }
});

describe('cp confined to the container root', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let host: string;
  beforeEach(() => {
    t = tempDir();
    root = path.join(t.dir, 'root');
    host = path.join(t.dir, 'host');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(root, 'bin'));
    fs.writeFileSync(path.join(root, 'bin', 'sh'), 'shell');
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'secret'), 'host secret');
  });
  afterEach(() => t.cleanup());

  it('copies a file into a root reached through a link (/proc/PID/root), keeping everything else', async () => {
    const link = path.join(t.dir, 'proc-root');
    fs.symlinkSync(root, link);
    const src = path.join(t.dir, 'a.txt');
    fs.writeFileSync(src, 'a');
    await copyToContainer(link, src, '/', opts);
    assert.deepEqual(fs.readdirSync(root).sort(), ['a.txt', 'bin', 'etc']);
    assert.equal(fs.readFileSync(path.join(root, 'bin', 'sh'), 'utf8'), 'shell');
    // A link inside the root to "/" is the root too.
    fs.symlinkSync('/', path.join(root, 'top'));
    fs.writeFileSync(src, 'again');
    await copyToContainer(link, src, '/top', opts);
    assert.equal(fs.readFileSync(path.join(root, 'a.txt'), 'utf8'), 'again');
    assert.ok(fs.lstatSync(path.join(root, 'top')).isSymbolicLink());
  });

  it('does not write through a link to a host directory', async () => {
    fs.symlinkSync(host, path.join(root, 'esc'));
    const src = path.join(t.dir, 'payload');
    fs.writeFileSync(src, 'payload');
    await assert.rejects(copyToContainer(root, src, '/esc/', opts), /could not find the file \/esc\/ in container c/);
    assert.deepEqual(fs.readdirSync(host), ['secret']);
  });

  it('follows a destination link only inside the root, as if chrooted', async () => {
    fs.symlinkSync(path.join(host, 'secret'), path.join(root, 'etc', 'conf'));
    const src = path.join(t.dir, 'conf');
    fs.writeFileSync(src, 'new conf');
    await assert.rejects(copyToContainer(root, src, '/etc/conf', opts), /could not find the file/);
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret');
    // The same link, with its target's directory present in the root: written there.
    fs.mkdirSync(path.join(root, host), { recursive: true });
    await copyToContainer(root, src, '/etc/conf', opts);
    assert.equal(fs.readFileSync(path.join(root, host, 'secret'), 'utf8'), 'new conf');
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret');
  });

  it('refuses a directory over a link inside the copied tree, as docker cp does, writing nothing through it', async () => {
    const src = path.join(t.dir, 'tree');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'sub', 'f'), 'f');
    // The container already has tree/sub as a link to the host: the copy must not land there.
    fs.mkdirSync(path.join(root, 'tree'));
    fs.symlinkSync(host, path.join(root, 'tree', 'sub'));
    await assert.rejects(copyToContainer(root, src, '/', opts), /^StrataError: cannot overwrite non-directory "\/tree\/sub" with directory$/);
    assert.deepEqual(fs.readdirSync(host), ['secret']);
    assert.ok(fs.lstatSync(path.join(root, 'tree', 'sub')).isSymbolicLink(), 'the link is not removed either');
  });

  it('never removes a directory a file would replace', async () => {
    fs.mkdirSync(path.join(root, 'etc', 'a.txt', 'keep'), { recursive: true });
    const src = path.join(t.dir, 'a.txt');
    fs.writeFileSync(src, 'a');
    await assert.rejects(copyToContainer(root, src, '/etc', opts), /cannot overwrite directory "\/etc\/a.txt" with non-directory/);
    assert.ok(fs.statSync(path.join(root, 'etc', 'a.txt', 'keep')).isDirectory());
  });

  it('never reads a host file through a container link', async () => {
    fs.symlinkSync(path.join(host, 'secret'), path.join(root, 'etc', 'link'));
    const out = path.join(t.dir, 'out');
    await assert.rejects(copyFromContainer(root, '/etc/link', out, { ...opts, followLink: true }), /could not find the file/);
    await copyFromContainer(root, '/etc/link', out, opts);
    assert.ok(fs.lstatSync(out).isSymbolicLink(), 'without -L the link itself is copied');
  });

  it("copies a directory's contents with /., and the root's through a link to it", async () => {
    fs.writeFileSync(path.join(root, 'etc', 'a'), 'a');
    const out = path.join(t.dir, 'out');
    await copyFromContainer(root, '/etc/.', out, opts);
    assert.deepEqual(fs.readdirSync(out), ['a']);
    const link = path.join(t.dir, 'proc-root');
    fs.symlinkSync(root, link);
    const whole = path.join(t.dir, 'whole');
    await copyFromContainer(link, '/', whole, opts);
    assert.deepEqual(fs.readdirSync(whole).sort(), ['bin', 'etc']);
    assert.ok(fs.lstatSync(whole).isDirectory(), 'a copy of the root, not of the link to it');
  });
});
