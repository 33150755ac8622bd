// The fault tests at real sizes: a build with a 20,000-file context and a 256 MiB layer killed
// while it hashes the context and while it writes the big layer, and a commit of a container
// that wrote 200 MB killed while it packs. Nothing complete is lost, nothing referenced is
// half-written, what the kills left is swept, and the next build and commit reuse what was done.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, containerWrote, eventually, runUntilKilled } from '../testing/faults.js';

const FILES = 20_000;
const BIG = 256 * 1024 * 1024;

describe('kill -9 at real sizes', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  /** The commit's state root: a store of its own, so that its checks do not verify the build's 256 MiB layer again. */
  let commitRoot: string;
  let ctx: string;
  const strata = (args: string[], r = root) => runStrata(args, { root: r, timeoutMs: 300_000 });
  const build = ['build', '--progress', 'plain', '-t', 'large:1'];

  before(async () => {
    t = tempDir('strata-faults-large-');
    root = path.join(t.dir, 'root');
    commitRoot = path.join(t.dir, 'commit-root');
    ctx = path.join(t.dir, 'ctx');
    for (let d = 0; d < FILES / 100; d++) {
      const dir = path.join(ctx, 'src', `d${String(d).padStart(3, '0')}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), `file ${d}/${f}\n`);
    }
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nCOPY src/ /src/\nRUN head -c ${BIG} /dev/urandom > /big && sha256sum /big > /big.sum\n`);
    await ensureBusybox(await openStore(root));
  });
  after(() => {
    strata(['rm', '-f', 'writer'], commitRoot);
    t.cleanup();
  });

  it('a build killed while hashing the context, then mid-layer, then rebuilt', async () => {
    // 20,000 files are hashed in batches of 512: the 10th batch is mid-way.
    await runUntilKilled([...build, ctx], { root, point: 'context.hashed:10', group: true });
    await assertStoreIntact(root);
    // The COPY's layer (some 20 MiB) comes first; the 150th MiB written is deep in the RUN's.
    await runUntilKilled([...build, ctx], { root, point: 'layer.chunk:150' });
    await assertStoreIntact(root);
    const listed = strata(['images']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /large/, 'no image of a build that never finished');
    await assertNoLeftovers(root);

    const rebuilt = strata([...build, ctx]);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
    assert.match(rebuilt.stderr, /\[2\/3\] COPY src\/ \/src\/\n#\d+ CACHED/, 'the context copy completed before the kill is reused');
    // The containers here need no network (none: no bridge, rules or veth to make).
    const ran = strata(['run', '--rm', '--network', 'none', 'large:1', 'sh', '-c', 'sha256sum -c /big.sum >/dev/null && cat /src/d199/f99.txt && ls /src | wc -l']);
    // The rebuilt layers are whole (the RUN's checked by sha256sum above); verified in full only
    // after the kills, where it matters, to keep the suite's time.
    assert.equal(ran.stdout, 'file 199/99\n200\n', ran.stderr);
  });

  it('a commit of a container that wrote 200 MB, killed mid-pack, then committed again', async () => {
    const root = commitRoot;
    const strata = (args: string[]) => runStrata(args, { root, timeoutMs: 300_000 });
    await ensureBusybox(await openStore(root));
    const started = strata(['run', '-d', '--network', 'none', '--name', 'writer', 'busybox', 'sh', '-c',
      'head -c 200000000 /dev/urandom > /data && sha256sum /data > /sum && mv /sum /data.sum && exec sleep 86393']);
    assert.equal(started.status, 0, started.stderr);
    assert.ok(await eventually(() => containerWrote(root, started.stdout.trim(), '/data.sum'), 120_000), 'the container wrote its data');
    await runUntilKilled(['commit', 'writer', 'written:1'], { root, point: 'layer.chunk:100', group: true });
    await assertStoreIntact(root);
    const ps = strata(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps.stdout, /^writer Up(?![^\n]*Paused)/m, ps.stderr);
    await assertNoLeftovers(root);
    const committed = strata(['commit', 'writer', 'written:1']);
    assert.equal(committed.status, 0, committed.stderr);
    const check = strata(['run', '--rm', '--network', 'none', 'written:1', 'sha256sum', '-c', '/data.sum']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });
});
