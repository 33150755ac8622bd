// Commands racing on one state root, as separate processes (no daemon serialises them): two
// builds sharing a base started together, ten `run --rm` at once, two `run -d --name same`, and
// a build beside `images` and `ps`. Each must do its own work correctly and leave the store
// consistent.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, runStrataAsync, writeContext } from '../testing/faults.js';

describe('concurrent commands on one state root', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[]) => runStrata(args, { root, timeoutMs: 180_000 });
  const async = (args: string[]) => runStrataAsync(args, { root });
  const context = (name: string, dockerfile: string) => writeContext(t.dir, name, dockerfile);

  before(async () => {
    t = tempDir('strata-concurrency-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => {
    strata(['rm', '-f', 'same']);
    t.cleanup();
  });

  it('two builds sharing a base layer, started together, both succeed and share it', async () => {
    // The same first steps, then their own. With SOURCE_DATE_EPOCH the shared step gives the same
    // layer in both, which both may put in place at once (one keeps the other's).
    const common = 'FROM busybox\nRUN head -c 2000000 /dev/zero > /shared\n';
    const a = context('a', `${common}RUN echo a > /who\n`);
    const b = context('b', `${common}RUN echo b > /who\n`);
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const [ra, rb] = await Promise.all(([['a:1', a], ['b:1', b]] as const).map(([tag, dir]) => runStrataAsync(['build', '-q', '-t', tag, dir], { root, env })));
    assert.equal(ra.status, 0, ra.stderr);
    assert.equal(rb.status, 0, rb.stderr);
    assert.equal(strata(['run', '--rm', 'a:1', 'cat', '/who']).stdout, 'a\n');
    assert.equal(strata(['run', '--rm', 'b:1', 'cat', '/who']).stdout, 'b\n');
    const layersOf = (ref: string) => JSON.parse(strata(['inspect', '--format', '{{json .RootFS.Layers}}', ref]).stdout) as string[];
    const [la, lb] = [layersOf('a:1'), layersOf('b:1')];
    assert.deepEqual(la.slice(0, 2), lb.slice(0, 2), 'the base layer and the shared one');
    assert.notEqual(la[2], lb[2]);
    // A rebuild of either is fully cached.
    const again = runStrata(['build', '--progress', 'plain', '-t', 'a:1', a], { root, env });
    assert.match(again.stderr, /, 0 built in /, again.stderr);
    await assertStoreIntact(root);
  });

  it('ten run --rm at once each run their own container and leave nothing', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => async(['run', '--rm', 'busybox', 'sh', '-c', `echo run ${i}; hostname`])));
    const hostnames = new Set<string>();
    runs.forEach((r, i) => {
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^run ${i}\\n`), r.stdout);
      hostnames.add(r.stdout.split('\n')[1]!);
    });
    assert.equal(hostnames.size, 10, 'ten containers');
    assert.equal(strata(['ps', '-a', '-q']).stdout, '', 'all removed');
    await assertNoLeftovers(root);
  });

  it('two run -d --name same: exactly one wins, the other says the name is in use (125)', async () => {
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all([0, 1].map(() => async(['run', '-d', '--name', 'same', 'busybox', 'sleep', '86370'])));
      const won = rs.filter((r) => r.status === 0);
      const lost = rs.filter((r) => r.status !== 0);
      assert.equal(won.length, 1, rs.map((r) => r.stderr).join(''));
      assert.equal(lost[0]!.status, 125);
      assert.match(lost[0]!.stderr, /^Error: conflict: the container name "\/same" is already in use by container "[0-9a-f]{64}"/);
      assert.equal(lost[0]!.stderr.split('\n').filter(Boolean).length, 1, lost[0]!.stderr);
      const ps = strata(['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.Status}}']).stdout.trim().split('\n');
      assert.equal(ps.length, 1, ps.join('\n'));
      assert.match(ps[0]!, /^[0-9a-f]{12} same Up/);
      assert.ok(won[0]!.stdout.startsWith(ps[0]!.slice(0, 12)), 'the winner is the container listed');
      assert.equal(strata(['rm', '-f', 'same']).status, 0);
    }
  });

  it('images and ps while a build runs see a consistent store', async () => {
    const ctx = context('busy', 'FROM busybox\nRUN for i in 1 2 3 4 5; do head -c 1000000 /dev/urandom > /f$i; done\nRUN echo done > /done\n');
    const build = async(['build', '-q', '-t', 'busy:1', '--no-cache', ctx]);
    let done = false;
    void build.then(() => (done = true));
    let listings = 0;
    while (!done || listings < 4) {
      const [images, ps] = await Promise.all([async(['images']), async(['ps', '-a'])]);
      assert.equal(images.status, 0, images.stderr);
      assert.equal(images.stderr, '');
      assert.match(images.stdout, /^busybox +latest/m);
      assert.equal(ps.status, 0, ps.stderr);
      listings++;
    }
    const r = await build;
    assert.equal(r.status, 0, r.stderr);
    assert.match(strata(['images']).stdout, /^busy +1 /m);
    await assertStoreIntact(root);
  });
});
