// The store and the hash pool: content hashing in piscina workers against one thread,
// the warm lookup `run` pays (openStore + resolveImage + layerPath), layer pack/unpack
// throughput, and `strata load` against `podman load` of the same docker-archive.
// Usage: npm run build && node bench/store.mjs
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'cli', 'main.js');
const { openStore } = await import('../dist/store/store.js');
const { ensureBusybox } = await import('../dist/store/busybox.js');
const { hashFiles, closeHashPool } = await import('../dist/hash/pool.js');

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const load0 = os.loadavg()[0].toFixed(1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-store-'));
const lines = [];
try {
  // 1. hashing: 4000 files of 8 KiB and 16 files of 8 MiB (160 MiB in all)
  const files = [];
  const ctx = path.join(dir, 'ctx');
  fs.mkdirSync(ctx);
  for (let i = 0; i < 4000; i++) { const p = path.join(ctx, `s${i}`); fs.writeFileSync(p, Buffer.alloc(8192, i)); files.push(p); }
  for (let i = 0; i < 16; i++) { const p = path.join(ctx, `b${i}`); fs.writeFileSync(p, Buffer.alloc(8 << 20, i)); files.push(p); }
  const mib = (4000 * 8192 + 16 * (8 << 20)) / 2 ** 20;
  const single = async () => { for (const f of files) createHash('sha256').update(fs.readFileSync(f)).digest('hex'); };
  await hashFiles(files.slice(0, 10)); // start the pool outside the measurement
  const tPool = [], tOne = [];
  for (let r = 0; r < 3; r++) {
    let t0 = process.hrtime.bigint(); await hashFiles(files); tPool.push(ms(t0));
    t0 = process.hrtime.bigint(); await single(); tOne.push(ms(t0));
  }
  lines.push(`| hash 4016 files (${mib.toFixed(0)} MiB), piscina pool | ${median(tPool).toFixed(0)} ms | ${(mib / median(tPool) * 1000).toFixed(0)} MiB/s |`);
  lines.push(`| same, one thread (readFileSync + sha256) | ${median(tOne).toFixed(0)} ms | ${(mib / median(tOne) * 1000).toFixed(0)} MiB/s |`);

  // 2. the warm lookup of `run`
  const root = path.join(dir, 'root');
  const store = await openStore(root);
  const img = await ensureBusybox(store);
  const lookups = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    const s = await openStore(root);
    const im = await s.resolveImage('busybox');
    await s.layerPath(im.config.rootfs.diff_ids[0]);
    lookups.push(ms(t0));
  }
  lines.push(`| openStore + resolveImage("busybox") + layerPath, warm, in process | ${median(lookups).toFixed(2)} ms | median of 200 |`);

  // 3. layer pack (upper dir -> tar blob + snapshot) and unpack of the same 64 MiB
  const upper = path.join(dir, 'upper');
  fs.mkdirSync(upper);
  for (let i = 0; i < 64; i++) { fs.mkdirSync(path.join(upper, `d${i}`)); for (let j = 0; j < 16; j++) fs.writeFileSync(path.join(upper, `d${i}`, `f${j}`), Buffer.alloc(65536, i + j)); }
  let t0 = process.hrtime.bigint();
  const layer = await store.createLayerFromDir(upper);
  const tCreate = ms(t0);
  fs.rmSync(await store.layerPath(layer.diffId), { recursive: true });
  t0 = process.hrtime.bigint();
  await store.layerPath(layer.diffId);
  const tUnpack = ms(t0);
  lines.push(`| createLayerFromDir, 64 MiB in 1024 files (tar + hash + snapshot) | ${tCreate.toFixed(0)} ms | ${(64 / tCreate * 1000).toFixed(0)} MiB/s |`);
  lines.push(`| snapshot re-made from the blob (safe extraction) | ${tUnpack.toFixed(0)} ms | ${(64 / tUnpack * 1000).toFixed(0)} MiB/s |`);

  // 4. load of one docker-archive: strata vs podman
  const name = `localhost/strata-bench-store:${process.pid}`;
  await store.writeImage({ ...img.config, rootfs: { type: 'layers', diff_ids: [] } }, [
    { diffId: img.manifest.layers[0].digest, digest: img.manifest.layers[0].digest, size: img.manifest.layers[0].size, mediaType: img.manifest.layers[0].mediaType }, layer,
  ], { tags: [name] });
  const archive = path.join(dir, 'image.tar');
  const save = spawnSync(process.execPath, [cli, 'save', '-o', archive, name], { env: { ...process.env, STRATA_ROOT: root } });
  if (save.status !== 0) throw new Error(save.stderr.toString());
  const sizeMiB = fs.statSync(archive).size / 2 ** 20;
  const tStrata = [], tPodman = [];
  const havePodman = spawnSync('podman', ['--version']).status === 0;
  for (let r = 0; r < 3; r++) {
    const fresh = path.join(dir, `load${r}`);
    t0 = process.hrtime.bigint();
    const l = spawnSync(process.execPath, [cli, 'load', '-i', archive], { env: { ...process.env, STRATA_ROOT: fresh } });
    if (l.status !== 0) throw new Error(l.stderr.toString());
    tStrata.push(ms(t0));
    fs.rmSync(fresh, { recursive: true, force: true });
    if (havePodman) {
      t0 = process.hrtime.bigint();
      const p = spawnSync('podman', ['load', '-q', '-i', archive]);
      tPodman.push(ms(t0));
      spawnSync('podman', ['rmi', '-f', name]);
      if (p.status !== 0) throw new Error(p.stderr.toString());
    }
  }
  lines.push(`| \`strata load\` of a ${sizeMiB.toFixed(0)} MiB docker-archive (2 layers), fresh root | ${median(tStrata).toFixed(0)} ms | |`);
  if (havePodman) lines.push(`| \`podman load\` of the same archive | ${median(tPodman).toFixed(0)} ms | ratio strata/podman ${(median(tStrata) / median(tPodman)).toFixed(2)} |`);
} finally {
  await closeHashPool();
  fs.rmSync(dir, { recursive: true, force: true });
}

const md = `## store: hashing, lookups, layers, load

| what | time | rate / note |
| --- | ---: | --- |
${lines.join('\n')}

Medians of 3 rounds unless said. The pool has min(cores, 8) threads; hashing reads files in
1 MiB chunks inside the workers. \`load\` imports each layer (verified against its diff_id,
stored uncompressed) and unpacks its snapshot; podman stores into its own overlay storage.

Machine: ${machine()}; load average ${load0} → ${os.loadavg()[0].toFixed(1)} during the run.
Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/store.mjs\`.`;
writeSection('store', md);
console.log(md);
