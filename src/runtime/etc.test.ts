import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { writeInitLayer } from './etc.js';
import { UnionView } from './union.js';

describe('writeInitLayer', () => {
  it("creates the mount points the image lacks, copying the image's own dirs' mode and owner", () => {
    const t = tempDir();
    try {
      const layer = path.join(t.dir, 'layer');
      fs.mkdirSync(path.join(layer, 'dev'), { recursive: true });
      fs.chmodSync(path.join(layer, 'dev'), 0o711);
      fs.chownSync(path.join(layer, 'dev'), 1234, 5678);
      fs.mkdirSync(path.join(layer, 'etc'), { mode: 0o755 });
      fs.writeFileSync(path.join(layer, 'etc', 'hosts'), 'image hosts\n');
      fs.symlinkSync('/elsewhere', path.join(layer, 'sys'));
      const init = path.join(t.dir, 'init');
      writeInitLayer(init, UnionView.of([layer]), [{ destination: '/data/vol', file: false }, { destination: '/new/conf.ini', file: true }]);

      const dev = fs.lstatSync(path.join(init, 'dev'));
      assert.equal(dev.mode & 0o7777, 0o711, 'mode copied, also after dev/pts, dev/shm... were made under it');
      assert.deepEqual([dev.uid, dev.gid], [1234, 5678], 'owner copied');
      for (const d of ['dev/pts', 'dev/shm', 'dev/mqueue', 'proc', 'data/vol']) {
        const st = fs.lstatSync(path.join(init, d));
        assert.ok(st.isDirectory(), d);
        assert.equal(st.mode & 0o7777, 0o755, d);
      }
      assert.equal(fs.existsSync(path.join(init, 'sys')), false, 'a symlink in the image is left to runc');
      assert.equal(fs.existsSync(path.join(init, 'etc', 'hosts')), false, 'an existing file is mounted over as it is');
      assert.equal(fs.readFileSync(path.join(init, 'etc', 'hostname'), 'utf8'), '', 'a missing file gets an empty mount point');
      assert.equal(fs.readFileSync(path.join(init, 'new', 'conf.ini'), 'utf8'), '', 'a file bind mount too, in a new directory');
      assert.ok(fs.statSync(path.join(init, 'new')).isDirectory());
      // A tmpfs's mode= for a mount point the image lacks (runc puts it back after mounting); the image's own dir keeps its mode.
      writeInitLayer(init, UnionView.of([layer]), [{ destination: '/scratch', file: false, mode: 0o1770 }, { destination: '/dev', file: false, mode: 0o700 }]);
      assert.equal(fs.lstatSync(path.join(init, 'scratch')).mode & 0o7777, 0o1770);
      assert.equal(fs.lstatSync(path.join(init, 'dev')).mode & 0o7777, 0o711);
    } finally {
      t.cleanup();
    }
  });
});
