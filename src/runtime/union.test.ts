import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { distinctLayers, UnionView } from './union.js';

describe('distinctLayers', () => {
  it('drops a repeated layer, keeping its topmost place (overlayfs refuses a lowerdir twice)', () => {
    assert.deepEqual(distinctLayers(['/l/base', '/l/empty', '/l/app', '/l/empty', '/l/top']), ['/l/base', '/l/app', '/l/empty', '/l/top']);
    assert.deepEqual(distinctLayers(['/l/a', '/l/b']), ['/l/a', '/l/b']);
    assert.deepEqual(distinctLayers([]), []);
  });
});

describe('UnionView', () => {
  it('lists a directory as overlayfs shows it: whiteouts and opaque directories hide lower entries', () => {
    const t = tempDir('strata-union-');
    try {
      const [low, up] = ['low', 'up'].map((d) => path.join(t.dir, d));
      for (const f of ['a.txt', 'd/x', 'd/y', 'e/z']) {
        fs.mkdirSync(path.dirname(path.join(low, f)), { recursive: true });
        fs.writeFileSync(path.join(low, f), f);
      }
      fs.mkdirSync(path.join(up, 'd'), { recursive: true });
      fs.writeFileSync(path.join(up, 'd', '.wh..wh..opq'), '');
      fs.writeFileSync(path.join(up, 'd', 'w'), 'w');
      const whiteout = spawnSync('mknod', [path.join(up, 'a.txt'), 'c', '0', '0']).status === 0;
      const view = UnionView.of([low], up);
      assert.deepEqual(view.readdirSync('').sort(), whiteout ? ['d', 'e'] : ['a.txt', 'd', 'e']);
      assert.deepEqual(view.readdirSync('d'), ['w']);
      assert.deepEqual(view.readdirSync('e'), ['z']);

      // A view that remembers would not see what is written after it looked; a live one does.
      const cached = UnionView.of([low], up);
      const live = UnionView.of([low], up, { live: true });
      for (const v of [cached, live]) assert.equal(v.lstatSync('n/f'), undefined);
      fs.mkdirSync(path.join(up, 'n'));
      fs.writeFileSync(path.join(up, 'n', 'f'), 'f');
      assert.equal(cached.lstatSync('n/f'), undefined, 'the cached view still knows n as absent');
      assert.ok(live.lstatSync('n/f')?.isFile());
      assert.equal(fs.readFileSync(live.hostPath('n/f'), 'utf8'), 'f');
    } finally {
      t.cleanup();
    }
  });
});
