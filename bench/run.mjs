// Start latency: `strata run --rm busybox true` against `podman run --rm` of the same rootfs (both
// on their default bridge networks) and
// a raw `runc run` of a prepared bundle (the floor every runc-based tool stands on). Runs are
// interleaved so that background load hits all three alike; medians are reported.
// Usage: npm run build && node bench/run.mjs [N]
// STRATA_BASELINE=DIR adds the same `run --rm` of another checkout's build (DIR/bin/strata, its
// own state root), interleaved with the rest: a before/after of a change in one run.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, tryRun, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const launcher = path.join(here, '..', 'bin', 'strata'); // the `strata` command users run
const cli = path.join(here, '..', 'dist', 'cli', 'main.js'); // the ES module entry, for comparison
const N = Number(process.argv[2] ?? 20);
const PODMAN_IMAGE = 'localhost/strata-bench-busybox:latest';
const SETTLE_MS = 300;

const failures = { strata: 0, strataNone: 0, baseline: 0, podman: 0, runc: 0, runcStrata: 0, node: 0, strataEsm: 0, nodeNoCa: 0 };
const baselineDir = process.env.STRATA_BASELINE;
const baselineRev = baselineDir ? (process.env.STRATA_BASELINE_REV ?? tryRun('git', ['-C', baselineDir, 'rev-parse', '--short', 'HEAD']) ?? path.basename(baselineDir)) : '';

/** Wall time of one run; a failed run (podman's netavark is flaky under load) is retried, and counted. */
function time(cmd, args, env, who) {
  for (let attempt = 0; ; attempt++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status === 0) return ms;
    failures[who]++;
    if (attempt >= 2) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
}

function hardLimit(resource) {
  return execFileSync('bash', ['-c', `ulimit -H ${resource}`], { encoding: 'utf8' }).trim();
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-run-'));
const runcRoot = path.join(root, 'raw-runc');
const bundle = path.join(root, 'bundle');
const env = { ...process.env, STRATA_ROOT: path.join(root, 'state') };
try {
  const { openStore } = await import('../dist/store/store.js');
  const { ensureBusybox } = await import('../dist/store/busybox.js');
  const store = await openStore(env.STRATA_ROOT);
  const image = await ensureBusybox(store);
  const layer = await store.layerPath(image.config.rootfs.diff_ids[0]);

  // podman gets the very same rootfs. Its default rlimits (nofile/nproc 1048576) exceed what
  // this host allows, so they are set to the host's own limits, as strata passes them on.
  execFileSync('sh', ['-c', `tar -C '${layer}' -cf - . | podman import -q - ${PODMAN_IMAGE} >/dev/null`]);
  const nofile = hardLimit('-n');
  const nproc = Math.min(Number(hardLimit('-u')) || 4096, 4096);
  const podmanArgs = ['run', '--rm', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`, PODMAN_IMAGE, 'true'];

  // The raw runc bundle: runc's own default spec over the layer, read-only.
  fs.mkdirSync(bundle);
  execFileSync('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root = { path: layer, readonly: true };
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  let rawId = 0;

  // strata's own bundle for the same container (overlay root, seccomp, Docker's mounts), run
  // by runc alone: what runc costs with strata's configuration, without strata around it.
  const created = spawnSync(process.execPath, [cli, 'create', 'busybox', 'true'], { env, encoding: 'utf8' }).stdout.trim();
  const { ContainerStore } = await import('../dist/store/containers.js');
  const { lowerDirsOf, runSpecOf } = await import('../dist/runtime/container.js');
  const { prepareBundle } = await import('../dist/runtime/bundle.js');
  const containers = new ContainerStore(env.STRATA_ROOT);
  const record = await containers.get(created);
  const cpaths = containers.paths(record.Id);
  await prepareBundle(runSpecOf(record, cpaths, await lowerDirsOf(record, store), []), record.Id, cpaths.bundle);

  // This machine's environment may set NODE_EXTRA_CA_CERTS, which makes every Node process parse
  // that CA bundle at startup, TLS or not; bin/strata starts Node without it (see its comment).
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  const { NODE_EXTRA_CA_CERTS: _ca2, ...processEnvNoCa } = process.env;
  const baselineEnv = { ...process.env, STRATA_ROOT: path.join(root, 'state-baseline') };
  if (baselineDir) execFileSync(path.join(baselineDir, 'bin', 'strata'), ['setup'], { env: baselineEnv, stdio: 'ignore' });
  const contenders = {
    strata: () => time(launcher, ['run', '--rm', 'busybox', 'true'], env, 'strata'),
    strataNone: () => time(launcher, ['run', '--rm', '--network', 'none', 'busybox', 'true'], env, 'strataNone'),
    ...(baselineDir ? { baseline: () => time(path.join(baselineDir, 'bin', 'strata'), ['run', '--rm', 'busybox', 'true'], baselineEnv, 'baseline') } : {}),
    podman: () => time('podman', podmanArgs, process.env, 'podman'),
    runc: () => time('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `bench-${rawId++}`], process.env, 'runc'),
    runcStrata: () => time('runc', ['--root', runcRoot, 'run', '--bundle', cpaths.bundle, `bench-${rawId++}`], process.env, 'runcStrata'),
    strataEsm: () => time(process.execPath, [cli, 'run', '--rm', 'busybox', 'true'], env, 'strataEsm'),
    node: () => time(process.execPath, ['-e', '0'], process.env, 'node'),
    ...(extraCa ? { nodeNoCa: () => time(process.execPath, ['-e', '0'], processEnvNoCa, 'nodeNoCa') } : {}),
  };
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (const f of Object.values(contenders)) f(); // warm caches once
  const load0 = os.loadavg()[0];
  // A pause between runs lets what a run leaves going in the background (podman's cleanup
  // processes, strata's detached rm) finish before the next tool is timed, in either direction.
  const settle = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);
  for (let i = 0; i < N; i++) {
    for (const [name, f] of Object.entries(contenders)) {
      settle();
      samples[name].push(f());
    }
  }
  const load1 = os.loadavg()[0];

  // Where strata's time goes: STRATA_TIMING=1 prints milestones (ms since its process started).
  const MILESTONES = [
    ['node start + module load', 'loaded'],
    ['image store opened', 'store opened'],
    ['image resolved, name chosen, container record written (the namespace\'s holder, `unshare -n sh`, started meanwhile: a fork of the Node process)', 'container created'],
    ['address allocated, plumbing sent to the holder', 'network requested'],
    ['runtime status written (shim.json)', 'status saved'],
    ['runc bundle written (init layer, /etc files, config.json)', 'bundle written'],
    ['wait for the plumbing still running, if any', 'network ready'],
    ['`runc run` (exec\'d by the holder, to exit)', 'runc exited'],
  ];
  const phases = Object.fromEntries([...MILESTONES.map(([label]) => [label, []]), ['container renamed away, exit', []]]);
  const timedRuns = Math.min(N, 10);
  for (let i = 0; i < timedRuns; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(launcher, ['run', '--rm', 'busybox', 'true'], { env: { ...env, STRATA_TIMING: '1' }, encoding: 'utf8' });
    const total = Number(process.hrtime.bigint() - t0) / 1e6;
    const at = Object.fromEntries([...r.stderr.matchAll(/^timing: (.*) ([0-9.]+) ms$/gm)].map((m) => [m[1], Number(m[2])]));
    let previous = 0;
    for (const [label, key] of MILESTONES) {
      phases[label].push(at[key] - previous);
      previous = at[key];
    }
    phases['container renamed away, exit'].push(total - previous);
  }
  const breakdown = Object.entries(phases).map(([k, v]) => `| ${k} | ${median(v).toFixed(0)} ms |`).join('\n');
  const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const ratio = med.strata / med.podman;
  const verdict = (r) => `**${r.toFixed(2)}×** — ${r <= 0.35 ? 'met' : 'missed'}`;
  const line = (name, what) => `| ${what} | ${med[name].toFixed(0)} ms | ${Math.min(...samples[name]).toFixed(0)} ms | ${(med[name] / med.podman).toFixed(2)}× |`;
  const caRows = extraCa ? `
${line('nodeNoCa', '`node -e 0`, NODE_EXTRA_CA_CERTS unset')}` : '';
  const caText = extraCa ? `

This machine's environment sets \`NODE_EXTRA_CA_CERTS=${extraCa}\`. Node 20 parses that CA bundle
while it starts, in every Node process, TLS or not: ${(med.node - med.nodeNoCa).toFixed(0)} ms of the empty process above
(${med.node.toFixed(0)} ms with it, ${med.nodeNoCa.toFixed(0)} ms without). podman, written in Go, loads certificates only when it
makes a TLS connection, and so does strata: \`bin/strata\` starts Node without the variable, hands
its value on, and strata puts it back in its environment and reads the file itself for the https
requests it makes (\`ADD https://...\`; src/net/fetch.ts, tested with a private CA).` : '';
  const floor = (extraCa ? med.nodeNoCa : med.node) + med.runcStrata;
  const markdown = `## run: start latency (\`run --rm busybox true\`)

${machine()}; ${N} interleaved runs each, ${SETTLE_MS} ms apart; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} during the runs (other work was running on the machine: absolute times move with it, the ratios much less); failed runs retried: ${Object.entries(failures).filter(([k]) => k in contenders).map(([k, v]) => `${k} ${v}`).join(', ')}. Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/run.mjs ${N}\`.

| command | median | best | vs podman |
|---|---|---|---|
${line('strata', '`strata run --rm busybox true`')}
${line('strataNone', '`strata run --rm --network none busybox true` (no network: the default bridge network\'s share)')}
${baselineDir ? `${line('baseline', `the same \`strata run --rm busybox true\` of the build before (STRATA_BASELINE, ${baselineRev})`)}\n` : ''}${line('podman', '`podman run --rm` (same rootfs, `podman import`)')}
${line('runc', "`runc run` of runc's default spec (no overlay, no seccomp: the floor)")}
${line('runcStrata', "`runc run` of strata's own bundle (overlay root, seccomp, Docker's mounts)")}
${line('strataEsm', '`node dist/cli/main.js run --rm busybox true` (the ES module entry, environment as is)')}
${line('node', '`node -e 0` (an empty Node process, for reference)')}${caRows}

Target: strata ≤ 0.35× podman. Result: ${verdict(ratio)}.${caText}

The floor under any Node program here, an empty Node process plus \`runc run\` of strata's bundle,
is ${floor.toFixed(0)} ms (${(floor / med.podman).toFixed(2)}× podman); strata spends ${(med.strata - floor).toFixed(0)} ms beyond it,
${(med.strata - med.strataNone).toFixed(0)} ms of which is the default bridge network: the namespace's holder (\`unshare -n sh\`, a
fork of the Node process, 6-9 ms of it synchronous) is started as soon as the network is chosen, the
endpoint's address is allocated under the network lock once the container exists, and the
plumbing (\`ip -batch\` inside, \`nsenter\` and \`ip -batch\` outside: each process start some 3-4 ms on
this machine) runs while the bundle is written; runc waits for it when it takes longer. The holder
then execs runc itself, so \`run --rm\` forks the Node process once, not twice. 0.35× is below the
floor plus the network; what is left above the floor is the container's record and runtime
status, the bundle, and the removal, each a few ms.${baselineDir ? `

Against the build before (${baselineRev}), interleaved in these same runs: ${med.baseline.toFixed(0)} ms → ${med.strata.toFixed(0)} ms median, ${Math.min(...samples.baseline).toFixed(0)} → ${Math.min(...samples.strata).toFixed(0)} ms best.` : ''}

Under load the default network costs far more than its few ms of CPU: its plumbing is a chain of
short processes, each of which waits for a CPU in turn, while \`--network none\` has none. Two
changes of issues 10 and 13 (2026-12-06): Docker's seccomp profile lists x32 as a third ABI
beside x86_64 and i386, and each ABI costs runc's init some 3-5 ms of CPU compiling the filter;
on a kernel built without x32 (CONFIG_X86_X32_ABI unset, as this one, Fedora's, Ubuntu's and
Arch's) strata leaves it out (src/runtime/kernel-abi.ts, the answer kept in /run for the boot):
user CPU of \`runc run\` of strata's bundle 18.7 → 14.0 ms (15 runs each, load 4.5), and an x32
system call, which such a kernel cannot serve anyway, gets SIGSYS from the filter instead of
ENOSYS. And the foreground run sweeps earlier commands' leftovers once runc is spawned, not at
its start, where some thirty file operations queued in libuv's pool ahead of its own. Measured
on their own against the build before (main at 6ed3d35), 100 interleaved runs each at load
2.3 → 2.7: median 164.9 → 151.0 ms, first quartile 144.7 → 139.6 ms, best 116.6 → 109.0 ms,
CPU of the whole process tree 112.7 → 109.6 ms (mean); an earlier 60 at load 4.4 → 5.0: median
224.9 → 221.7 ms, best 114.1 → 107.0 ms, CPU 108.5 → 104.5 ms.
Tried and left out for want of a measurable gain at the load at hand (5-7 on 2 cores): the
namespace's holder spawned before the endpoint's allocation; a plumbing of four execs (\`sh\`
exec'ing the \`ip -batch\` that holds the namespace, the host side run by strata itself instead
of through \`nsenter\`), alone and with that holder spawned at the command's very start (before
the image is resolved), so that the plumbing makes one process, the host side's \`ip\`: 2 × 60
interleaved runs against the build without it, medians 142.9 → 141.0 and 136.7 → 136.3 ms, best
97.3 → 99.1 and 94.7 → 97.4 ms, CPU the same.

A detached start (\`run -d\`) no longer pays for a second Node process's start on top of all this:
the shim is spawned first and loads from its own bundle with a V8 code cache while the command
plumbs the namespace and writes the bundle, and the shim then runs runc at once (see section
net and src/runtime/README.md).

Where strata's time goes (\`STRATA_TIMING=1\`, medians of ${timedRuns} more runs):

| phase | median |
|---|---|
${breakdown}

\`strata\` enters through a CommonJS file (\`dist/cli/start.cjs\`), so \`run\` never starts Node's ES
module loader; it loads one bundle of its code (\`dist/cli/run-bundle.cjs\`, made by esbuild in
\`npm run build\`) instead of some thirty ES modules, compiled from a V8 code cache that the first
run writes beside it (keyed to the bundle file's size, mtime and inode), and does not load yargs. \`runc run\` of
strata's bundle is the floor under it: runc's fork/exec chain, namespaces, cgroups, the overlay
and the other mounts, and compiling Docker's seccomp profile (about 370 rules for the x86_64 and
i386 ABIs, and x32 where the kernel has it — podman runs the same runc with the same profile,
x32 included). runc mounts the overlay root inside the container's mount namespace, so there
is no mount or unmount process; the container's record mirror is written while the bundle is
prepared. The container is removed by renaming its directory away (from then on it and its name are gone)
before strata exits with the container's code; the some 25 unlinks of its files (record,
upper/work dirs, bundle with its init layer), each a fraction of a millisecond on this machine's
ext4 and more under I/O load, are left to the next \`run\`, which unlinks them in the background
while it starts its own container (a container that wrote files has them unlinked at once by a
detached \`rm -rf\`). The last phase also holds what
precedes Node's clock (exec of the node binary) and the process exit.
`;
  writeSection('run', markdown);
  process.stdout.write(markdown);
} finally {
  spawnSync('podman', ['rmi', '-f', PODMAN_IMAGE], { stdio: 'ignore' });
  // The default network's bridge and rules of the bench's state root go with it.
  (await import('../dist/runtime/net/teardown.js')).teardownRoot(root);
  fs.rmSync(root, { recursive: true, force: true });
}
