// Hostile layers: each must be refused (or the entry skipped) with nothing written outside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../testing/cli.js';
import { unpackLayer } from './layer-unpack.js';
import { buildTar, type TarSpec } from './tar/build.js';
import { decompressed } from './store.js';

/** A sandbox: `root` is the extraction target; `outside` sits beside it and must stay empty. */
function sandbox() {
  const t = tempDir();
  const root = path.join(t.dir, 'root');
  const outside = path.join(t.dir, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  const untouched = () => assert.deepEqual(fs.readdirSync(outside), [], 'nothing written outside');
  return { ...t, root, outside, untouched };
}

async function refused(entries: TarSpec[], pattern: RegExp) {
  const s = sandbox();
  try {
    await assert.rejects(unpackLayer([buildTar(entries)], s.root, { tmpDir: s.dir }), pattern);
    s.untouched();
  } finally {
    s.cleanup();
  }
}

test('refuses names with ..', () => refused([{ path: '../outside/x', content: 'x' }], /escapes the root/));

test('refuses names hidden behind a deeper ..', () => refused([{ path: 'a/b/../../../outside/x', content: 'x' }], /escapes the root/));

test('refuses absolute names', () => refused([{ path: '/tmp/strata-abs', content: 'x' }], /absolute path/));

test('refuses writing through a symlink planted earlier in the same archive', async () => {
  const s = sandbox();
  try {
    const tar = buildTar([
      { path: 'evil', type: 'symlink', linkpath: s.outside },
      { path: 'evil/x', content: 'pwned' },
    ]);
    await assert.rejects(unpackLayer([tar], s.root, { tmpDir: s.dir }), /"evil" is a symlink/);
    s.untouched();
  } finally {
    s.cleanup();
  }
});

test('refuses a relative symlink dir pointing up, then a write through it', () =>
  refused([
    { path: 'up', type: 'symlink', linkpath: '../outside' },
    { path: 'up/x', content: 'pwned' },
  ], /is a symlink/));

test('a symlink pointing out is kept as data and never followed when replaced', async () => {
  const s = sandbox();
  try {
    fs.writeFileSync(path.join(s.outside, 'keep'), 'original');
    const tar = buildTar([
      { path: 'f', type: 'symlink', linkpath: path.join(s.outside, 'keep') },
      { path: 'f', content: 'replaced' }, // a later entry of the same name replaces the link, not its target
    ]);
    await unpackLayer([tar], s.root, { tmpDir: s.dir });
    assert.equal(fs.readFileSync(path.join(s.outside, 'keep'), 'utf8'), 'original');
    assert.equal(fs.readFileSync(path.join(s.root, 'f'), 'utf8'), 'replaced');
    assert.ok(fs.lstatSync(path.join(s.root, 'f')).isFile());
  } finally {
    s.cleanup();
  }
});

test('refuses hard links pointing out with ..', () =>
  refused([{ path: 'h', type: 'link', linkpath: '../outside/secret' }], /escapes the root/));

test('hard links with absolute names resolve inside the root, never to the host', async () => {
  await refused([{ path: 'h', type: 'link', linkpath: '/etc/passwd' }], /does not exist in the archive/);
});

test('refuses hard links through a symlink', () =>
  refused([
    { path: 'd', type: 'symlink', linkpath: '/etc' },
    { path: 'h', type: 'link', linkpath: 'd/passwd' },
  ], /"d" is a symlink/));

test('skips device nodes and fifos with a warning', async () => {
  const s = sandbox();
  try {
    const tar = buildTar([
      { path: 'dev/', type: 'dir' },
      { path: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 },
      { path: 'dev/mem', type: 'char', devmajor: 1, devminor: 1 },
      { path: 'fifo', type: 'fifo' },
      { path: 'ok', content: 'fine' },
    ]);
    const r = await unpackLayer([tar], s.root, { tmpDir: s.dir });
    assert.equal(r.warnings.length, 3);
    assert.deepEqual(fs.readdirSync(path.join(s.root, 'dev')), []);
    assert.equal(fs.readFileSync(path.join(s.root, 'ok'), 'utf8'), 'fine');
  } finally {
    s.cleanup();
  }
});

test("a directory's entry after its children's keeps them and gets its own attributes", async () => {
  const s = sandbox();
  try {
    // The parents "a" and "a/b" are made for the file first; their entries come later.
    const tar = buildTar([{ path: 'a/b/f', content: 'x' }, { path: 'a/b/', type: 'dir', mode: 0o750 }, { path: 'a/', type: 'dir', mode: 0o711 }]);
    await unpackLayer([tar], s.root, { tmpDir: s.dir });
    assert.equal(fs.readFileSync(path.join(s.root, 'a/b/f'), 'utf8'), 'x');
    assert.equal(fs.statSync(path.join(s.root, 'a/b')).mode & 0o7777, 0o750);
    assert.equal(fs.statSync(path.join(s.root, 'a')).mode & 0o7777, 0o711);
  } finally {
    s.cleanup();
  }
});

test('ignores trusted.* xattrs from an archive', async () => {
  const s = sandbox();
  try {
    const tar = buildTar([{ path: 'd/', type: 'dir', xattrs: new Map([['trusted.overlay.opaque', Buffer.from('y')]]) }]);
    const r = await unpackLayer([tar], s.root, { tmpDir: s.dir });
    assert.match(r.warnings.join('\n'), /trusted\.overlay\.opaque/);
  } finally {
    s.cleanup();
  }
});

test('refuses an archive bigger than maxBytes', () => {
  const big = Buffer.alloc(64 * 1024);
  return (async () => {
    const s = sandbox();
    try {
      await assert.rejects(
        unpackLayer([buildTar([{ path: 'a', content: big }, { path: 'b', content: big }])], s.root, { tmpDir: s.dir, limits: { maxBytes: 100_000 } }),
        /archive too large/,
      );
    } finally {
      s.cleanup();
    }
  })();
});

test('refuses an archive with too many entries', async () => {
  const s = sandbox();
  try {
    const many = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, content: '' }));
    await assert.rejects(unpackLayer([buildTar(many)], s.root, { tmpDir: s.dir, limits: { maxEntries: 10 } }), /too many entries/);
  } finally {
    s.cleanup();
  }
});

test('a gzip bomb is stopped at the uncompressed limit', async () => {
  const bomb = gzipSync(buildTar([{ path: 'zeros', content: Buffer.alloc(8 * 1024 * 1024) }]));
  assert.ok(bomb.length < 64 * 1024, 'the compressed bomb is small');
  let seen = 0;
  await assert.rejects((async () => {
    for await (const c of decompressed([bomb], 1024 * 1024)) seen += c.length;
  })(), /archive too large/);
  assert.ok(seen <= 1024 * 1024);
});

test('refuses a truncated archive and a corrupt header', async () => {
  const good = buildTar([{ path: 'a', content: 'x'.repeat(1000) }]);
  const s = sandbox();
  try {
    await unpackLayer([buildTar([])], s.root, { tmpDir: s.dir });
    await assert.rejects(unpackLayer([good.subarray(0, 700)], s.root, { tmpDir: s.dir }), /truncated/);
    const corrupt = Buffer.from(good);
    corrupt[10] ^= 0xff;
    await assert.rejects(unpackLayer([corrupt], s.root, { tmpDir: s.dir }), /checksum/);
  } finally {
    s.cleanup();
  }
});
