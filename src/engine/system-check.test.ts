// The System service's check as a program calls it: the store's own findings and the runtime's
// leftovers in one report, named without repair, removed with it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { tempDir } from '../testing/cli.js';
import { System } from './system.js';

test('system check reports a half-made volume of a dead creator, and repair removes it', async () => {
  const { dir: root, cleanup } = tempDir('strata-check-');
  try {
    await ensureBusybox(await openStore(root));
    // A creator that has exited: a process that ran and is gone.
    const dead = spawnSync('true').pid!;
    const temp = path.join(root, 'volumes', `.tmp-data-${dead}-0badf00d`);
    fs.mkdirSync(temp, { recursive: true });
    fs.writeFileSync(path.join(temp, 'half'), 'x');
    const system = new System({ stateRoot: root });

    const seen = await system.check();
    assert.equal(seen.images, 1);
    assert.deepEqual(seen.findings.filter((f) => f.kind === 'damage'), []);
    const leftover = seen.findings.find((f) => f.subject === `"${temp}"`);
    assert.equal(leftover?.kind, 'leftover');
    assert.equal(leftover?.problem, 'a volume whose creation was killed before it was put in place');
    assert.equal(leftover?.repaired, undefined);
    assert.ok(fs.existsSync(temp), 'without repair nothing is removed');

    const mended = await system.check({ repair: true });
    assert.equal(mended.findings.find((f) => f.subject === `"${temp}"`)?.repaired, 'removed');
    assert.ok(!fs.existsSync(temp));
    assert.equal((await system.check()).findings.find((f) => f.subject === `"${temp}"`), undefined);
  } finally {
    cleanup();
  }
});
