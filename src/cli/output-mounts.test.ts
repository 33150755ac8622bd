// `build --output type=local` writes into a directory of the user's: replacing one of its
// directories by a file of the image never goes through a mount under that directory.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runStrata, tempDir } from '../testing/cli.js';

describe('build --output type=local over a mount', () => {
  const t = tempDir('strata-outmnt-');
  after(() => t.cleanup());

  it('refuses to replace a destination directory that holds a mount, and leaves what it shows', () => {
    const ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY conf /conf\n');
    fs.writeFileSync(path.join(ctx, 'conf'), 'file of the image\n');
    const dest = path.join(t.dir, 'out');
    const at = path.join(dest, 'conf', 'mnt');
    const foreign = path.join(t.dir, 'foreign');
    fs.mkdirSync(at, { recursive: true });
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'data'), 'not the build\'s\n');
    execFileSync('mount', ['--bind', foreign, at]);
    try {
      const r = runStrata(['build', '-q', '--output', `type=local,dest=${dest}`, ctx], { root: path.join(t.dir, 'root') });
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, /cannot replace directory "\/conf": ".*\/conf\/mnt" is mounted under it/);
      assert.equal(fs.readFileSync(path.join(foreign, 'data'), 'utf8'), 'not the build\'s\n');
    } finally {
      spawnSync('umount', [at], { stdio: 'ignore' });
    }
    // Without the mount the file of the image takes the directory's place, as BuildKit's exporter does.
    const r = runStrata(['build', '-q', '--output', `type=local,dest=${dest}`, ctx], { root: path.join(t.dir, 'root') });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dest, 'conf'), 'utf8'), 'file of the image\n');
  });
});
