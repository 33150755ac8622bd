// Benchmark: `strata build` against `podman build` on the reference scenarios of
// ../shared/bench/make-contexts.sh, each cold (--no-cache), warm (all cached) and incremental
// (one context file changed), in one run on one machine. Writes the `build` section of
// bench/RESULTS.md. Usage: npm run build && node bench/build.mjs [--runs N] [--only small,large]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const launcher = path.join(here, '..', 'bin', 'strata'); // the `strata` command users run
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 3) || 3;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-build-'));
const root = path.join(work, 'root');
const contexts = path.join(work, 'contexts');
const BASE = 'localhost/strata-bench-base:latest';
const env = { ...process.env, STRATA_ROOT: root };

const TARGETS = { 'small warm': 0.5, 'large warm': 0.1, 'large incremental': 0.4, 'multi cold': 0.7, 'biglayer cold': 0.8 };
const SCENARIOS = [
  { name: 'small', touch: 'src/d005/f00005.txt' },
  { name: 'large', touch: 'src/d005/f00005.txt' },
  { name: 'multi', touch: 'a/d005/f00005.txt' },
  { name: 'biglayer' },
].filter((s) => !only || only.includes(s.name));

function strata(argv, opts = {}) {
  return spawnSync(launcher, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
}

/** Runs a command under GNU time: wall seconds and peak RSS (KiB) of the process tree's largest member. */
function timed(cmd, argv, runEnv = env) {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...argv], { env: runEnv, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const rss = Number(r.stderr.trim().split('\n').pop());
  return { seconds, rssKiB: rss };
}

const tools = {
  strata: (ctx, tag, extra) => timed(launcher, ['build', '-q', ...extra, '-t', tag, ctx]),
  podman: (ctx, tag, extra) => timed('podman', ['build', '-q', '--network', 'host', ...extra, '-t', tag, ctx]),
};

function setup() {
  fs.mkdirSync(root, { recursive: true });
  // busybox:latest in strata's store, then the same image in podman's, under one name both resolve.
  execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { openStore } from ${JSON.stringify(path.join(here, '..', 'dist', 'store', 'store.js'))};
    import { ensureBusybox } from ${JSON.stringify(path.join(here, '..', 'dist', 'store', 'busybox.js'))};
    await ensureBusybox(await openStore(${JSON.stringify(root)}));`], { env, stdio: 'inherit' });
  const tag = strata(['tag', 'busybox', BASE]);
  if (tag.status !== 0) throw new Error(tag.stderr);
  const archive = path.join(work, 'base.tar');
  const save = strata(['save', '-o', archive, BASE]);
  if (save.status !== 0) throw new Error(save.stderr);
  execFileSync('podman', ['load', '-q', '-i', archive], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('bash', [path.join(here, '..', '..', 'shared', 'bench', 'make-contexts.sh'), contexts], { env: { ...process.env, BASE }, stdio: ['ignore', 'ignore', 'inherit'] });
}

function touch(ctx, file, n) {
  fs.appendFileSync(path.join(ctx, file), `change ${n}\n`);
}

function measure(scenario) {
  const ctx = path.join(contexts, scenario.name);
  const rows = [];
  for (const [tool, run] of Object.entries(tools)) {
    const tag = `localhost/bench-${scenario.name}-${tool}`;
    const cold = [];
    const warm = [];
    const inc = [];
    let peak = 0;
    const note = (r, list) => {
      list.push(r.seconds);
      peak = Math.max(peak, r.rssKiB);
    };
    for (let i = 0; i < runs; i++) note(run(ctx, tag, ['--no-cache']), cold);
    for (let i = 0; i < runs; i++) note(run(ctx, tag, []), warm);
    if (scenario.touch) {
      for (let i = 0; i < runs; i++) {
        touch(ctx, scenario.touch, `${tool}-${i}`);
        note(run(ctx, tag, []), inc);
      }
    }
    rows.push({ tool, cold: median(cold), warm: median(warm), inc: scenario.touch ? median(inc) : undefined, peakMiB: peak / 1024 });
    console.error(`${scenario.name} ${tool}: cold ${median(cold).toFixed(2)}s warm ${median(warm).toFixed(2)}s${scenario.touch ? ` incremental ${median(inc).toFixed(2)}s` : ''} peak ${(peak / 1024).toFixed(0)} MiB`);
  }
  return rows;
}

function table(results) {
  const lines = [
    '| scenario | mode | strata (s) | podman (s) | ratio | target | met |',
    '|---|---|---:|---:|---:|---:|:---:|',
  ];
  for (const [name, rows] of Object.entries(results)) {
    const s = rows.find((r) => r.tool === 'strata');
    const p = rows.find((r) => r.tool === 'podman');
    for (const mode of ['cold', 'warm', 'inc']) {
      if (s[mode] === undefined) continue;
      const label = { inc: 'incremental' }[mode] ?? mode;
      const ratio = s[mode] / p[mode];
      const target = TARGETS[`${name} ${label}`];
      lines.push(`| ${name} | ${label} | ${s[mode].toFixed(2)} | ${p[mode].toFixed(2)} | ${ratio.toFixed(2)} | ${target ?? '—'} | ${target === undefined ? '' : ratio <= target ? 'yes' : 'no'} |`);
    }
  }
  lines.push('', '| scenario | strata peak RSS (MiB) | podman peak RSS (MiB) |', '|---|---:|---:|');
  for (const [name, rows] of Object.entries(results)) {
    lines.push(`| ${name} | ${rows[0].peakMiB.toFixed(0)} | ${rows[1].peakMiB.toFixed(0)} |`);
  }
  return lines.join('\n');
}

const loadBefore = os.loadavg()[0];
try {
  setup();
  const results = {};
  for (const s of SCENARIOS) results[s.name] = measure(s);
  const md = [
    '## build: strata build vs podman build',
    '',
    `Machine: ${machine()}. Median of ${runs} runs per mode; contexts from shared/bench/make-contexts.sh`,
    `(BASE=${BASE}, the same busybox image in both stores). cold = \`--no-cache\`, warm = unchanged`,
    'rebuild, incremental = one context file appended to before each run. podman runs with `--network host`',
    '(strata\'s default for RUN). Peak RSS is the largest process of each tool (GNU time), across all its runs.',
    `Load average (1 min) ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end: on a shared`,
    '2-core machine the absolute times, and so the ratios, move with what else runs.',
    '',
    table(results),
  ].join('\n');
  writeSection('build', md);
  console.log(md);
} finally {
  for (const s of SCENARIOS) spawnSync('podman', ['rmi', '-f', `localhost/bench-${s.name}-podman`], { stdio: 'ignore' });
  spawnSync('podman', ['rmi', '-f', BASE], { stdio: 'ignore' });
  fs.rmSync(work, { recursive: true, force: true });
}
