// Benchmark: a build on a fresh machine (an empty state root) with its cache in a registry,
// against the cold build and against `buildah build --layers --cache-from` on the same local
// registry (Debian's docker-registry on 127.0.0.1, started here), for the large (20,000 files)
// and multi scenarios of ../shared/bench/make-contexts.sh. Every run gets a new state root
// (buildah: a new --root), so nothing is local but the base image's name. Writes the `cache`
// section of bench/RESULTS.md. Usage: npm run build && node bench/cache.mjs [--runs N] [--only large]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const launcher = path.join(here, '..', 'bin', 'strata');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 3) || 3;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['large', 'multi'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-cache-'));
const load = () => os.loadavg()[0].toFixed(1);
let fresh = 0;
const freshDir = (what) => {
  const d = path.join(work, `${what}-${fresh++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};

function timed(cmd, argv, env = process.env) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  return { seconds, stderr: r.stderr };
}

const strata = (root, argv) => timed(launcher, argv, { ...process.env, STRATA_ROOT: root, STRATA_REGISTRIES_CONFIG: '' });
function buildah(argv) {
  const root = freshDir('buildah');
  try {
    return timed('buildah', ['--root', path.join(root, 'storage'), '--runroot', path.join(root, 'run'), 'build', '-q', '--layers', '--tls-verify=false', ...argv]);
  } finally {
    spawnSync('buildah', ['--root', path.join(root, 'storage'), '--runroot', path.join(root, 'run'), 'rmi', '-a', '-f'], { stdio: 'ignore' });
    spawnSync('umount', ['-R', path.join(root, 'storage', 'overlay')], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const { startRegistry } = await import(path.join(dist, 'registry', 'testing', 'registry-server.js'));
const reg = await startRegistry();
const loadStart = load();
const rows = [];
try {
  // The base image in the registry, under a name both tools pull from there.
  const seedRoot = freshDir('seed');
  execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { openStore } from ${JSON.stringify(path.join(dist, 'store', 'store.js'))};
    import { ensureBusybox } from ${JSON.stringify(path.join(dist, 'store', 'busybox.js'))};
    await ensureBusybox(await openStore(${JSON.stringify(seedRoot)}));`], { stdio: 'inherit' });
  const BASE = `${reg.host}/bench/base:latest`;
  strata(seedRoot, ['tag', 'busybox', BASE]);
  strata(seedRoot, ['push', BASE]);
  const contexts = path.join(work, 'contexts');
  execFileSync('bash', [path.join(here, '..', '..', 'shared', 'bench', 'make-contexts.sh'), contexts], { env: { ...process.env, BASE }, stdio: ['ignore', 'ignore', 'inherit'] });

  for (const name of only) {
    const ctx = path.join(contexts, name);
    const cache = `${reg.host}/bench/${name}-cache`;
    const bcache = `${reg.host}/bench/${name}-buildah-cache`;
    const r = { name, strataCold: [], strataWarm: [], strataFirstRun: [], strataPush: [], buildahCold: [], buildahWarm: [] };
    // Seeds (not measured as such): each tool's cache written once from a cold build.
    r.strataSeed = strata(freshDir('root'), ['build', '-q', '--cache-to', `type=registry,ref=${cache},mode=max`, '-t', `bench-${name}`, ctx]).seconds;
    r.buildahSeed = buildah(['--cache-to', bcache, '-t', `bench-${name}`, ctx]).seconds;
    for (let i = 0; i < runs; i++) {
      r.strataCold.push(strata(freshDir('root'), ['build', '-q', '-t', `bench-${name}`, ctx]).seconds);
      const warmRoot = freshDir('root');
      r.strataWarm.push(strata(warmRoot, ['build', '-q', '--cache-from', `type=registry,ref=${cache}`, '-t', `bench-${name}`, ctx]).seconds);
      // The deferred work made visible: the first container of the image unpacks its packed layers.
      r.strataFirstRun.push(strata(warmRoot, ['run', '--rm', `bench-${name}`, 'true']).seconds);
      r.strataPush.push(strata(freshDir('root'), ['build', '-q', '--cache-from', `type=registry,ref=${cache}`, '--push', '-t', `${reg.host}/bench/${name}:${i}`, ctx]).seconds);
      r.buildahCold.push(buildah(['-t', `bench-${name}`, ctx]).seconds);
      r.buildahWarm.push(buildah(['--cache-from', bcache, '-t', `bench-${name}`, ctx]).seconds);
      for (const d of fs.readdirSync(work).filter((x) => x.startsWith('root-'))) fs.rmSync(path.join(work, d), { recursive: true, force: true });
    }
    rows.push(r);
    console.log(JSON.stringify(r));
  }
} finally {
  await reg.close();
  fs.rmSync(work, { recursive: true, force: true });
}

const f = (s) => s.toFixed(2);
const lines = [
  '## cache: a fresh machine building with its cache in a registry',
  '',
  `Machine: ${machine()}, ${spawnSync('buildah', ['--version'], { encoding: 'utf8' }).stdout.trim()}. Median of ${runs} runs; every run on a new, empty`,
  'state root (buildah: a new `--root`), the base image pulled from the same local registry (Debian\'s docker-registry on',
  '127.0.0.1, plain http) that holds both caches. cold = no cache at all; warm = `--cache-from` a cache one cold build wrote',
  '(strata: `--cache-to type=registry,...,mode=max`; buildah: `build --layers --cache-to`); warm push = strata\'s warm build',
  'with `--push` (image pushed, its layers mounted from the cache, nothing downloaded). strata\'s warm build also hashes the',
  `whole context (a fresh root has no hashes remembered). Load average (1 min) ${loadStart} at the start, ${load()} at the end:`,
  'on a shared 2-core machine absolute times, and the ratios less, move with what else runs.',
  '',
  '| scenario | strata cold (s) | strata warm (s) | then first run (s) | strata warm push (s) | buildah cold (s) | buildah warm (s) | warm / buildah warm (≤ 0.5) | warm / cold (≤ 0.3) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const sw = median(r.strataWarm);
  const vsBuildah = sw / median(r.buildahWarm);
  const vsCold = sw / median(r.strataCold);
  lines.push(`| ${r.name} | ${f(median(r.strataCold))} | ${f(sw)} | ${f(median(r.strataFirstRun))} | ${f(median(r.strataPush))} | ${f(median(r.buildahCold))} | ${f(median(r.buildahWarm))} | ${f(vsBuildah)} ${vsBuildah <= 0.5 ? 'met' : 'not met'} | ${f(vsCold)} ${vsCold <= 0.3 ? 'met' : 'not met'} |`);
}
lines.push('', `Where the time goes: a warm build that writes the image into the fresh store brings every
layer of the image there, kept packed (store README, "Packed layers"): the registry's blob is
downloaded, hashed, decompressed and its headers read and checked against the diff_id as it
arrives, and nothing is extracted. In the large scenario that is the COPY layer of 20,000 files
(200 MB, 100 MB gzip'ed). The rest of a warm build is hashing the whole context (a fresh root
remembers no hashes), the lookups (one HEAD per step, all at once, some 20 ms) and writing the
image; the layers of steps the image does not contain are never fetched, and with \`--push\`
(the image pushed, not loaded) nothing is downloaded: that is the warm push column, the floor of
a warm build here. The deferred work is the "then first run" column: the first container of the
image unpacks its packed layers (20,000 files created), once. In multi the image's own layers
are small.`);
lines.push('', `Seeding builds (cold + export): ${rows.map((r) => `${r.name}: strata ${f(r.strataSeed)} s, buildah ${f(r.buildahSeed)} s`).join('; ')}.`);
lines.push(`Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/cache.mjs --runs ${runs}\`.`);
writeSection('cache', lines.join('\n'));
console.log(lines.join('\n'));
