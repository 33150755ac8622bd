// A layer's repair (`system check --repair`, layers.ts remake) never leaves it with less than it
// had: the copy in place stays until a new one is complete. A repair whose source blob is damaged
// too, or that is killed midway (and a later command sweeps its temps), keeps the snapshot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { runStrata } from '../testing/cli.js';
import { runUntilKilled } from '../testing/faults.js';
import { closeHashPool } from '../hash/index.js';
import { withTempStore } from '../testing/temp-store.js';
import { checkStore } from './check.js';
import type { Store } from './store.js';
import { buildTar } from './tar/build.js';
import type { ImageConfig } from './types.js';

after(closeHashPool);

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const config = (): ImageConfig => ({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] });

const FILES = [{ path: 'etc/', type: 'dir' as const }, { path: 'etc/precious', content: 'the only copy\n' }, { path: 'f', content: 'legacy' }];

/**
 * A layer of the previous layout: its tar blob (damaged in place, same size, which a fast check
 * does not see) beside an intact snapshot that holds the files. Returns the snapshot's path.
 */
async function legacyWithDamagedBlob(store: Store): Promise<string> {
  const tar = buildTar(FILES);
  await store.blobs.writeBytes(tar);
  const snap = path.join(store.layersDir, sha(tar).slice(7));
  fs.mkdirSync(path.join(snap, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(snap, 'etc', 'precious'), 'the only copy\n');
  fs.writeFileSync(path.join(snap, 'f'), 'legacy');
  await store.writeImage(config(), [{ diffId: sha(tar), digest: sha(tar), size: tar.length, mediaType: 'application/vnd.oci.image.layer.v1.tar' }], { tags: ['localhost/old:1'] });
  const blob = store.blobs.path(sha(tar));
  const bytes = fs.readFileSync(blob);
  const at = bytes.indexOf('the only copy');
  bytes[at] ^= 0x20; // "The only copy": the tar still reads, its hash is another
  fs.writeFileSync(blob, bytes);
  return snap;
}

const kept = (snap: string) => [fs.readFileSync(path.join(snap, 'etc', 'precious'), 'utf8'), fs.readFileSync(path.join(snap, 'f'), 'utf8')];

test('a layer conversion whose tar blob is damaged keeps the snapshot it found', () => withTempStore(async (store) => {
  const snap = await legacyWithDamagedBlob(store);
  const r = await checkStore(store, { repair: true });
  const f = r.findings.find((x) => x.subject.startsWith('layer '));
  assert.match(f?.problem ?? '', /converting it failed: .*digest mismatch/);
  assert.deepEqual(kept(snap), ['the only copy\n', 'legacy'], 'the intact snapshot is where it was');
  assert.deepEqual(fs.readdirSync(store.layersDir).filter((n) => n.startsWith('.')), [], 'no temp left');
}));

test('a re-make from a damaged blob keeps the damaged snapshot (its other files) in place', () => withTempStore(async (store) => {
  const tar = buildTar(FILES);
  const gz = gzipSync(tar);
  const layer = await store.importCompressedLayer([gz], { digest: sha(gz), diffId: sha(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
  await store.writeImage(config(), [layer], { tags: ['localhost/pulled:1'] });
  const snap = await store.layerPath(layer.diffId);
  fs.writeFileSync(path.join(snap, 'f'), 'LEGACY'); // damaged, same size
  const blob = fs.readFileSync(store.blobs.path(sha(gz)));
  blob[Math.floor(blob.length / 2)] ^= 0xff; // the blob damaged too
  fs.writeFileSync(store.blobs.path(sha(gz)), blob);
  const r = await checkStore(store, { full: true, repair: true });
  const f = r.findings.find((x) => x.subject.includes(`layer "${layer.diffId}"`));
  assert.match(f?.problem ?? '', /re-making it failed/);
  assert.equal(f?.repaired, undefined);
  assert.deepEqual(kept(snap), ['the only copy\n', 'LEGACY'], 'the snapshot stays, damaged as it was');
  assert.ok(fs.existsSync(path.join(store.layersDir, `${layer.diffId.slice(7)}.tar-split`)), 'its tar-split stays');
}));

test('a layer conversion killed midway loses nothing: the next sweep leaves the snapshot whole', { timeout: 60_000 }, () => withTempStore(async (store, root) => {
  const snap = await legacyWithDamagedBlob(store);
  await runUntilKilled(['system', 'check', '--repair'], { root, point: 'layer.unpacking' });
  // Any command that opens the store sweeps what the killed one left in layers/.
  const next = runStrata(['images'], { root });
  assert.equal(next.status, 0, next.stderr);
  assert.deepEqual(kept(snap), ['the only copy\n', 'legacy'], 'the intact snapshot survived the kill and the sweep');
  assert.deepEqual(fs.readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.')), [], 'the killed conversion\'s temps are swept');
}));
