// Removals never go through a mount: a directory with anything mounted under it stays whole,
// and what the mount shows is untouched (real tmpfs and bind mounts, unmounted in `finally`).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { mountsUnder, removeTree, removeTreeSync } from './remove-tree.js';
import { dropVolume, moveVolumeAside } from './volume-asides.js';
import { createVolume } from './volumes.js';

function umount(target: string): void {
  spawnSync('umount', [target], { stdio: 'ignore' });
}

describe('removeTree', () => {
  const t = tempDir('strata-rmtree-');
  after(() => t.cleanup());

  it('removes files, symlinks and plain trees, and refuses a tree with a mount under it', async () => {
    const plain = path.join(t.dir, 'plain');
    fs.mkdirSync(path.join(plain, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(plain, 'a', 'b', 'f'), 'x');
    assert.deepEqual(await removeTree(plain), []);
    assert.equal(fs.existsSync(plain), false);
    assert.deepEqual(await removeTree(plain), [], 'nothing there is no error');
    const kept = path.join(t.dir, 'kept');
    fs.mkdirSync(kept);
    fs.writeFileSync(path.join(kept, 'f'), 'kept');
    const link = path.join(t.dir, 'link');
    fs.symlinkSync(kept, link);
    assert.deepEqual(removeTreeSync(link), []);
    assert.equal(fs.readFileSync(path.join(kept, 'f'), 'utf8'), 'kept', 'a symlink goes, not what it names');

    const doomed = path.join(t.dir, 'doomed');
    const foreign = path.join(t.dir, 'foreign');
    const at = path.join(doomed, 'deep', 'm');
    fs.mkdirSync(at, { recursive: true });
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'data'), 'not ours');
    execFileSync('mount', ['--bind', foreign, at]);
    try {
      assert.deepEqual(await removeTree(doomed), [fs.realpathSync(at)]);
      assert.deepEqual(removeTreeSync(path.join(doomed, 'deep')), [fs.realpathSync(at)]);
      assert.equal(fs.readFileSync(path.join(foreign, 'data'), 'utf8'), 'not ours');
      assert.ok(fs.existsSync(path.join(doomed, 'deep')));
    } finally {
      umount(at);
    }
    assert.deepEqual(await removeTree(doomed), []);
    assert.equal(fs.readFileSync(path.join(foreign, 'data'), 'utf8'), 'not ours');
  });

  it('volume rm refuses a volume with something mounted in it, and leaves it whole', () => {
    const root = path.join(t.dir, 'root');
    const v = createVolume(root, { name: 'mounted' });
    fs.writeFileSync(path.join(v.Mountpoint, 'own'), 'own');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', v.Mountpoint]);
    try {
      fs.writeFileSync(path.join(v.Mountpoint, 'on-tmpfs'), 'foreign');
      assert.throws(() => moveVolumeAside(root, 'mounted'), /removing volume "mounted": ".*_data" is a mount point: unmount it first/);
      assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'on-tmpfs'), 'utf8'), 'foreign');
    } finally {
      // Wherever it is now (a removal that went ahead renamed it away).
      for (const m of mountsUnder(fs.realpathSync(root))) umount(m);
    }
    assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'own'), 'utf8'), 'own', 'the volume is still where it was');
    // Mounted once moved aside, before the removal decides: nothing deleted, the volume put back.
    const aside = moveVolumeAside(root, 'mounted');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(aside, '_data')]);
    try {
      assert.throws(() => dropVolume('mounted', aside), /removing volume "mounted": something was mounted in it meanwhile: nothing was deleted \(it is back under its name\)/);
    } finally {
      for (const m of mountsUnder(fs.realpathSync(root))) umount(m);
    }
    assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'own'), 'utf8'), 'own');
    dropVolume('mounted', moveVolumeAside(root, 'mounted'));
    assert.equal(fs.existsSync(path.dirname(v.Mountpoint)), false);
    assert.deepEqual(fs.readdirSync(path.dirname(path.dirname(v.Mountpoint))), [], 'no aside left');
  });
});
