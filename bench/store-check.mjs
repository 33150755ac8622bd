// `strata system check --full` against `sha256sum` of the files it reads, on a store of about
// 1 GiB: four layers of random data in files of mixed sizes (1 KiB to 8 MiB), two images. The
// check rebuilds each layer's tar from its snapshot and tar-split and hashes it (and every blob);
// sha256sum hashes the same files (snapshots' regular files, tar-splits, blobs). Both warm
// (page cache filled by a first run). Writes the `store-check` section of bench/RESULTS.md.
// Usage: npm run build && node bench/store-check.mjs [--gib N]
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const strataBin = path.join(here, '..', 'bin', 'strata');
const { openStore } = await import('../dist/store/store.js');
const { closeHashPool } = await import('../dist/hash/index.js');
const args = process.argv.slice(2);
const gib = Number(args[args.indexOf('--gib') + 1] || 1) || 1;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-check-'));
const root = path.join(work, 'root');
const load0 = os.loadavg()[0].toFixed(1);

function timed(cmd, argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.slice(0, 3).join(' ')}: exit ${r.status}\n${(r.stderr ?? '').slice(-2000)}`);
  return { ms, out: r.stdout };
}

/** A tree of random files adding up to `bytes`: sizes cycle through 1 KiB .. 8 MiB. */
function makeTree(dir, bytes, seed) {
  const sizes = [1024, 16 * 1024, 100 * 1024, 1024 * 1024, 8 * 1024 * 1024];
  const buf = Buffer.alloc(8 * 1024 * 1024);
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const size = Math.min(sizes[(i + seed) % sizes.length], bytes - total);
    const sub = path.join(dir, `d${i % 50}`);
    fs.mkdirSync(sub, { recursive: true });
    randomFillSync(buf, 0, size);
    fs.writeFileSync(path.join(sub, `f${i}`), buf.subarray(0, size));
    total += size;
  }
}

try {
  const store = await openStore(root, { onWarning: () => undefined });
  const layers = [];
  for (let i = 0; i < 4; i++) {
    const dir = path.join(root, 'tmp', `tree${i}`);
    makeTree(dir, (gib * 2 ** 30) / 4, i);
    layers.push(await store.createLayerFromDir(dir, { takeOwnership: true }));
  }
  const config = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
  await store.writeImage(config, layers.slice(0, 2), { tags: ['localhost/check-a:1'] });
  await store.writeImage({ ...config, author: 'b' }, layers, { tags: ['localhost/check-b:1'] });
  await closeHashPool();
  const files = timed('find', [path.join(root, 'layers'), path.join(root, 'blobs'), '-type', 'f']).out.trim().split('\n');
  const listFile = path.join(work, 'files');
  fs.writeFileSync(listFile, files.join('\0'));
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const env = { ...process.env, STRATA_ROOT: root };
  const check = () => timed(strataBin, ['system', 'check', '--full'], { env });
  const sum = () => timed('sh', ['-c', `xargs -0 sha256sum < ${listFile} > /dev/null`]);
  const out = check().out; // warm the page cache; shows what was checked
  sum();
  const tCheck = [];
  const tSum = [];
  for (let r = 0; r < 3; r++) {
    tCheck.push(check().ms);
    tSum.push(sum().ms);
  }
  const ratio = median(tCheck) / median(tSum);
  const gb = bytes / 2 ** 30;
  const md = `## store-check: \`strata system check --full\` against \`sha256sum\`

A store of ${gb.toFixed(2)} GiB in ${files.length} files: four layers of random data (files of 1 KiB to 8 MiB), two
images. \`system check --full\` rebuilds each layer's tar from its snapshot and tar-split and hashes it
against the diff_id (with each file's crc32, which names a damaged file), and hashes every blob;
\`sha256sum\` hashes the same files (\`xargs -0 sha256sum\` over the snapshots' regular files, the
tar-splits and the blobs). Warm page cache, medians of 3 interleaved runs.

| command | median | rate |
|---|---:|---:|
| \`strata system check --full\` | ${(median(tCheck) / 1000).toFixed(2)} s | ${(gb * 1024 / median(tCheck) * 1000).toFixed(0)} MiB/s |
| \`sha256sum\` of the same files | ${(median(tSum) / 1000).toFixed(2)} s | ${(gb * 1024 / median(tSum) * 1000).toFixed(0)} MiB/s |

Target: check ≤ 1.5× sha256sum. Result: **${ratio.toFixed(2)}×** — ${ratio <= 1.5 ? 'met' : 'not met'}.
The check's report: \`${out.trim().split('\n').pop()}\`.
Layers are checked up to four at a time: this thread reads the files (tar rebuilt in 1 MiB
chunks), the hash pool's threads hash (node's sha256 uses the CPU's SHA extensions; coreutils'
sha256sum here does not).

Machine: ${machine()}; load average ${load0} → ${os.loadavg()[0].toFixed(1)} during the run.
Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/store-check.mjs\`.`;
  writeSection('store-check', md);
  console.log(md);
} finally {
  await closeHashPool();
  fs.rmSync(work, { recursive: true, force: true });
}
