// A container's lock left by a process killed at any moment is broken by the next taker:
// also one killed between creating the file and writing its pid into it (an empty file).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { withContainerLock } from './container-lock.js';

test('an empty lock file (its writer killed before the pid) is stale after a while, not forever', async () => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'lock'), '');
    const t0 = Date.now();
    assert.equal(await withContainerLock(dir, 'c'.repeat(64), async () => 'taken'), 'taken');
    assert.ok(Date.now() - t0 >= 2000, 'not taken while it may still be being written');
    assert.equal(fs.existsSync(path.join(dir, 'lock')), false, 'released');
  } finally {
    cleanup();
  }
});
