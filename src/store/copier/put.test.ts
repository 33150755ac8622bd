// put.ts copies files from host sources several at once, and writes a tar's big files from
// libuv's pool: the stream's order must still hold (a later entry for a path wins, a hard link
// waits for its target's copy, a file in the way of a later entry's parents is refused as a
// finished one) and a failure stops the copy cleanly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../testing/cli.js';
import { buildTar, type TarSpec } from '../tar/build.js';
import { readTar } from '../tar/reader.js';
import type { CopyEntry } from './get.js';
import { put } from './put.js';

const BIG = 4 * 1024 * 1024; // a copy that takes a while, so that several run at once

describe('put from host sources', () => {
  let t: ReturnType<typeof tempDir>;
  let src: string;
  let n = 0;

  before(() => {
    t = tempDir('strata-put-');
    src = path.join(t.dir, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 24; i++) fs.writeFileSync(path.join(src, `big${i}`), Buffer.alloc(BIG, 65 + i));
    fs.writeFileSync(path.join(src, 'small'), 'small');
  });
  after(() => t.cleanup());

  const fresh = () => {
    const d = path.join(t.dir, `dest${n++}`);
    fs.mkdirSync(d);
    return d;
  };
  const file = (name: string, source: string, mode = 0o644, mtime = 1_700_000_000): CopyEntry => ({
    path: name, type: 'file', mode, uid: 0, gid: 0, size: fs.statSync(path.join(src, source)).size, mtime, linkpath: '',
    devmajor: 0, devminor: 0, xattrs: new Map(), body: async function* () {}, source: path.join(src, source),
  });
  const dir = (name: string): CopyEntry => ({ ...file('x', 'small'), path: `${name}/`, type: 'dir', mode: 0o755, size: 0, source: undefined });
  const link = (name: string, target: string): CopyEntry => ({ ...file('x', 'small'), path: name, type: 'link', linkpath: target, size: 0, source: undefined });
  const stream = (entries: CopyEntry[], seen?: { count: number }) => (async function* () {
    for (const e of entries) {
      if (seen) seen.count++;
      yield e;
    }
  })();
  const copy = (dest: string, entries: CopyEntry[], seen?: { count: number }) => put(stream(entries, seen), dest, { rules: 'tree', tmpDir: t.dir });

  it('a later entry for the same path replaces the earlier one, content and attributes', async () => {
    const dest = fresh();
    const entries: CopyEntry[] = [];
    for (let i = 0; i < 12; i++) entries.push(file(`f${i}`, `big${i}`, 0o600, 1_600_000_000), file(`f${i}`, i % 2 ? 'small' : `big${i + 12}`, 0o640, 1_700_000_000 + i));
    // A directory with copies running in it is replaced by a file; a file being copied by a directory.
    entries.push(dir('d'), file('d/a', 'big0'), file('d/b', 'big1'), file('d', 'small', 0o604), file('e', 'big2'), dir('e'), file('e/x', 'small'));
    await copy(dest, entries);
    for (let i = 0; i < 12; i++) {
      const p = path.join(dest, `f${i}`);
      const want = fs.readFileSync(path.join(src, i % 2 ? 'small' : `big${i + 12}`));
      assert.ok(fs.readFileSync(p).equals(want), `f${i} has the later entry's content`);
      const st = fs.statSync(p);
      assert.equal(st.mode & 0o7777, 0o640, `f${i}'s mode`);
      assert.equal(st.mtimeMs, (1_700_000_000 + i) * 1000, `f${i}'s mtime`);
    }
    assert.equal(fs.readFileSync(path.join(dest, 'd'), 'utf8'), 'small');
    assert.equal(fs.statSync(path.join(dest, 'd')).mode & 0o7777, 0o604);
    assert.deepEqual(fs.readdirSync(path.join(dest, 'e')), ['x']);
  });

  it('a hard link to a file copied earlier in the stream waits for that copy', async () => {
    const dest = fresh();
    const entries: CopyEntry[] = [];
    for (let i = 0; i < 12; i++) entries.push(file(`f${i}`, `big${i}`, 0o600), link(`l${i}`, `f${i}`));
    await copy(dest, entries);
    for (let i = 0; i < 12; i++) {
      const f = fs.statSync(path.join(dest, `f${i}`));
      const l = fs.statSync(path.join(dest, `l${i}`));
      assert.equal(l.ino, f.ino);
      assert.equal(l.nlink, 2);
      assert.equal(l.size, BIG);
      assert.equal(l.mode & 0o7777, 0o600);
    }
  });

  it('a file still being copied in the way of a later entry is refused as a finished one', async () => {
    const dest = fresh();
    await assert.rejects(copy(dest, [file('p', 'big0'), file('p/q', 'small')]), /refusing archive entry "p\/q": "p" is not a directory/);
    assert.equal(fs.statSync(path.join(dest, 'p')).size, BIG);
  });

  it('a failed copy stops the stream with its error; nothing is written after the copy returns', async () => {
    const dest = fresh();
    const entries: CopyEntry[] = [];
    for (let i = 0; i < 200; i++) entries.push(file(`f${String(i).padStart(3, '0')}`, `big${i % 24}`));
    entries[20] = { ...entries[20], source: path.join(src, 'missing') };
    const seen = { count: 0 };
    await assert.rejects(copy(dest, entries, seen), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && err.message.includes('missing'));
    assert.ok(seen.count < 200, `the stream stopped (${seen.count} of 200 entries read)`);
    const names = fs.readdirSync(dest).sort();
    assert.ok(!names.includes('f020') && !names.includes('f199'), names.join(' '));
    // Every copy started before the failure was seen has ended, complete and with its attributes.
    for (const name of names) {
      const st = fs.statSync(path.join(dest, name));
      assert.equal(st.size, BIG, `${name} is complete`);
      assert.equal(st.mtimeMs, 1_700_000_000_000, `${name} has its mtime`);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(fs.readdirSync(dest).sort(), names, 'nothing appears after the failure was reported');
  });
});

describe('put from a tar: big files written in the background', () => {
  let t: ReturnType<typeof tempDir>;
  let n = 0;
  before(() => (t = tempDir('strata-put-tar-')));
  after(() => t.cleanup());

  const fresh = () => {
    const d = path.join(t.dir, `dest${n++}`);
    fs.mkdirSync(d);
    return d;
  };
  /** 3 MiB + a bit, so a file is several gathered writes and a partial one. */
  const big = (fill: number) => Buffer.alloc(3 * 1024 * 1024 + 4097, fill);
  /** The tar in 64 KiB chunks, as a stream hands it over. */
  const chunked = (tar: Buffer) => Array.from({ length: Math.ceil(tar.length / 65536) }, (_, i) => tar.subarray(i * 65536, (i + 1) * 65536));
  const unpack = (dest: string, entries: TarSpec[], rules: 'layer' | 'cp' = 'layer') => put(readTar(chunked(buildTar(entries))), dest, { rules, tmpDir: t.dir });

  it('a later entry for the same path wins, content and attributes; directories and files replace each other', async () => {
    const dest = fresh();
    const entries: TarSpec[] = [];
    for (let i = 0; i < 6; i++) entries.push({ path: `f${i}`, content: big(i), mode: 0o600, mtime: 1_600_000_000 }, { path: `f${i}`, content: i % 2 ? 'small' : big(i + 6), mode: 0o640, mtime: 1_700_000_000 + i });
    entries.push({ path: 'd/', type: 'dir' }, { path: 'd/a', content: big(1) }, { path: 'd', content: big(2), mode: 0o604 }, { path: 'e', content: big(3) }, { path: 'e/', type: 'dir' }, { path: 'e/x', content: 'x' });
    await unpack(dest, entries);
    for (let i = 0; i < 6; i++) {
      const p = path.join(dest, `f${i}`);
      assert.ok(fs.readFileSync(p).equals(i % 2 ? Buffer.from('small') : big(i + 6)), `f${i} has the later entry's content`);
      const st = fs.statSync(p);
      assert.equal(st.mode & 0o7777, 0o640, `f${i}'s mode`);
      assert.equal(st.mtimeMs, (1_700_000_000 + i) * 1000, `f${i}'s mtime`);
    }
    assert.ok(fs.readFileSync(path.join(dest, 'd')).equals(big(2)));
    assert.equal(fs.statSync(path.join(dest, 'd')).mode & 0o7777, 0o604);
    assert.deepEqual(fs.readdirSync(path.join(dest, 'e')), ['x']);
  });

  it('a hard link to a file still being written waits for it; a file in the way of a later entry is refused', async () => {
    const dest = fresh();
    await unpack(dest, [{ path: 'f', content: big(7), mode: 0o600 }, { path: 'l', type: 'link', linkpath: 'f' }]);
    const f = fs.statSync(path.join(dest, 'f'));
    const l = fs.statSync(path.join(dest, 'l'));
    assert.equal(l.ino, f.ino);
    assert.equal(l.size, big(7).length);
    assert.equal(l.mode & 0o7777, 0o600);
    await assert.rejects(unpack(fresh(), [{ path: 'p', content: big(8) }, { path: 'p/q', content: 'x' }]), /"p" is not a directory/);
  });

  it('a failed write stops the stream with its error; nothing is written after put returns', async (c) => {
    if (process.getuid?.() !== 0) return c.skip('needs root to mount a tmpfs');
    const mnt = fresh();
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status, 0, 'mounting a tmpfs');
    try {
      const entries: TarSpec[] = Array.from({ length: 40 }, (_, i) => ({ path: `f${String(i).padStart(2, '0')}`, content: big(i) }));
      let read = 0;
      const counted = (async function* () {
        for await (const e of readTar(chunked(buildTar(entries)))) {
          read++;
          yield e;
        }
      })();
      await assert.rejects(put(counted, mnt, { rules: 'layer', tmpDir: t.dir }), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
      assert.ok(read < 40, `the stream stopped (${read} of 40 entries read)`);
      const sizes = () => fs.readdirSync(mnt).sort().map((f) => `${f}:${fs.statSync(path.join(mnt, f)).size}`).join(' ');
      const then = sizes();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(sizes(), then, 'nothing is written after the failure was reported');
    } finally {
      spawnSync('umount', ['-l', mnt]);
    }
  });
});
