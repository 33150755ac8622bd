import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { containerChanges, formatChanges } from './diff.js';

describe('containerChanges', () => {
  it('reads A/C/D from an upper dir as docker diff prints them', async () => {
    const t = tempDir();
    try {
      const lower = path.join(t.dir, 'lower');
      const upper = path.join(t.dir, 'upper');
      for (const d of ['etc', 'tmp', 'usr/bin']) fs.mkdirSync(path.join(lower, d), { recursive: true });
      fs.writeFileSync(path.join(lower, 'etc', 'passwd'), 'x');
      fs.writeFileSync(path.join(lower, 'tmp', 'y'), 'y');
      fs.mkdirSync(path.join(upper, 'etc'), { recursive: true });
      fs.mkdirSync(path.join(upper, 'tmp'));
      fs.mkdirSync(path.join(upper, 'newdir', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(upper, 'etc', 'x'), 'new');
      fs.writeFileSync(path.join(upper, 'etc', 'passwd'), 'changed');
      fs.writeFileSync(path.join(upper, 'newdir', 'sub', 'f'), '');
      assert.equal(spawnSync('mknod', [path.join(upper, 'tmp', 'y'), 'c', '0', '0']).status, 0);
      const out = formatChanges(await containerChanges(upper, [lower]));
      assert.equal(out, 'C /etc\nC /etc/passwd\nA /etc/x\nA /newdir\nA /newdir/sub\nA /newdir/sub/f\nC /tmp\nD /tmp/y\n');
    } finally {
      t.cleanup();
    }
  });
});
