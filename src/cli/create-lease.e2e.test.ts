// A container being created holds its image (engine/containers-create.ts, store/leases.ts use()):
// between resolving the image and writing the record, a concurrent `rmi -f` or `image prune -af`
// keeps the image (untagged at most) with its config and layers, and the container is made and
// runs. An rmi that went before the lease wins: the create fails in one line and leaves no
// container. A failpoint stops the create at either moment (NAME:stop), so the race is the same
// every run; the store is aged past the collector's grace so that only what is held survives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { spawnStrata } from '../testing/cli.js';
import { isStopped, runUntilKilled } from '../testing/faults.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

/** Every blob and layer of the root dated two hours back: past the collector's grace period. */
function ageStore(root: string): void {
  const old = new Date(Date.now() - 2 * 3_600_000);
  for (const dir of [path.join(root, 'blobs', 'sha256'), path.join(root, 'layers')]) {
    for (const name of fs.readdirSync(dir)) if (!name.startsWith('.')) fs.lutimesSync(path.join(dir, name), old, old);
  }
}

const leaseFiles = (root: string) => (fs.existsSync(path.join(root, 'leases')) ? fs.readdirSync(path.join(root, 'leases')) : []);

/** Runs strata ARGS stopped at failpoint POINT, runs MEANWHILE, lets it go on; its exit code and output. */
async function stoppedAt(root: string, point: string, args: string[], meanwhile: () => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnStrata(args, { root, env: { STRATA_FAILPOINT: `${point}:stop` } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stopped = () => isStopped(child.pid!);
  try {
    for (let i = 0; i < 400 && !stopped() && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(stopped(), `${args.join(' ')} stopped at ${point}: ${stderr}`);
    meanwhile();
  } finally {
    child.kill('SIGCONT');
  }
  return { code: await exited, stdout, stderr };
}

describe('a container being created holds its image against rmi and prune', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx.teardown();
    await closeHashPool();
  });

  it('rmi -f and image prune -af after the lease: the image stays, untagged, and the container is made and runs', async () => {
    const base = await (await openStore(fx.root)).resolveImage('busybox');
    const layer = base.config.rootfs.diff_ids[0]!;
    ageStore(fx.root);
    let leases = 0;
    let rmi = { status: -1, stdout: '', stderr: '' };
    let prune = { status: -1, stdout: '', stderr: '' };
    const r = await stoppedAt(fx.root, 'container.image-leased', ['run', '--name', 'held', '--network', 'none', 'busybox', 'cat', '/etc/passwd'], () => {
      leases = leaseFiles(fx.root).length;
      rmi = fx.strata(['rmi', '-f', 'busybox']);
      prune = fx.strata(['image', 'prune', '-a', '-f']);
    });
    // What the container needs first (without the lease, the run fails on a missing layer).
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^root:/);
    const store = await openStore(fx.root);
    assert.ok(await store.hasLayer(layer), "the image's layer is still here");
    assert.ok(await store.blobs.has(base.id), "the image's config is still here");
    assert.equal(fx.ok(['inspect', '-f', '{{.Image}}', 'held']).trim(), base.id);
    // Then how rmi and prune said it: as for an image a container uses.
    assert.equal(leases, 1, 'the create held a lease');
    assert.equal(rmi.status, 0, rmi.stderr);
    assert.equal(rmi.stdout, 'Untagged: busybox:latest\n', 'the name goes, the image stays');
    assert.equal(prune.status, 0, prune.stderr);
    assert.doesNotMatch(prune.stdout, new RegExp(base.id), 'prune passes the image by');
    assert.ok(fx.ok(['images', '-a', '-q', '--no-trunc']).split('\n').includes(base.id), 'the image is still listed, dangling');
    assert.deepEqual(leaseFiles(fx.root).filter((n) => n.endsWith('.json')), [], 'the lease is released');
    fx.ok(['system', 'check']);
    // Held by nothing once the container goes: the next prune deletes it.
    fx.ok(['rm', 'held']);
    assert.match(fx.ok(['image', 'prune', '-a', '-f']), new RegExp(`deleted: ${base.id}`));
    assert.equal(await store.hasLayer(layer), false);
  });

  it('rmi -f before the lease: create fails in one line (exit 125) and leaves no container', async () => {
    const store = await openStore(fx.root);
    fx.strata(['rm', '-f', 'held']); // left by the test before if it failed
    const base = await ensureBusybox(store); // the test before removed it
    let rmi = { status: -1, stdout: '', stderr: '' };
    const r = await stoppedAt(fx.root, 'container.image-resolved', ['create', '--name', 'late', '--network', 'none', 'busybox', 'true'], () => {
      rmi = fx.strata(['rmi', '-f', 'busybox']);
    });
    assert.equal(r.code, 125, r.stdout);
    assert.equal(r.stderr, 'Error: no such image: "busybox"\n');
    assert.equal(fx.ok(['ps', '-a', '-q']), '', 'no container was made');
    assert.notEqual(fx.strata(['inspect', 'late']).status, 0);
    assert.deepEqual(leaseFiles(fx.root).filter((n) => n.endsWith('.json')), [], 'the lease is released');
    assert.equal(rmi.status, 0, rmi.stderr);
    assert.match(rmi.stdout, new RegExp(`Deleted: ${base.id}`), 'the removal went first, and through');
    assert.equal(await store.hasLayer(base.config.rootfs.diff_ids[0]!), false);
    fx.ok(['system', 'check']);
  });

  it('a create killed (-9) while it holds the lease leaves no container, and its lease holds nothing', async () => {
    const store = await openStore(fx.root);
    const base = await ensureBusybox(store);
    await runUntilKilled(['create', '--name', 'killed', '--network', 'none', 'busybox', 'true'], { root: fx.root, point: 'container.image-leased' });
    assert.equal(leaseFiles(fx.root).filter((n) => n.endsWith('.json')).length, 1, 'the killed create left its lease');
    assert.equal(fx.ok(['ps', '-a', '-q']), '');
    const rmi = fx.ok(['rmi', 'busybox']);
    assert.match(rmi, new RegExp(`Deleted: ${base.id}`), 'the dead lease keeps nothing');
    assert.deepEqual(leaseFiles(fx.root), [], 'swept');
    fx.ok(['system', 'check']);
  });
});
