// `cp` into or out of a container whose files another container changes meanwhile, through a
// volume they share (freezing the container copied to or from, cp-frozen.test.ts, does not stop
// the other): a directory swapped for a symlink to a host directory, before the copy starts or
// between two of its entries, is never followed: into the container, the copy is refused and the
// host keeps its files, their modes and times; out of it, nothing of the host is read. Failpoints
// hold the copy at those moments, and the test makes the swap in the volume's directory on the
// host, as the other container would through its mount.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runHeldAt } from '../testing/faults.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('cp with a directory another container swaps for a symlink out', { concurrency: false }, () => {
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

  const cpHeld = (args: string[], point: string, swap: () => void) => runHeldAt(args, point, { root: fx.root }, swap);

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
  /** A host directory with a secret in it, where a swapped directory of the container points. */
  function secrets(): string {
    const dir = fs.mkdtempSync(path.join(fx.root, 'secret-'));
    for (const f of ['a', 'b', 'c', 'secret.txt']) fs.writeFileSync(path.join(dir, f), 'HOST SECRET\n');
    return dir;
  }

  function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => fs.readFileSync(path.join(e.parentPath ?? e.path, e.name), 'utf8'));
  }

  for (const to of ['a host directory', 'a tar on stdout']) {
    it(`out of the container to ${to}: a directory swapped after it was listed is read where it was, never through the link`, async () => {
      const secret = secrets();
      const name = to === 'a host directory' ? 'out1' : 'out2';
      fs.mkdirSync(path.join(volume, name, 'd'), { recursive: true });
      for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(volume, name, 'd', f), `${f} of the container\n`);
      const dest = fs.mkdtempSync(path.join(fx.root, 'dest-'));
      // Entries in order: NAME, NAME/d, NAME/d/a, ...: held before the third, d listed by then.
      const r = await cpHeld(['cp', `target:/vol/${name}`, to === 'a host directory' ? dest : '-'], 'cp.read:3', () => {
        fs.renameSync(path.join(volume, name, 'd'), path.join(volume, name, 'd.old'));
        fs.symlinkSync(secret, path.join(volume, name, 'd'));
      });
      assert.equal(r.code, 0, r.stderr);
      const got = to === 'a host directory'
        ? ['a', 'b', 'c'].map((f) => fs.readFileSync(path.join(dest, name, 'd', f), 'utf8'))
        : ['a', 'b', 'c'].map((f) => execFileSync('tar', ['-xOf', '-', `${name}/d/${f}`], { input: r.stdout, encoding: 'utf8' }));
      assert.deepEqual(got, ['a of the container\n', 'b of the container\n', 'c of the container\n']);
      assert.ok(!r.stdout.includes('HOST SECRET'));
      assert.ok(!filesUnder(dest).some((c) => c.includes('HOST SECRET')));
    });
  }
  it("a volume mounted inside another for a copy to a stopped container: its destination swapped for a symlink out is refused, nothing mounted on the host", async () => {
    const v = victim();
    fx.ok(['create', '--name', 'nested', '-v', 'shared:/vol2', '-v', 'innervol:/vol2/inner', 'busybox', 'true']);
    fs.mkdirSync(path.join(volume, 'inner'));
    const mountedOnVictim = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === v.dir);
    try {
      // Mounted shallowest first: /vol2, then /vol2/inner (the never-started container has no /etc files to bind yet).
      const r = await cpHeld(['cp', path.join(src, 'keep.txt'), 'nested:/vol2/inner/'], 'rootfs.volume-resolved:2', () => {
        fs.renameSync(path.join(volume, 'inner'), path.join(volume, 'inner.old'));
        fs.symlinkSync(v.dir, path.join(volume, 'inner'));
      });
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, /"\/vol2\/inner" changed while it was copied to \(it is not the directory it was\)$/m);
      assert.ok(!mountedOnVictim(), 'nothing mounted on the host directory');
      v.unchanged();
    } finally {
      if (mountedOnVictim()) execFileSync('umount', ['-l', v.dir]);
      fx.ok(['rm', 'nested']);
    }
  });
});
