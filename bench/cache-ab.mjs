// A/B of the large warm-from-registry build: two builds of strata (this tree and another, e.g.
// main's) interleaved run by run against one local registry and one cache (written once by
// this tree), each run on a new state root. Prints medians and the load. For a change to the
// cache path, where numbers from another time do not compare.
// Usage: npm run build && node bench/cache-ab.mjs --old /work/main [--runs 5] [--only large]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const runs = Number(opt('--runs', 5));
const name = opt('--only', 'large');
const sides = { old: path.resolve(opt('--old', '/work/main')), new: path.join(here, '..') };
const dist = path.join(sides.new, 'dist');
// ../shared beside the checkout (/work/main), or beside the worktrees' folder (/work/wt/NAME).
const makeContexts = [path.join(here, '..', '..', 'shared'), path.join(here, '..', '..', '..', 'shared')].map((d) => path.join(d, 'bench', 'make-contexts.sh')).find((f) => fs.existsSync(f));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-cache-ab-'));
const load = () => os.loadavg()[0].toFixed(1);
let fresh = 0;
const freshRoot = () => {
  const d = path.join(work, `root-${fresh++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};

function strata(side, root, argv) {
  const started = process.hrtime.bigint();
  const r = spawnSync(path.join(sides[side], 'bin', 'strata'), argv, { env: { ...process.env, STRATA_ROOT: root, STRATA_REGISTRIES_CONFIG: '' }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${side}: strata ${argv.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const { startRegistry } = await import(path.join(dist, 'registry', 'testing', 'registry-server.js'));
const reg = await startRegistry();
const t = { old: { cold: [], warm: [] }, new: { cold: [], warm: [] } };
const loads = [load()];
try {
  const seedRoot = freshRoot();
  execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { openStore } from ${JSON.stringify(path.join(dist, 'store', 'store.js'))};
    import { ensureBusybox } from ${JSON.stringify(path.join(dist, 'store', 'busybox.js'))};
    await ensureBusybox(await openStore(${JSON.stringify(seedRoot)}));`], { stdio: 'inherit' });
  const BASE = `${reg.host}/bench/base:latest`;
  strata('new', seedRoot, ['tag', 'busybox', BASE]);
  strata('new', seedRoot, ['push', BASE]);
  const contexts = path.join(work, 'contexts');
  execFileSync('bash', [makeContexts, contexts], { env: { ...process.env, BASE }, stdio: ['ignore', 'ignore', 'inherit'] });
  const ctx = path.join(contexts, name);
  const cache = `${reg.host}/bench/${name}-cache`;
  strata('new', freshRoot(), ['build', '-q', '--cache-to', `type=registry,ref=${cache},mode=max`, '-t', `bench-${name}`, ctx]);
  for (let i = 0; i < runs; i++) {
    // Alternate which side goes first, so neither always follows the other's writeback.
    const order = i % 2 ? ['new', 'old'] : ['old', 'new'];
    for (const side of order) t[side].warm.push(strata(side, freshRoot(), ['build', '-q', '--cache-from', `type=registry,ref=${cache}`, '-t', `bench-${name}`, ctx]));
    for (const side of order) t[side].cold.push(strata(side, freshRoot(), ['build', '-q', '-t', `bench-${name}`, ctx]));
    loads.push(load());
    for (const d of fs.readdirSync(work).filter((x) => x.startsWith('root-') && x !== path.basename(seedRoot))) fs.rmSync(path.join(work, d), { recursive: true, force: true });
    console.log(JSON.stringify({ run: i, load: load(), old: { cold: t.old.cold[i], warm: t.old.warm[i] }, new: { cold: t.new.cold[i], warm: t.new.warm[i] } }));
  }
} finally {
  await reg.close();
  fs.rmSync(work, { recursive: true, force: true });
}
const f = (s) => s.toFixed(2);
for (const side of ['old', 'new']) {
  const c = median(t[side].cold);
  const w = median(t[side].warm);
  console.log(`${side} (${sides[side]}): ${name} cold ${f(c)} s, warm ${f(w)} s, warm/cold ${f(w / c)}; warm runs ${t[side].warm.map(f).join(' ')}`);
}
console.log(`load (1 min) along the runs: ${loads.join(' ')}`);
