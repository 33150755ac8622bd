// A full disk (the state root on a small tmpfs this test mounts): build, commit and load stop
// with one line naming what could not be written, in the user's terms (never an internal path),
// exit 125, leave nothing behind and an intact store, which works again once space is freed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir, type CliResult } from '../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, containerWrote, eventually, writeContext } from '../testing/faults.js';

describe('disk full', () => {
  let t: ReturnType<typeof tempDir>;
  let mnt: string;
  let root: string;
  let filler: string;
  const strata = (args: string[], r = root) => runStrata(args, { root: r, timeoutMs: 120_000 });
  const context = (name: string, dockerfile: string, files: Record<string, Buffer> = {}) => writeContext(t.dir, name, dockerfile, files);

  /** One line, exit 125, naming `what`; no path of the state root; nothing left; the store intact. */
  async function assertStoppedCleanly(r: CliResult, what: RegExp): Promise<void> {
    assert.equal(r.status, 125, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, what);
    assert.ok(!r.stderr.includes(mnt), `an internal path is shown: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /ENOSPC|\n\s+at /);
    await assertNoLeftovers(root);
    await assertStoreIntact(root);
    assert.equal(strata(['images']).status, 0);
  }

  before(async () => {
    t = tempDir('strata-nospace-');
    mnt = path.join(t.dir, 'small');
    fs.mkdirSync(mnt);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', mnt]).status, 0, 'mounting a tmpfs');
    root = path.join(mnt, 'root');
    await ensureBusybox(await openStore(root));
    // Some 20 MiB left free.
    filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(104 * 1024 * 1024));
  });
  after(() => {
    strata(['rm', '-f', 'writer']);
    spawnSync('umount', ['-l', mnt]);
    t.cleanup();
  });

  // The last step writes SIZE bytes: with some 20 MiB free, 100 MB do not fit.
  const layered = 'FROM busybox\nRUN echo small > /small\nARG SIZE\nRUN head -c $SIZE /dev/zero > /big\n';

  it('build: a RUN whose process fills the disk', async () => {
    const r = strata(['build', '--progress', 'plain', '-t', 'layered:1', '--build-arg', 'SIZE=100000000', context('layered', layered)]);
    await assertStoppedCleanly(r, /^Error: Dockerfile:4: no space left on device: writing the layer of step 3\/3 \(RUN head -c \$SIZE \/dev\/zero > \/big\)$/);
  });

  it('build: the files of a COPY', async () => {
    const r = strata(['build', '--progress', 'plain', context('copy', 'FROM busybox\nCOPY big /big\n', { big: Buffer.alloc(30_000_000, 1) })]);
    await assertStoppedCleanly(r, /^Error: Dockerfile:2: no space left on device: writing the layer of step 2\/2 \(COPY big \/big\)$/);
  });

  it('commit: the layer of a container', async () => {
    const started = strata(['run', '-d', '--name', 'writer', 'busybox', 'sh', '-c', 'head -c 12000000 /dev/urandom > /data && sha256sum /data > /sum && mv /sum /data.sum && exec sleep 86376']);
    assert.equal(started.status, 0, started.stderr);
    assert.ok(await eventually(() => containerWrote(root, started.stdout.trim(), '/data.sum'), 20_000), 'the container wrote its data');
    await assertStoppedCleanly(strata(['commit', 'writer', 'committed:1']), /^Error: no space left on device: writing the layer of container "writer"$/);
    assert.match(strata(['ps', '--format', '{{.Names}} {{.Status}}']).stdout, /^writer Up(?![^\n]*Paused)/m, 'the container runs on');
  });

  it('load: a layer of the archive', async () => {
    const other = path.join(t.dir, 'other');
    await ensureBusybox(await openStore(other));
    assert.equal(strata(['build', '-q', '-t', 'archived:1', context('archived', 'FROM busybox\nRUN head -c 15000000 /dev/urandom > /big\n')], other).status, 0);
    const archive = path.join(t.dir, 'archived.tar');
    assert.equal(strata(['save', '-o', archive, 'archived:1'], other).status, 0);
    const r = strata(['load', '-i', archive]);
    await assertStoppedCleanly(r, /^Error: loading "[^"]+archived\.tar": no space left on device: writing layer "[0-9a-f]{64}\/layer\.tar"$/);
  });

  it('works again once space is freed', async () => {
    fs.rmSync(filler);
    const built = strata(['build', '--progress', 'plain', '-t', 'layered:1', '--build-arg', 'SIZE=1000', path.join(t.dir, 'layered')]);
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stderr, /\[2\/3\] RUN echo small > \/small\n#\d+ CACHED/, 'the step completed before the disk was full is reused');
    assert.equal(strata(['run', '--rm', 'layered:1', 'wc', '-c', '/big']).stdout.trim(), '1000 /big');
    assert.equal(strata(['run', '--rm', 'layered:1', 'cat', '/small']).stdout, 'small\n');
    const committed = strata(['commit', 'writer', 'committed:1']);
    assert.equal(committed.status, 0, committed.stderr);
    assert.equal(strata(['run', '--rm', 'committed:1', 'sha256sum', '-c', '/data.sum']).status, 0);
    const loaded = strata(['load', '-i', path.join(t.dir, 'archived.tar')]);
    assert.equal(loaded.status, 0, loaded.stderr);
    await assertStoreIntact(root);
  });
});
