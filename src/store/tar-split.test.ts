// Layers kept as snapshot + tar-split: the tar rebuilt byte for byte, whatever the tar holds
// (names given twice, entries a later whiteout removes, entries extraction skips, GNU tar's
// record padding), and damage to either part named.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/pool.js';
import { openStore, type Store } from './store.js';
import { buildTar } from './tar/build.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar/writer.js';

after(closeHashPool);

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function withStore(fn: (store: Store, dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await fn(await openStore(path.join(dir, 'root'), { onWarning: () => undefined }), dir);
  } finally {
    cleanup();
  }
}

async function rebuilt(store: Store, diffId: string): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of store.layerTarStream(diffId)) out.push(c);
  return Buffer.concat(out);
}

/** Imports `tar`, checks the layer's tar rebuilds to the same bytes, returns the snapshot. */
async function roundTrip(store: Store, tar: Buffer, what: string): Promise<string> {
  const l = await store.importLayer([tar]);
  assert.equal(l.diffId, sha(tar), what);
  assert.ok((await rebuilt(store, l.diffId)).equals(tar), `${what}: rebuilt byte for byte`);
  return store.layerPath(l.diffId);
}

/** A raw entry with garbage in its padding, which a tar reader skips but the diff_id covers. */
function dirtyPadding(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  return Buffer.concat([encodeHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1, size: body.length }), body, Buffer.alloc(padding(body.length), 0x61)]);
}

test('tars that name a path twice, remove or replace what they wrote, or carry what extraction skips rebuild exactly', () => withStore(async (store) => {
  const cases: [string, Buffer][] = [
    ['a file given twice', buildTar([{ path: 'f', content: 'first' }, { path: 'g', content: 'other' }, { path: 'f', content: 'second, longer' }])],
    ['a file hard-linked, then replaced', buildTar([{ path: 'a', content: 'shared' }, { path: 'b', type: 'link', linkpath: 'a' }, { path: 'a', content: 'new' }])],
    ['a whiteout of an earlier entry', buildTar([{ path: 'd/', type: 'dir' }, { path: 'd/x', content: 'x content' }, { path: 'd/.wh.x' }])],
    ['a directory replaced by a file', buildTar([{ path: 'd/', type: 'dir' }, { path: 'd/a', content: 'aaa' }, { path: 'd/e/', type: 'dir' }, { path: 'd/e/b', content: 'bbb' }, { path: 'd', content: 'now a file' }])],
    ['an opaque dir and a whiteout with content', buildTar([{ path: 'o/', type: 'dir' }, { path: 'o/.wh..wh..opq' }, { path: '.wh.gone', content: 'odd but legal' }])],
    ['skipped devices, a fifo and an unknown type with content', Buffer.concat([
      buildTar([{ path: 'null', type: 'char', devmajor: 1, devminor: 3 }, { path: 'p', type: 'fifo' }]).subarray(0, -1024),
      (() => {
        const h = encodeHeader({ path: 'weird', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1, size: 5 });
        h[156] = 'Q'.charCodeAt(0); // a type no reader knows
        let sum = 8 * 0x20;
        for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += h[i];
        h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
        return Buffer.concat([h, Buffer.from('12345'), Buffer.alloc(padding(5))]);
      })(),
      END_OF_ARCHIVE,
    ])],
    ['garbage in padding and after the end blocks', Buffer.concat([dirtyPadding('f', 'abc'), END_OF_ARCHIVE, Buffer.alloc(1536), Buffer.from('trailing bytes')])],
    ['an archive without end blocks', buildTar([{ path: 'f', content: 'x' }]).subarray(0, -1024)],
    ['an empty archive', END_OF_ARCHIVE],
    // Big files are written in the background (copier/file-data.ts): a replaced one's content
    // moves into the tar-split only once all of it is written.
    ['big files given twice, hard-linked, replaced by a directory', buildTar([
      { path: 'a', content: Buffer.alloc(12 * 1024 * 1024 + 5, 1) }, { path: 'a', content: Buffer.alloc(300_000, 2) },
      { path: 'b', content: Buffer.alloc(2 * 1024 * 1024 + 5, 3) }, { path: 'l', type: 'link', linkpath: 'b' }, { path: 'b', content: 'small' },
      { path: 'c', content: Buffer.alloc(6 * 1024 * 1024 + 7, 4) }, { path: 'c/', type: 'dir' }, { path: 'c/x', content: 'x' },
    ])],
  ];
  for (const [what, tar] of cases) await roundTrip(store, tar, what);
  const snap = await store.layerPath(sha(cases[0][1]));
  assert.equal(fs.readFileSync(path.join(snap, 'f'), 'utf8'), 'second, longer', 'the snapshot holds the last copy');
}));

test('what GNU tar writes (record padding, long names, xattrs, hard links) rebuilds exactly', () => withStore(async (store, dir) => {
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'd'.repeat(120), 'e'), { recursive: true });
  fs.writeFileSync(path.join(src, 'd'.repeat(120), 'e', `${'f'.repeat(110)}.bin`), Buffer.alloc(70_000, 3));
  fs.writeFileSync(path.join(src, 'plain'), 'hello\n');
  fs.linkSync(path.join(src, 'plain'), path.join(src, 'hard'));
  fs.symlinkSync('plain', path.join(src, 'sym'));
  execFileSync('setfattr', ['-n', 'user.note', '-v', 'kept', path.join(src, 'plain')]);
  for (const format of ['gnu', 'posix']) {
    const file = path.join(dir, `${format}.tar`);
    execFileSync('tar', ['--format', format, '--xattrs', '-cf', file, '-C', src, '.']);
    const tar = fs.readFileSync(file);
    assert.equal(tar.length % 10240, 0, 'GNU tar pads to its record size');
    const snap = await roundTrip(store, tar, format);
    assert.equal(fs.readFileSync(path.join(snap, 'hard'), 'utf8'), 'hello\n');
  }
}));

test('damage to a snapshot or its tar-split is named, and the content check names the file', () => withStore(async (store) => {
  const tar = buildTar([{ path: 'a/', type: 'dir' }, { path: 'a/one', content: 'one'.repeat(100) }, { path: 'two', content: 'two' }]);
  const l = await store.importLayer([tar]);
  const snap = await store.layerPath(l.diffId);
  const split = path.join(store.layersDir, `${l.diffId.slice(7)}.tar-split`);
  assert.equal(await store.layers.quickCheck(l.diffId), undefined);
  assert.equal(await store.layers.verify(l.diffId), undefined);

  fs.writeFileSync(path.join(snap, 'a/one'), 'ONE'.repeat(100)); // same size, other bytes
  assert.equal(await store.layers.quickCheck(l.diffId), undefined, 'sizes alone do not see it');
  assert.match((await store.layers.verify(l.diffId))!, /^its content does not match its digest/);
  assert.equal(await store.layers.verify(l.diffId, { checkCrc: true }), 'file "a/one" of its snapshot does not hold the layer\'s content');
  await assert.rejects(rebuilt(store, l.diffId), new RegExp(`layer "${l.diffId}" is damaged: its content does not match its digest`));

  fs.writeFileSync(path.join(snap, 'a/one'), 'one');
  assert.equal(await store.layers.quickCheck(l.diffId), 'file "a/one" of its snapshot has 3 bytes, the layer says 300');
  fs.rmSync(path.join(snap, 'two'));
  fs.writeFileSync(path.join(snap, 'a/one'), 'one'.repeat(100));
  assert.equal(await store.layers.quickCheck(l.diffId), 'file "two" is missing from its snapshot');
  fs.writeFileSync(path.join(snap, 'two'), 'two');
  assert.equal(await store.layers.verify(l.diffId), undefined, 'mended');

  const whole = fs.readFileSync(split);
  fs.writeFileSync(split, whole.subarray(0, whole.length - 10));
  assert.match((await store.layers.quickCheck(l.diffId))!, /tar-split file is truncated/);
  await assert.rejects(rebuilt(store, l.diffId), /layer "sha256:[0-9a-f]{64}" is damaged: tar-split file is truncated/);
  const garbled = Buffer.from(whole);
  garbled.fill(0x55, 10, 40); // inside the gzip'ed records
  fs.writeFileSync(split, garbled);
  assert.match((await store.layers.verify(l.diffId))!, /tar-split records are damaged|tar-split record is damaged|does not match/);
}));
