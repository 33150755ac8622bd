// kill -9 of `strata commit` of a running container that wrote a lot, at the moments that
// matter (failpoints), the CLI alone and its process group: the container keeps running (not
// left frozen by the commit's pause), the store is intact, and committing again gives an image
// that holds every byte the container wrote.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, containerWrote, eventually, runUntilKilled } from '../testing/faults.js';

describe('kill -9 of strata commit', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[]) => runStrata(args, { root, timeoutMs: 120_000 });

  before(async () => {
    t = tempDir('strata-faults-commit-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    // 8 MB: a layer of some 8 chunks (1 MiB each), so that layer.chunk:5 is mid-layer; the
    // real-size commit (200 MB) is faults-large's.
    const started = strata(['run', '-d', '--name', 'writer', 'busybox', 'sh', '-c',
      'head -c 8000000 /dev/urandom > /data && sha256sum /data > /sum && mv /sum /data.sum && exec sleep 86394']);
    assert.equal(started.status, 0, started.stderr);
    assert.ok(await eventually(() => containerWrote(root, started.stdout.trim(), '/data.sum'), 30_000), 'the container wrote its data');
  });
  after(() => {
    strata(['rm', '-f', 'writer']);
    t.cleanup();
  });

  const points = ['layer.chunk:5', 'layer.written', 'layer.unpacking:2', 'commit.layer-written', 'image.before-index'];
  for (const point of points) {
    for (const group of [false, true]) {
      it(`killed at ${point}, ${group ? 'process group' : 'CLI alone'}`, async () => {
        await runUntilKilled(['commit', 'writer', 'snap:1'], { root, point, group });
        await assertStoreIntact(root);
        const ps = strata(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
        assert.equal(ps.status, 0, ps.stderr);
        assert.match(ps.stdout, /^writer Up [^\n]*$/m);
        assert.doesNotMatch(ps.stdout, /Paused/, 'the commit\'s pause was undone');
        assert.equal(strata(['exec', 'writer', 'true']).status, 0, 'the container runs');
        await assertNoLeftovers(root);
        const committed = strata(['commit', 'writer', 'snap:1']);
        assert.equal(committed.status, 0, committed.stderr);
        // Its own checks need no network (none: no veth to make and remove).
        const check = strata(['run', '--rm', '--network', 'none', 'snap:1', 'sha256sum', '-c', '/data.sum']);
        assert.equal(check.status, 0, `the committed layer holds the data: ${check.stdout}${check.stderr}`);
        assert.equal(strata(['rmi', 'snap:1']).status, 0);
      });
    }
  }
});
