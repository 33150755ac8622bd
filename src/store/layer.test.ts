// Layer round trips (overlay upper dir -> OCI tar -> snapshot) and the reader's view of the tar.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/pool.js';
import { packLayer } from './layer-pack.js';
import { unpackLayer } from './layer-unpack.js';
import { readTar, type TarEntry } from './tar/reader.js';
import { readXattrsTree } from './xattr.js';

after(closeHashPool);

async function collect(dir: string, epoch?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of packLayer(dir, { sourceDateEpoch: epoch })) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function entries(tar: Buffer): Promise<(Omit<TarEntry, 'body'> & { content: string })[]> {
  const out = [];
  for await (const e of readTar([tar])) {
    const parts: Buffer[] = [];
    for await (const c of e.body()) parts.push(c);
    const { body: _b, ...rest } = e;
    out.push({ ...rest, content: Buffer.concat(parts).toString() });
  }
  return out;
}

/** An overlay-style upper dir: files, a hard link, a symlink, a whiteout, an opaque dir, xattrs. */
function makeUpper(dir: string): void {
  fs.mkdirSync(path.join(dir, 'etc/app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'etc/app/conf'), 'x=1\n');
  fs.linkSync(path.join(dir, 'etc/app/conf'), path.join(dir, 'etc/app/conf.hard'));
  fs.symlinkSync('/etc/app/conf', path.join(dir, 'etc/link'));
  fs.writeFileSync(path.join(dir, 'setuid'), '#!/bin/sh\n');
  fs.chownSync(path.join(dir, 'setuid'), 1000, 1000);
  fs.chmodSync(path.join(dir, 'setuid'), 0o4755);
  execFileSync('mknod', [path.join(dir, 'etc/removed'), 'c', '0', '0']);
  fs.mkdirSync(path.join(dir, 'opaque'));
  fs.writeFileSync(path.join(dir, 'opaque/new'), 'n');
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(dir, 'opaque')]);
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'hello', path.join(dir, 'etc/app/conf')]);
  fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(3 * 1024 * 1024 + 5, 7));
}

test('packLayer writes OCI whiteouts, links, owners and xattrs in sorted order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeUpper(dir);
    const tar = await collect(dir, 1_600_000_000);
    const list = await entries(tar);
    const names = list.map((e) => e.path);
    assert.deepEqual(names, ['big', 'etc/', 'etc/app/', 'etc/app/conf', 'etc/app/conf.hard', 'etc/link', 'etc/.wh.removed', 'opaque/', 'opaque/.wh..wh..opq', 'opaque/new', 'setuid']);
    const byName = new Map(list.map((e) => [e.path, e]));
    assert.equal(byName.get('etc/app/conf.hard')!.type, 'link');
    assert.equal(byName.get('etc/app/conf.hard')!.linkpath, 'etc/app/conf');
    assert.equal(byName.get('etc/link')!.linkpath, '/etc/app/conf');
    assert.equal(byName.get('setuid')!.mode, 0o4755);
    assert.equal(byName.get('setuid')!.uid, 1000);
    assert.equal(byName.get('etc/app/conf')!.xattrs.get('user.note')!.toString(), 'hello');
    assert.equal(byName.get('opaque/')!.xattrs.has('trusted.overlay.opaque'), false, 'overlay xattrs are not carried');
    assert.equal(byName.get('big')!.size, 3 * 1024 * 1024 + 5);
    assert.ok(list.every((e) => e.mtime <= 1_600_000_000), 'mtimes clamped to SOURCE_DATE_EPOCH');
    const again = await collect(dir, 1_600_000_000);
    assert.equal(createHash('sha256').update(again).digest('hex'), createHash('sha256').update(tar).digest('hex'), 'deterministic');
  } finally {
    cleanup();
  }
});

test('unpackLayer restores overlay form: 0/0 whiteouts, opaque xattr, hard links, set-id bits', async () => {
  const src = tempDir();
  const dst = tempDir();
  try {
    makeUpper(src.dir);
    const tar = await collect(src.dir);
    const result = await unpackLayer([tar], dst.dir, { tmpDir: dst.dir });
    assert.deepEqual(result.warnings, []);
    const wh = fs.lstatSync(path.join(dst.dir, 'etc/removed'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0/0 char device');
    const x = await readXattrsTree(dst.dir);
    assert.equal(x.get(path.join(dst.dir, 'opaque'))?.get('trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(x.get(path.join(dst.dir, 'etc/app/conf'))?.get('user.note')?.toString(), 'hello');
    const a = fs.statSync(path.join(dst.dir, 'etc/app/conf'));
    const b = fs.statSync(path.join(dst.dir, 'etc/app/conf.hard'));
    assert.equal(a.ino, b.ino);
    const s = fs.statSync(path.join(dst.dir, 'setuid'));
    assert.equal(s.mode & 0o7777, 0o4755);
    assert.equal(s.uid, 1000);
    assert.equal(fs.readlinkSync(path.join(dst.dir, 'etc/link')), '/etc/app/conf');
    assert.equal(fs.statSync(path.join(dst.dir, 'big')).size, 3 * 1024 * 1024 + 5);
    // The round trip is stable: packing the snapshot gives the same tar (mtimes included).
    assert.ok((await collect(dst.dir)).equals(tar));
  } finally {
    src.cleanup();
    dst.cleanup();
  }
});

test('long names, long link targets and large ids survive a round trip (PAX records)', async () => {
  const src = tempDir();
  const dst = tempDir();
  try {
    const deep = path.join(src.dir, 'd'.repeat(60), 'e'.repeat(60));
    fs.mkdirSync(deep, { recursive: true });
    const file = path.join(deep, `${'f'.repeat(120)}.txt`);
    fs.writeFileSync(file, 'long');
    fs.lchownSync(file, 3_000_000, 3_000_001);
    fs.symlinkSync(`/${'t'.repeat(150)}`, path.join(src.dir, 'longlink'));
    const tar = await collect(src.dir);
    await unpackLayer([tar], dst.dir, { tmpDir: dst.dir });
    const rel = path.relative(src.dir, file);
    assert.equal(fs.readFileSync(path.join(dst.dir, rel), 'utf8'), 'long');
    const st = fs.statSync(path.join(dst.dir, rel));
    assert.deepEqual([st.uid, st.gid], [3_000_000, 3_000_001]);
    assert.equal(fs.readlinkSync(path.join(dst.dir, 'longlink')), `/${'t'.repeat(150)}`);
    // GNU tar reads our PAX headers the same way.
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar }).toString();
    assert.match(listing, new RegExp(`3000000/3000001 .*${'f'.repeat(120)}\\.txt`));
    assert.match(listing, new RegExp(`longlink -> /${'t'.repeat(150)}`));
  } finally {
    src.cleanup();
    dst.cleanup();
  }
});

test('a redirected overlay directory is refused, not packed as an empty dir', async () => {
  const { dir, cleanup } = tempDir();
  try {
    fs.mkdirSync(path.join(dir, 'moved'));
    execFileSync('setfattr', ['-n', 'trusted.overlay.redirect', '-v', '/orig', path.join(dir, 'moved')]);
    await assert.rejects(collect(dir), /uses overlayfs redirect_dir or metacopy/);
  } finally {
    cleanup();
  }
});
