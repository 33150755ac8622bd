// A build holds what it uses (issue 9 points 6 and 7): an `rmi -f` of its base image, an
// `image prune -a` and a `cache prune -a` while a RUN step runs leave the build's base layers
// and reused cache layers in place, and the build succeeds. "While" is made exact without
// timers: the RUN step says READY, then waits for a file the test creates in the context
// (bound into the step) once the removal has run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';
import { assertStoreIntact, runUntilKilled, writeContext } from '../testing/faults.js';

describe('a build holds its base image and cache layers (lease)', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[]) => runStrata(args, { root, timeoutMs: 180_000 });

  before(() => {
    t = tempDir('strata-lease-');
    root = path.join(t.dir, 'root');
  });
  after(() => t.cleanup());

  /** Makes every blob and layer look written two hours ago: only what is live survives a collection. */
  function ageStore(r = root): void {
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const dir of [path.join(r, 'blobs', 'sha256'), path.join(r, 'layers')]) {
      for (const name of fs.readdirSync(dir)) if (!name.startsWith('.')) fs.utimesSync(path.join(dir, name), old, old);
    }
  }

  /** Builds `dockerfile` + a waiting RUN step; runs `during` while that step runs; returns the build's result. */
  async function buildDuring(name: string, dockerfile: string, during: () => void): Promise<{ status: number; stderr: string }> {
    const waitStep = `RUN --mount=type=bind,target=/ctx sh -c 'echo READY-${name}; until [ -e /ctx/go ]; do sleep 0.1; done; echo ${name} > /out'\n`;
    const dir = writeContext(t.dir, name, `${dockerfile}${waitStep}`);
    const child = spawnStrata(['build', '--progress', 'plain', '-t', `${name}:1`, dir], { root });
    let stderr = '';
    let acted = false;
    const done = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 128)));
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!acted && stderr.includes(`READY-${name}\n`)) {
        acted = true;
        try {
          during();
        } finally {
          fs.writeFileSync(path.join(dir, 'go'), '');
        }
      }
    });
    const status = await done;
    assert.ok(acted, `the RUN step never ran: ${stderr}`);
    return { status, stderr };
  }

  const noLeases = () => assert.deepEqual(fs.existsSync(path.join(root, 'leases')) ? fs.readdirSync(path.join(root, 'leases')) : [], [], 'the build released its lease');

  it('rmi -f of the base image during the build: the build succeeds on it', async () => {
    const base = await ensureBusybox(await openStore(root));
    ageStore();
    let rmi: ReturnType<typeof strata> | undefined;
    const r = await buildDuring('rmi', 'FROM busybox\n', () => (rmi = strata(['rmi', '-f', 'busybox'])));
    assert.equal(rmi!.status, 0, rmi!.stderr);
    assert.match(rmi!.stdout, new RegExp(`Deleted: ${base.id}`), 'the image itself is removed');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(strata(['run', '--rm', 'rmi:1', 'cat', '/out']).stdout, 'rmi\n');
    assert.equal(strata(['images', '-q', 'busybox']).stdout, '', 'busybox stays removed');
    noLeases();
    await assertStoreIntact(root);
  });

  it('image prune -a during the build: the build succeeds', async () => {
    await ensureBusybox(await openStore(root));
    ageStore();
    let prune: ReturnType<typeof strata> | undefined;
    const r = await buildDuring('prune', 'FROM busybox\n', () => (prune = strata(['image', 'prune', '-a', '-f'])));
    assert.equal(prune!.status, 0, prune!.stderr);
    assert.match(prune!.stdout, /deleted: sha256:/, 'unused images were pruned');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(strata(['run', '--rm', 'prune:1', 'cat', '/out']).stdout, 'prune\n');
    noLeases();
    await assertStoreIntact(root);
  });

  it('cache prune -a during a build that reused an old cached layer: the build succeeds', async () => {
    await ensureBusybox(await openStore(root));
    // A cached step whose layer no image holds (its image is removed), written long ago.
    const first = writeContext(t.dir, 'cached', 'FROM busybox\nRUN echo cached > /c\n');
    assert.equal(strata(['build', '-q', '-t', 'cached:1', first]).status, 0);
    assert.equal(strata(['rmi', 'cached:1']).status, 0);
    ageStore();
    let prune: ReturnType<typeof strata> | undefined;
    const r = await buildDuring('cprune', 'FROM busybox\nRUN echo cached > /c\n', () => (prune = strata(['cache', 'prune', '-a', '-f'])));
    assert.equal(prune!.status, 0, prune!.stderr);
    assert.match(prune!.stdout, /Deleted: [0-9a-f]{64}/, 'the entries were dropped');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /RUN echo cached > \/c[^\n]*\n[^\n]*CACHED|CACHED[^\n]*RUN echo cached/, `the first RUN was reused: ${r.stderr}`);
    assert.equal(strata(['run', '--rm', 'cprune:1', 'cat', '/c', '/out']).stdout, 'cached\ncprune\n');
    noLeases();
    await assertStoreIntact(root);
  });

  it("a build killed with -9 holds nothing: its lease is void and swept, and rmi frees the base's layer", async () => {
    const own = path.join(t.dir, 'root-killed'); // no image built on busybox here
    const base = await ensureBusybox(await openStore(own));
    ageStore(own);
    const dir = writeContext(t.dir, 'killed', 'FROM busybox\nRUN echo killed-run; sleep 1\n');
    await runUntilKilled(['build', '--progress', 'plain', dir], { root: own, point: 'build.run-output' });
    assert.equal(fs.readdirSync(path.join(own, 'leases')).length, 1, 'the killed build left its lease');
    const rmi = runStrata(['rmi', 'busybox'], { root: own });
    assert.equal(rmi.status, 0, rmi.stderr);
    assert.deepEqual(fs.readdirSync(path.join(own, 'leases')), [], 'swept');
    assert.equal(await (await openStore(own)).hasLayer(base.config.rootfs.diff_ids[0]!), false, 'the dead lease pinned nothing');
    await assertStoreIntact(own);
  });
});
