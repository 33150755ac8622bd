// createLayerFromDir with takeOwnership: the packed dir itself becomes the snapshot, and must
// look exactly like what extracting the layer's blob gives.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/pool.js';
import { digestHex } from './digest.js';
import { unpackLayer } from './layer-unpack.js';
import { openStore, type Store } from './store.js';
import { readXattrsTree } from './xattr.js';

after(closeHashPool);

const EPOCH = 1_600_000_000;

/** An upper dir as a RUN leaves it: new and changed files, links, whiteouts, overlay xattrs. */
function makeUpper(dir: string): void {
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.mkdirSync(path.join(dir, 'etc/app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'etc/app/conf'), 'x=1\n');
  fs.linkSync(path.join(dir, 'etc/app/conf'), path.join(dir, 'etc/app/conf.hard'));
  fs.symlinkSync('/etc/app/conf', path.join(dir, 'etc/link'));
  fs.writeFileSync(path.join(dir, 'setuid'), '#!/bin/sh\n');
  fs.chownSync(path.join(dir, 'setuid'), 1000, 1000);
  fs.chmodSync(path.join(dir, 'setuid'), 0o4755);
  fs.writeFileSync(path.join(dir, 'old'), 'from before the epoch');
  fs.utimesSync(path.join(dir, 'old'), EPOCH - 100, EPOCH - 100);
  execFileSync('mknod', [path.join(dir, 'etc/removed'), 'c', '0', '0']);
  fs.mkdirSync(path.join(dir, 'opaque'));
  fs.writeFileSync(path.join(dir, 'opaque/new'), 'n');
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(dir, 'opaque')]);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', path.join(dir, 'etc/app/conf')]);
  // What overlayfs leaves on copied-up entries, and on the upper root: never in an extracted snapshot.
  execFileSync('setfattr', ['-n', 'trusted.overlay.origin', '-v', '0x00fb', path.join(dir, 'setuid')]);
  execFileSync('setfattr', ['-n', 'trusted.overlay.impure', '-v', 'y', path.join(dir, 'etc')]);
  execFileSync('setfattr', ['-n', 'trusted.overlay.impure', '-v', 'y', dir]);
}

/** Everything a snapshot is read for, per entry (whiteouts: only that they are 0/0 devices). */
async function describe(root: string): Promise<string[]> {
  const xattrs = await readXattrsTree(root);
  const out: string[] = [];
  const one = (abs: string, rel: string) => {
    const st = fs.lstatSync(abs);
    const x = [...(xattrs.get(abs) ?? [])].map(([k, v]) => `${k}=${v.toString('hex')}`).sort().join(',');
    const own = `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ${Math.floor(st.mtimeMs / 1000)} [${x}]`;
    if (st.isCharacterDevice()) out.push(`${rel} whiteout=${st.rdev === 0} [${x}]`);
    else if (st.isSymbolicLink()) out.push(`${rel} -> ${fs.readlinkSync(abs)} ${own}`);
    else if (st.isFile()) out.push(`${rel} file ${st.nlink} ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')} ${own}`);
    else if (st.isDirectory()) {
      // The root's mtime is not in the tar: whenever it was made.
      out.push(`${rel}/ ${rel ? own : own.replace(/ \d+ \[/, ' [')}`);
      for (const name of fs.readdirSync(abs).sort()) one(path.join(abs, name), rel ? `${rel}/${name}` : name);
    } else out.push(`${rel} other`);
  };
  one(root, '');
  return out;
}

async function withStore(fn: (store: Store, root: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await fn(await openStore(dir, { onWarning: () => undefined }), dir);
  } finally {
    cleanup();
  }
}

async function extracted(store: Store, root: string, diffId: string): Promise<string> {
  const dest = path.join(root, 'extracted');
  fs.mkdirSync(dest, { mode: 0o755 });
  // The layer's tar, rebuilt from the snapshot and its tar-split (checked against the diff_id).
  await unpackLayer(store.layerTarStream(diffId), dest, { tmpDir: store.tmpDir });
  return dest;
}

test('a taken-over dir becomes the snapshot, equal to what extracting its blob gives', async () => {
  await withStore(async (store, root) => {
    for (const epoch of [undefined, EPOCH]) {
      const upper = path.join(root, `upper-${epoch}`);
      makeUpper(upper);
      const ino = fs.statSync(path.join(upper, 'etc/app/conf')).ino;
      const layer = await store.createLayerFromDir(upper, { takeOwnership: true, sourceDateEpoch: epoch });
      assert.equal(fs.existsSync(upper), false, 'the source dir is gone');
      const snap = path.join(store.layersDir, digestHex(layer.diffId));
      assert.equal(fs.statSync(path.join(snap, 'etc/app/conf')).ino, ino, 'moved, not copied');
      const want = await describe(await extracted(store, root, layer.diffId));
      const got = await describe(snap);
      assert.deepEqual(got, want);
      assert.ok(got.includes('etc/removed whiteout=true []'));
      assert.ok(got.some((l) => l.startsWith('opaque/ ') && l.includes('trusted.overlay.opaque=79')));
      assert.ok(!got.some((l) => l.includes('impure') || l.includes('origin')));
      assert.ok(got[0].startsWith('/ 0:0 755 '), got[0]);
      if (epoch) assert.ok(got.some((l) => l.startsWith('etc/app/conf file 2 ') && l.includes(` ${EPOCH} `)), 'mtimes clamped in the snapshot');
      assert.ok(got.some((l) => l.startsWith('old file 1 ') && l.includes(` ${EPOCH - 100} `)));
      fs.rmSync(path.join(root, 'extracted'), { recursive: true });
    }
  });
});

test('a taken-over dir whose snapshot exists already is discarded; the snapshot stays', async () => {
  await withStore(async (store, root) => {
    const first = path.join(root, 'a');
    makeUpper(first);
    const copy = path.join(root, 'b');
    execFileSync('cp', ['-a', first, copy]);
    const one = await store.createLayerFromDir(first, { takeOwnership: true, sourceDateEpoch: EPOCH });
    const snap = path.join(store.layersDir, digestHex(one.diffId));
    const ino = fs.statSync(path.join(snap, 'setuid')).ino;
    const two = await store.createLayerFromDir(copy, { takeOwnership: true, sourceDateEpoch: EPOCH });
    assert.equal(two.diffId, one.diffId);
    assert.equal(fs.existsSync(copy), false);
    assert.equal(fs.statSync(path.join(snap, 'setuid')).ino, ino);
    assert.deepEqual(fs.readdirSync(store.layersDir).filter((n) => n.startsWith('.')), [], 'no temp left');
  });
});

test('a dir extraction would read differently is extracted instead, and still removed', async () => {
  await withStore(async (store, root) => {
    const cases: [string, (upper: string) => void][] = [
      ['fifo', (upper) => execFileSync('mkfifo', [path.join(upper, 'pipe')])], // extraction skips fifos
      ['link outside', (upper) => {
        // A name outside the layer (another snapshot, say): clamping in place would change it.
        fs.linkSync(path.join(upper, 'old'), path.join(root, 'outside'));
        fs.utimesSync(path.join(root, 'outside'), EPOCH + 5, EPOCH + 5);
      }],
    ];
    for (const [what, change] of cases) {
      const upper = path.join(root, 'u');
      makeUpper(upper);
      change(upper);
      const layer = await store.createLayerFromDir(upper, { takeOwnership: true, sourceDateEpoch: EPOCH });
      assert.equal(fs.existsSync(upper), false, what);
      const snap = path.join(store.layersDir, digestHex(layer.diffId));
      assert.deepEqual(await describe(snap), await describe(await extracted(store, root, layer.diffId)), what);
      fs.rmSync(path.join(root, 'extracted'), { recursive: true });
    }
    assert.equal(Math.floor(fs.statSync(path.join(root, 'outside')).mtimeMs / 1000), EPOCH + 5, 'a file shared with another dir is not touched');
    assert.equal(fs.readdirSync(store.layersDir).filter((n) => /^[a-f0-9]{64}$/.test(n)).length, 2);
  });
});

test('without takeOwnership the dir is left as it was', async () => {
  await withStore(async (store, root) => {
    const upper = path.join(root, 'u');
    makeUpper(upper);
    const before = await describe(upper);
    await store.createLayerFromDir(upper, { sourceDateEpoch: EPOCH });
    assert.deepEqual(await describe(upper), before);
  });
});
