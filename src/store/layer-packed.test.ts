// Packed (lazy) layers: a layer kept as its compressed blob is used, saved, checked and
// collected without unpacking; it is unpacked at the gate (layerPath) once, under a lock that a
// second process waits on; a kill -9 during the unpack loses nothing and leaves nothing that the
// next command does not sweep.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { closeHashPool } from '../hash/index.js';
import { withTempStore } from '../testing/temp-store.js';
import { checkStore } from './check.js';
import { sweepStoreLeftovers } from './leftovers.js';
import { withLock } from './lock.js';
import { openStore, type Store } from './store.js';
import { buildTar, type TarSpec } from './tar/build.js';
import type { Digest, ImageConfig } from './types.js';

after(closeHashPool);

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const GZ = 'application/vnd.oci.image.layer.v1.tar+gzip';
const storeIndex = path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.js');

/** A tar of `n` small files (f00000...), a dir and a symlink. */
function manyFiles(n: number): TarSpec[] {
  const out: TarSpec[] = [{ path: 'd/', type: 'dir' }, { path: 'd/link', type: 'symlink', linkpath: 'f00000' }];
  for (let i = 0; i < n; i++) out.push({ path: `d/f${String(i).padStart(5, '0')}`, content: `file ${i}\n` });
  return out;
}

/** Stores `tar` gzip'ed as a packed layer, as a pull does: blob kept, diff_id scanned, record written. */
async function packed(store: Store, tar: Buffer, gz = gzipSync(tar)): Promise<{ diffId: Digest; blob: Digest }> {
  const blob = (await store.blobs.writeBytes(gz)).digest;
  const { diffId, size } = await store.scanLayer([tar], sha(tar));
  assert.equal(size, tar.length);
  await store.keepPackedLayer(diffId, { digest: blob, mediaType: GZ, size });
  return { diffId, blob };
}

/** A child process that opens the store and asks for the layer's path (the gate). */
function gateScript(root: string, diffId: string): string[] {
  return ['--input-type=module', '-e', `
    const { openStore } = await import(${JSON.stringify(storeIndex)});
    const s = await openStore(${JSON.stringify(root)});
    process.stdout.write(await s.layerPath(${JSON.stringify(diffId)}));
    process.exit(0);`];
}

function runGate(root: string, diffId: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, gateScript(root, diffId), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const temps = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-') || /^unpack-.*\.lock$/.test(n));

test('a packed layer is present, sized, saved and checked without being unpacked; the gate unpacks it once', () => withTempStore(async (store) => {
  const tar = buildTar(manyFiles(50));
  const { diffId, blob } = await packed(store, tar);
  const snap = store.layers.snapshotPath(diffId);
  assert.ok(await store.hasLayer(diffId));
  assert.equal(await store.layerSize(diffId), tar.length);
  const chunks: Buffer[] = [];
  for await (const c of store.layerTarStream(diffId)) chunks.push(c);
  assert.ok(Buffer.concat(chunks).equals(tar), 'the tar streamed from the packed blob is the layer');
  assert.equal(await store.layers.verify(diffId), undefined);
  assert.equal(await store.layers.quickCheck(diffId), undefined);
  const img = await store.writeImage({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] } as ImageConfig, [{ diffId, digest: blob, size: gzipSync(tar).length, mediaType: GZ }], { tags: ['localhost/packed:1'] });
  assert.deepEqual((await checkStore(store, { full: true })).findings, []);
  assert.ok(!fs.existsSync(snap), 'nothing above needed the files');
  const p = await store.layerPath(diffId);
  assert.equal(p, snap);
  assert.equal(fs.readFileSync(path.join(p, 'd/f00042'), 'utf8'), 'file 42\n');
  assert.equal(fs.readlinkSync(path.join(p, 'd/link')), 'f00000');
  assert.ok(!fs.existsSync(store.layers.packedPath(diffId)), 'the record has served');
  assert.equal(await store.layers.verify(diffId), undefined, 'the unpacked layer rebuilds to its diff_id');
  assert.equal((await store.resolveImage('localhost/packed:1')).id, img.id);
}));

test('a packed gzip of two members, or with a damaged body, unpacks with every check or not at all', () => withTempStore(async (store) => {
  // The one-member inflate (gunzip-member.ts) hands a second member to the checked way.
  const tar = buildTar([{ path: 'a', content: Buffer.alloc(300_000, 1) }, ...manyFiles(20)]);
  const cut = 200_000;
  const { diffId } = await packed(store, tar, Buffer.concat([gzipSync(tar.subarray(0, cut)), gzipSync(tar.subarray(cut))]));
  const p = await store.layerPath(diffId);
  assert.ok(fs.readFileSync(path.join(p, 'a')).equals(Buffer.alloc(300_000, 1)));
  assert.equal(fs.readFileSync(path.join(p, 'd/f00019'), 'utf8'), 'file 19\n');
  assert.equal(await store.layers.verify(diffId), undefined);
  assert.deepEqual(fs.readdirSync(store.layers.dir).filter((n) => n.startsWith('.tmp-')), [], 'the first try left no temp dir');
  // A stored block's bytes changed (its crc32 is not read): the diff_id refuses the content.
  const tar2 = buildTar([{ path: 'r', content: Buffer.alloc(100_000, 7) }]);
  const gz = gzipSync(tar2, { level: 0 });
  const { diffId: d2, blob } = await packed(store, tar2, gz);
  const file = store.blobs.path(blob);
  const damaged = fs.readFileSync(file);
  damaged[5000] ^= 1;
  fs.chmodSync(file, 0o644);
  fs.writeFileSync(file, damaged);
  await assert.rejects(store.layerPath(d2), /digest mismatch/);
  assert.ok(!fs.existsSync(store.layers.snapshotPath(d2)), 'no snapshot');
  assert.ok(fs.existsSync(store.layers.packedPath(d2)), 'still packed');
}));

test('the scan refuses what extraction would: traversal, a write through a symlink, a dangling hard link, a wrong diff_id, a bomb', () => withTempStore(async (store) => {
  const scan = (entries: TarSpec[], expected?: Digest, limits = false) => {
    const tar = buildTar(entries);
    return (limits ? openStore(store.root, { limits: { maxBytes: 4096 } }) : Promise.resolve(store)).then((s) => s.scanLayer([tar], expected ?? sha(tar)));
  };
  await assert.rejects(scan([{ path: '../../etc/passwd', content: 'x' }]), /refusing archive entry "..\/..\/etc\/passwd"/);
  await assert.rejects(scan([{ path: '/etc/passwd', content: 'x' }]), /absolute path/);
  await assert.rejects(scan([{ path: 'l', type: 'symlink', linkpath: '/etc' }, { path: 'l/passwd', content: 'x' }]), /through a symlink/);
  await assert.rejects(scan([{ path: 'h', type: 'link', linkpath: 'etc/shadow' }]), /hard link/);
  await assert.rejects(scan([{ path: 'a', content: 'x' }], sha(Buffer.from('other'))), /digest mismatch/);
  await assert.rejects(scan([{ path: 'big', content: Buffer.alloc(10_000) }], undefined, true), /too large|more than/);
  // A symlink replaced by a directory is no longer a symlink.
  await scan([{ path: 'l', type: 'symlink', linkpath: '/etc' }, { path: 'l/', type: 'dir' }, { path: 'l/x', content: 'y' }]);
}));

test('gc keeps a live packed layer\'s blob and removes both when the layer goes', () => withTempStore(async (store) => {
  const { diffId, blob } = await packed(store, buildTar(manyFiles(3)));
  await store.collectGarbage({ keepLayers: [diffId], minAgeMs: 0 });
  assert.ok(await store.blobs.has(blob), 'the blob is the live layer\'s only copy');
  assert.ok(await store.hasLayer(diffId));
  await store.collectGarbage({ minAgeMs: 0 });
  assert.ok(!(await store.blobs.has(blob)));
  assert.ok(!(await store.hasLayer(diffId)));
  assert.ok(!fs.existsSync(store.layers.packedPath(diffId)));
}));

test('kill -9 during the unpack: the layer stays packed, the next command sweeps the leftovers and the gate unpacks it', { timeout: 120_000 }, () => withTempStore(async (store, root) => {
  const { diffId } = await packed(store, buildTar(manyFiles(200)));
  for (const point of ['layer.unpacking:100', 'layer.written', 'layer.split-placed']) {
    const killed = await runGate(root, diffId, { STRATA_FAILPOINT: point });
    assert.equal(killed.signal, 'SIGKILL', `${point}: ${killed.stderr}`);
    assert.ok(!fs.existsSync(store.layers.snapshotPath(diffId)), `${point}: no half snapshot under the real name`);
    assert.ok(await store.hasLayer(diffId), `${point}: nothing lost`);
    assert.ok(temps(path.join(root, 'tmp')).some((n) => n.startsWith('unpack-')), `${point}: the dead unpacker's lock is left`);
    const swept = await sweepStoreLeftovers(root);
    assert.ok(swept.some((p) => p.endsWith('.lock')), `${point}: ${swept.join(', ')}`);
    assert.deepEqual([...temps(path.join(root, 'tmp')), ...temps(store.layersDir)], [], `${point}: the sweep leaves nothing`);
  }
  // A dead unpacker's lock (not swept) is broken by the next process that needs the layer.
  const killed = await runGate(root, diffId, { STRATA_FAILPOINT: 'layer.unpacking:10' });
  assert.equal(killed.signal, 'SIGKILL');
  const next = await runGate(root, diffId);
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.stdout, store.layers.snapshotPath(diffId));
  assert.equal(fs.readFileSync(path.join(next.stdout, 'd/f00199'), 'utf8'), 'file 199\n');
  assert.equal(await store.layers.verify(diffId), undefined);
}));

test('two processes needing a packed layer at once: one unpacks, the other waits for it; both see it whole', { timeout: 120_000 }, () => withTempStore(async (store, root) => {
  const { diffId } = await packed(store, buildTar(manyFiles(1000)));
  const lock = path.join(root, 'tmp', `unpack-${diffId.slice(7)}.lock`);
  // While the lock is held (by this process), a process needing the layer waits.
  let waiting!: ReturnType<typeof runGate>;
  await withLock(lock, async () => {
    waiting = runGate(root, diffId);
    const state = await Promise.race([waiting.then(() => 'finished'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
    assert.equal(state, 'waiting', 'the gate waits for the lock');
    assert.ok(!fs.existsSync(store.layers.snapshotPath(diffId)));
    await store.layers.remake(diffId); // unpacked by the lock's holder meanwhile
  });
  const w = await waiting;
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, store.layers.snapshotPath(diffId), 'the waiter finds it done');
  // Both at once, on a fresh copy.
  await store.layers.remove(diffId);
  const again = await packed(store, buildTar(manyFiles(1000)));
  const [a, b] = await Promise.all([runGate(root, again.diffId), runGate(root, again.diffId)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.equal(fs.readdirSync(path.join(a.stdout, 'd')).length, 1001);
  assert.equal(await store.layers.verify(again.diffId), undefined);
  assert.deepEqual([...temps(path.join(root, 'tmp')), ...temps(store.layersDir)], []);
}));
