// `strata setup` probes overlayfs where strata mounts its overlays, in the state root (not /tmp:
// in strata's own image /tmp is on the container's overlay, refused as an upper dir), and leaves
// nothing behind.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { checkOverlay } from './setup.js';

test('the overlay probe mounts in the state root and cleans up', { skip: process.getuid?.() !== 0 && 'needs root (mount)' }, async () => {
  const t = tempDir('strata-setup-');
  try {
    const root = path.join(t.dir, 'root');
    assert.equal(fs.existsSync(root), false);
    const check = await checkOverlay(root);
    assert.deepEqual(check, { name: 'overlayfs', ok: true, detail: 'mounted a test overlay' });
    assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), [], 'probed in the root\'s tmp/ (made for it), nothing left');
  } finally {
    t.cleanup();
  }
});
