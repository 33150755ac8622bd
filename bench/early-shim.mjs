// The early shim (src/cli/early-shim.cts) A/B: `run -d -p` with it and with STRATA_NO_EARLY_SHIM=1
// (and, with BASELINE=/path/to/other/checkout, that checkout's build), interleaved, each arm in
// a state root of its own. Two measures per round and arm:
//  - wall: the command alone, from its spawn until it exits (the container runs then);
//  - first 200: as bench/net.mjs measures it, polling the published port every 2 ms meanwhile.
// Reports medians and the paired median difference (with how many rounds the early shim won).
// Usage: npm run build && node bench/early-shim.mjs [N]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const N = Number(process.argv[2] ?? 20);
const HTTPD = ['sh', '-c', 'echo ok > /tmp/index.html; exec httpd -f -p 80 -h /tmp'];
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-early-'));
const ours = path.join(here, '..', 'bin', 'strata');
const arms = {
  early: { bin: ours, env: { STRATA_ROOT: path.join(base, 'early') } },
  late: { bin: ours, env: { STRATA_ROOT: path.join(base, 'late'), STRATA_NO_EARLY_SHIM: '1' } },
  ...(process.env.BASELINE ? { baseline: { bin: path.join(process.env.BASELINE, 'bin', 'strata'), env: { STRATA_ROOT: path.join(base, 'baseline') } } } : {}),
};
for (const arm of Object.values(arms)) arm.env = { ...process.env, ...arm.env };

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const get = (url) => new Promise((resolve) => {
  const req = http.get(url, { agent: false }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', () => resolve(0));
  req.setTimeout(2000, () => req.destroy());
});
const settle = () => new Promise((r) => setTimeout(r, 300));

/** ms until `run -d -p` exits (POLL false) or until its page answers 200 (POLL true). */
async function runDetached(arm, poll) {
  const { bin, env } = arms[arm];
  const port = await freePort();
  const name = `early-${port}`;
  const t0 = performance.now();
  const child = spawn(bin, ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve([code, performance.now() - t0])));
  let ms;
  if (poll) {
    while ((await get(`http://127.0.0.1:${port}/index.html`)) !== 200) {
      if (performance.now() - t0 > 60_000) throw new Error(`${arm}: no 200 within 60 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
    ms = performance.now() - t0;
  }
  const [code, wall] = await exited;
  if (code !== 0) throw new Error(`${arm}: run -d exited ${code}`);
  spawnSync(bin, ['rm', '-f', name], { env, stdio: 'ignore' });
  return ms ?? wall;
}

const names = Object.keys(arms);
const results = { wall: {}, first: {} };
for (const measure of Object.keys(results)) for (const n of names) results[measure][n] = [];
const load0 = os.loadavg()[0];
try {
  for (const n of names) execFileSync(arms[n].bin, ['setup'], { env: arms[n].env, stdio: 'ignore' });
  for (const n of names) await runDetached(n, true); // warm-up: bridges, code caches
  for (let i = 0; i < N; i++) {
    const order = i % 2 ? [...names].reverse() : names;
    for (const measure of ['wall', 'first']) {
      for (const n of order) {
        await settle();
        results[measure][n].push(await runDetached(n, measure === 'first'));
      }
    }
  }
} finally {
  const { teardownRoot } = await import('../dist/runtime/net/teardown.js');
  for (const n of names) teardownRoot(arms[n].env.STRATA_ROOT);
  fs.rmSync(base, { recursive: true, force: true });
}
const load1 = os.loadavg()[0];
console.log(`${N} rounds, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`);
for (const measure of ['wall', 'first']) {
  const line = names.map((n) => `${n} ${median(results[measure][n]).toFixed(0)} ms`).join(', ');
  const diffs = names.slice(1).map((n) => {
    const d = results[measure].early.map((v, i) => v - results[measure][n][i]);
    return `early − ${n}: ${median(d).toFixed(1)} ms (early faster in ${d.filter((x) => x < 0).length}/${d.length})`;
  });
  console.log(`${measure === 'wall' ? 'run -d -p until it exits' : 'first 200 (2 ms polling)'}: ${line}; paired ${diffs.join('; ')}`);
}
