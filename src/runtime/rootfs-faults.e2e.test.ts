// kill -9 of `cp` while a stopped container's root and volumes are mounted for it: the next
// command unmounts and removes what it left, and never removes anything through those mounts
// (the container's files and its volume's data are intact).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mountsUnder, openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { assertNoLeftovers, runUntilKilled } from '../testing/faults.js';

describe('kill -9 of cp with a stopped container mounted', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[]) => runStrata(args, { root });

  before(async () => {
    t = tempDir('strata-faults-rootfs-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    const made = strata(['run', '--name', 'stopped', '-v', 'kept:/data', 'busybox', 'sh', '-c', 'echo mine > /mine && echo volume > /data/v']);
    assert.equal(made.status, 0, made.stderr);
  });
  after(() => {
    strata(['rm', '-f', '-v', 'stopped']);
    t.cleanup();
  });

  for (const group of [false, true]) {
    it(`killed while mounted, ${group ? 'process group' : 'CLI alone'}`, async () => {
      await runUntilKilled(['cp', 'stopped:/mine', path.join(t.dir, 'out')], { root, point: 'rootfs.mounted', group });
      assert.ok(mountsUnder(fs.realpathSync(root)).length >= 2, 'the root and the volume are left mounted');
      const ps = strata(['ps', '-a']);
      assert.equal(ps.status, 0, ps.stderr);
      await assertNoLeftovers(root);
      assert.equal(strata(['cp', 'stopped:/mine', '-']).status, 0);
      const check = strata(['run', '--rm', '--volumes-from', 'stopped', 'busybox', 'cat', '/data/v']);
      assert.equal(check.stdout, 'volume\n', `the volume kept its data: ${check.stderr}`);
      const out = path.join(t.dir, `again-${group}`);
      assert.equal(strata(['cp', 'stopped:/mine', out]).status, 0);
      assert.equal(fs.readFileSync(out, 'utf8'), 'mine\n', "the container's own files are intact");
    });
  }
});
