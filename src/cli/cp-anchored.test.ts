// `cp` into a container whose destination another container changes meanwhile, through a volume
// they share (freezing the destination container, cp-frozen.test.ts, does not stop the other):
// a directory swapped for a symlink to a host directory, before the copy places anything or
// between two of its entries, is never followed: the copy is refused, the host keeps its files,
// their modes and times. Failpoints hold the copy at those moments, and the test makes the swap
// in the volume's directory on the host, as the other container would through its mount.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnStrata } from '../testing/cli.js';
import { waitStopped } from '../testing/faults.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('cp into a destination another container swaps for a symlink out', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  let volume: string;
  let src: string;
  before(async () => {
    fx = await lifecycleFixture();
    fx.ok(['volume', 'create', 'shared']);
    volume = fx.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'shared']).trim();
    fx.ok(['create', '--name', 'target', '-v', 'shared:/vol', 'busybox', 'true']);
    src = fs.mkdtempSync(path.join(fx.root, 'src-'));
    fs.mkdirSync(path.join(src, 'd'));
    for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(src, 'd', f), `${f} from the copy\n`);
    fs.writeFileSync(path.join(src, 'keep.txt'), 'OVERWRITTEN\n');
  });
  after(async () => {
    await fx.teardown();
  });

  /** A host directory the swap points at: its names, contents, mode and mtime must not change. */
  function victim(): { dir: string; unchanged: () => void } {
    const dir = fs.mkdtempSync(path.join(fx.root, 'victim-'));
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'precious\n');
    fs.writeFileSync(path.join(dir, 'b'), 'host b\n');
    fs.chmodSync(dir, 0o700);
    fs.utimesSync(dir, 1_000_000, 1_000_000);
    const before = fs.statSync(dir);
    return {
      dir,
      unchanged: () => {
        assert.deepEqual(fs.readdirSync(dir).sort(), ['b', 'keep.txt']);
        assert.equal(fs.readFileSync(path.join(dir, 'keep.txt'), 'utf8'), 'precious\n');
        assert.equal(fs.readFileSync(path.join(dir, 'b'), 'utf8'), 'host b\n');
        const now = fs.statSync(dir);
        assert.equal(now.mode, before.mode);
        assert.equal(now.mtimeMs, before.mtimeMs);
      },
    };
  }

  /** `cp ARGS` held at POINT while SWAP runs; its exit code and stderr. */
  async function cpHeld(args: string[], point: string, swap: () => void): Promise<{ code: number | null; stderr: string }> {
    const cp = spawnStrata(args, { root: fx.root, env: { STRATA_FAILPOINT: `${point}:stop` } });
    let stderr = '';
    cp.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => cp.once('close', resolve));
    try {
      await waitStopped(cp.pid!, `cp held at ${point}`);
      swap();
    } finally {
      cp.kill('SIGCONT');
    }
    return { code: await closed, stderr };
  }

  it('the destination directory swapped after it was resolved: refused, nothing written outside', async () => {
    const v = victim();
    fs.mkdirSync(path.join(volume, 'app1'));
    const r = await cpHeld(['cp', `${src}/.`, 'target:/vol/app1/'], 'cp.resolved', () => {
      fs.renameSync(path.join(volume, 'app1'), path.join(volume, 'app1.old'));
      fs.symlinkSync(v.dir, path.join(volume, 'app1'));
    });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: .*"\/vol\/app1" changed while it was copied to \(it is not the directory it was\)$/m);
    v.unchanged();
    assert.deepEqual(fs.readdirSync(path.join(volume, 'app1.old')), []);
  });

  it('a directory the copy made swapped between two of its entries: refused, nothing written or changed outside', async () => {
    const v = victim();
    fs.mkdirSync(path.join(volume, 'app2'));
    // Entries in order: "." (the source's contents), d, d/a, d/b, ...: held once d/a is placed.
    const r = await cpHeld(['cp', `${src}/.`, 'target:/vol/app2/'], 'cp.placed:3', () => {
      assert.ok(fs.lstatSync(path.join(volume, 'app2', 'd')).isDirectory(), 'd was made');
      fs.renameSync(path.join(volume, 'app2', 'd'), path.join(volume, 'app2', 'd.old'));
      fs.symlinkSync(v.dir, path.join(volume, 'app2', 'd'));
    });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /changed while it was copied to \(it is not the directory it was\)$/m);
    v.unchanged();
    // What was placed after the swap went into the directory the copy had made, moved aside.
    assert.equal(fs.readFileSync(path.join(volume, 'app2', 'd.old', 'b'), 'utf8'), 'b from the copy\n');
  });
});
