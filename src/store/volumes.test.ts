import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { createVolume, listVolumes } from './volumes.js';

it("lists volumes in docker/cli's natural order (ICU's collation gave Ord1 ord10 ord9)", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-volumes-'));
  try {
    for (const name of ['ord10', 'ord9', 'Ord1', 'ord09']) createVolume(root, { name });
    assert.deepEqual(listVolumes(root).map((v) => v.Name), ['Ord1', 'ord9', 'ord09', 'ord10']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
