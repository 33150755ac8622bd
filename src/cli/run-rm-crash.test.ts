// A `run --rm` killed (kill -9, failpoints of src/failpoint.ts) once it had started its container
// left an exited container that nobody removed: its name stayed taken and `ps -a` listed it
// forever (Docker's daemon, podman's conmon remove it). The next command's sweep removes it and
// its anonymous volumes (runtime/leftovers.ts removeOrphanedAutoRemove); a named volume, a
// container without --rm, and a --rm container never started (Created, as Docker's) stay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { runUntilKilled } from '../testing/faults.js';

describe('run --rm killed midway', { concurrency: false, timeout: 120_000 }, () => {
  let root: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir: root, cleanup } = tempDir('strata-rmcrash-'));
    await ensureBusybox(await openStore(root));
  });
  after(() => cleanup());

  const ok = (args: string[]) => {
    const r = runStrata(args, { root });
    assert.equal(r.status, 0, `strata ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const listed = () => ok(['ps', '-a', '--format', '{{.Names}} {{.State}}']).split('\n').filter(Boolean).sort();
  const volumes = () => ok(['volume', 'ls', '-q']).split('\n').filter(Boolean);

  for (const group of [false, true]) {
    it(`the next command removes a started --rm container and its anonymous volume, not its named one (${group ? 'process group' : 'CLI alone'})`, async () => {
      ok(['volume', 'create', 'named']);
      ok(['run', '--rm', '-v', 'named:/named', 'busybox', 'sh', '-c', 'echo precious > /named/f']);
      await runUntilKilled(['run', '--rm', '--name', 'orphan', '-v', 'named:/named', '-v', '/anon', 'busybox', 'true'], { root, point: 'run.status-saved', group });
      assert.deepEqual(listed(), [], 'ps -a sweeps it first');
      assert.deepEqual(volumes(), ['named'], 'its anonymous volume went with it, the named one stays');
      assert.equal(ok(['run', '--rm', '--name', 'orphan', '-v', 'named:/named', 'busybox', 'cat', '/named/f']), 'precious\n', 'its name is free; the named volume kept its data');
      ok(['volume', 'rm', 'named']);
    });
  }

  it('a container without --rm killed the same way stays, exited; a --rm one never started stays Created', async () => {
    await runUntilKilled(['run', '--name', 'kept', 'busybox', 'true'], { root, point: 'run.status-saved' });
    await runUntilKilled(['run', '-d', '--rm', '--name', 'created', 'busybox', 'true'], { root, point: 'run.created' });
    assert.deepEqual(listed(), ['created created', 'kept exited']);
    ok(['rm', 'kept', 'created']);
  });
});
