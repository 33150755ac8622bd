// The first HTTP 200 from `run -d -p` (busybox httpd), two builds of strata side by side: a change
// to the start path measured against the build before it, interleaved (ABBA), each build with a
// state root of its own, by net.mjs's method (a GET every 2 ms from the command's launch). Prints
// the medians, the median of the paired differences and how often B was faster; writes nothing
// to RESULTS.md (quote it in a section's notes).
//
// Usage: node bench/first-ok-ab.mjs N A_CHECKOUT B_CHECKOUT   (each built with `npm run build`;
// e.g. a worktree of the commit before, then this one)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, HTTPD, untilHttpOk } from './lib/http.mjs';
import { median } from './lib/results.mjs';

const [nText, ...checkouts] = process.argv.slice(2);
const N = Number(nText);
if (!(N > 0) || checkouts.length !== 2) {
  process.stderr.write('usage: node bench/first-ok-ab.mjs N A_CHECKOUT B_CHECKOUT\n');
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sab-'));
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const builds = checkouts.map((c, i) => ({ bin: path.resolve(c, 'bin', 'strata'), env: { ...env, STRATA_ROOT: path.join(dir, `root${i}`) }, ms: [] }));

function strata(b, args) {
  const r = spawnSync(b.bin, args, { env: b.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${b.bin} ${args.join(' ')}: ${r.stderr}`);
}

async function firstOk(b) {
  const port = await freePort();
  const name = `ab-${port}`;
  const args = ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, 'busybox', ...HTTPD()];
  const ms = await untilHttpOk(b.bin, args, `http://127.0.0.1:${port}/index.html`, { env: b.env });
  strata(b, ['rm', '-f', name]);
  return ms;
}

const load0 = os.loadavg()[0];
try {
  for (const b of builds) {
    strata(b, ['setup']);
    await firstOk(b); // the root's first container makes its bridge; caches
  }
  for (let i = 0; i < N; i++) {
    const order = i % 2 ? [builds[1], builds[0]] : builds;
    for (const b of order) b.ms.push(await firstOk(b));
    await new Promise((r) => setTimeout(r, 100));
  }
} finally {
  for (const b of builds) spawnSync(b.bin, ['system', 'prune', '-a', '-f', '--volumes'], { env: b.env, stdio: 'ignore' });
  const { teardownRoot } = await import('../dist/runtime/net/teardown.js');
  teardownRoot(dir);
  if (!fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${dir}/`)) fs.rmSync(dir, { recursive: true, force: true });
}
const [a, b] = builds;
const diffs = b.ms.map((v, i) => v - a.ms[i]);
process.stdout.write(
  `first 200 from run -d -p, ${N} interleaved rounds, load ${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString().slice(0, 16)}Z\n` +
    `A ${checkouts[0]}: median ${median(a.ms).toFixed(1)} ms\n` +
    `B ${checkouts[1]}: median ${median(b.ms).toFixed(1)} ms\n` +
    `B − A paired: median ${median(diffs).toFixed(1)} ms; B faster in ${diffs.filter((d) => d < 0).length}/${N}\n`,
);
