// Start latency: `strata run --rm busybox true` against `podman run --rm` of the same rootfs and
// a raw `runc run` of a prepared bundle (the floor every runc-based tool stands on). Runs are
// interleaved so that background load hits all three alike; medians are reported.
// Usage: npm run build && node bench/run.mjs [N]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'cli', 'main.js');
const N = Number(process.argv[2] ?? 20);
const PODMAN_IMAGE = 'localhost/strata-bench-busybox:latest';

const failures = { strata: 0, podman: 0, runc: 0, runcStrata: 0, node: 0 };

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

  const contenders = {
    strata: () => time(process.execPath, [cli, 'run', '--rm', 'busybox', 'true'], env, 'strata'),
    podman: () => time('podman', podmanArgs, process.env, 'podman'),
    runc: () => time('runc', ['--root', runcRoot, 'run', '--bundle', bundle, `bench-${rawId++}`], process.env, 'runc'),
    runcStrata: () => time('runc', ['--root', runcRoot, 'run', '--bundle', cpaths.bundle, `bench-${rawId++}`], process.env, 'runcStrata'),
    node: () => time(process.execPath, ['-e', '0'], process.env, 'node'),
  };
  const samples = { strata: [], podman: [], runc: [], runcStrata: [], node: [] };
  for (const f of Object.values(contenders)) f(); // warm caches once
  const load0 = os.loadavg()[0];
  for (let i = 0; i < N; i++) for (const [name, f] of Object.entries(contenders)) samples[name].push(f());
  const load1 = os.loadavg()[0];

  // Where strata's time goes: STRATA_TIMING=1 prints milestones (ms since its process started).
  const phases = { 'node start + module load': [], 'store opened': [], 'container created': [], 'bundle + runc run': [], 'cleanup + exit': [] };
  for (let i = 0; i < Math.min(N, 10); i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, 'run', '--rm', 'busybox', 'true'], { env: { ...env, STRATA_TIMING: '1' }, encoding: 'utf8' });
    const total = Number(process.hrtime.bigint() - t0) / 1e6;
    const at = Object.fromEntries([...r.stderr.matchAll(/^timing: (.*) ([0-9.]+) ms$/gm)].map((m) => [m[1], Number(m[2])]));
    phases['node start + module load'].push(at.loaded);
    phases['store opened'].push(at['store opened'] - at.loaded);
    phases['container created'].push(at['container created'] - at['store opened']);
    phases['bundle + runc run'].push(at['container exited'] - at['container created']);
    phases['cleanup + exit'].push(total - at['container exited']);
  }
  const breakdown = Object.entries(phases).map(([k, v]) => `| ${k} | ${median(v).toFixed(0)} ms |`).join('\n');
  const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  const ratio = med.strata / med.podman;
  const line = (name, what) => `| ${what} | ${med[name].toFixed(0)} ms | ${Math.min(...samples[name]).toFixed(0)} ms | ${(med[name] / med.podman).toFixed(2)}× |`;
  const markdown = `## run: start latency (\`run --rm busybox true\`)

${machine()}; ${N} interleaved runs each; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} during the runs (other work was running on the machine: absolute times move with it, the ratios much less); failed runs retried: ${Object.entries(failures).map(([k, v]) => `${k} ${v}`).join(', ')}. Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/run.mjs ${N}\`.

| command | median | best | vs podman |
|---|---|---|---|
${line('strata', '`strata run --rm busybox true`')}
${line('podman', '`podman run --rm` (same rootfs, `podman import`)')}
${line('runc', "`runc run` of runc's default spec (no overlay, no seccomp: the floor)")}
${line('runcStrata', "`runc run` of strata's own bundle (overlay root, seccomp, Docker's mounts)")}
${line('node', '`node -e 0` (an empty Node process, for reference)')}

Target: strata ≤ 0.35× podman. Result: **${ratio.toFixed(2)}×** — ${ratio <= 0.35 ? 'met' : 'missed'}.

Where strata's time goes (\`STRATA_TIMING=1\`, medians of ${Math.min(N, 10)} more runs):

| phase | median |
|---|---|
${breakdown}

\`runc run\` itself is the floor above (its fork/exec chain, namespaces, cgroups, mounts); strata
adds the Node process (started without yargs for \`run\`), the image lookup, the container
record, the bundle (synchronous file work: init layer, /etc files, config.json) and the removal.
runc mounts the overlay root inside the container's mount namespace, so there is no mount or
unmount process on this path.
`;
  writeSection('run', markdown);
  process.stdout.write(markdown);
} finally {
  spawnSync('podman', ['rmi', '-f', PODMAN_IMAGE], { stdio: 'ignore' });
  fs.rmSync(root, { recursive: true, force: true });
}
