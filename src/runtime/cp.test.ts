import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { copyFromContainer, copyToContainer } from './cp.js';

describe('cp confined to the container root', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let host: string;
  beforeEach(() => {
    t = tempDir();
    root = path.join(t.dir, 'root');
    host = path.join(t.dir, 'host');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'secret'), 'host secret');
  });
  afterEach(() => t.cleanup());

  it('does not write through a link to a host directory', async () => {
    fs.symlinkSync(host, path.join(root, 'esc'));
    const src = path.join(t.dir, 'payload');
    fs.writeFileSync(src, 'payload');
    await assert.rejects(copyToContainer(root, src, '/esc/'));
    assert.deepEqual(fs.readdirSync(host), ['secret']);
  });

  it('follows a destination link only inside the root, as if chrooted', async () => {
    fs.symlinkSync(path.join(host, 'secret'), path.join(root, 'etc', 'conf'));
    const src = path.join(t.dir, 'conf');
    fs.writeFileSync(src, 'new conf');
    await assert.rejects(copyToContainer(root, src, '/etc/conf'), /could not find the file/);
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret');
    // The same link, with its target's directory present in the root: written there.
    fs.mkdirSync(path.join(root, host), { recursive: true });
    await copyToContainer(root, src, '/etc/conf');
    assert.equal(fs.readFileSync(path.join(root, host, 'secret'), 'utf8'), 'new conf');
    assert.equal(fs.readFileSync(path.join(host, 'secret'), 'utf8'), 'host secret');
  });

  it('does not follow links inside a copied directory that point out', async () => {
    const src = path.join(t.dir, 'tree');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'sub', 'f'), 'f');
    // The container already has tree/sub as a link to the host: the copy must not land there.
    fs.mkdirSync(path.join(root, 'tree'));
    fs.symlinkSync(host, path.join(root, 'tree', 'sub'));
    await copyToContainer(root, src, '/');
    assert.deepEqual(fs.readdirSync(host), ['secret']);
    assert.equal(fs.readFileSync(path.join(root, 'tree', 'sub', 'f'), 'utf8'), 'f');
  });

  it('never reads a host file through a container link', async () => {
    fs.symlinkSync(path.join(host, 'secret'), path.join(root, 'etc', 'link'));
    const out = path.join(t.dir, 'out');
    await assert.rejects(copyFromContainer(root, '/etc/link', out, { followLink: true }), /could not find the file/);
    await copyFromContainer(root, '/etc/link', out, { followLink: false });
    assert.ok(fs.lstatSync(out).isSymbolicLink(), 'without -L the link itself is copied');
  });

  it("copies a directory's contents with /.", async () => {
    fs.writeFileSync(path.join(root, 'etc', 'a'), 'a');
    const out = path.join(t.dir, 'out');
    await copyFromContainer(root, '/etc/.', out, { followLink: false });
    assert.deepEqual(fs.readdirSync(out), ['a']);
  });
});
