// The floors under two targets, measured side by side with podman in one run:
//  - issue 13, first HTTP 200 from `run -d -p` ≤ 0.5× podman's: strata's command is a Node process
//    and its container is started by runc, so no strata can answer sooner than Node's bare start
//    plus runc's own start of the same container. runc is timed here alone, on a bundle strata
//    wrote (its seccomp filter, cgroup, mounts and overlay rootfs), in the host's network
//    namespace (no plumbing at all: a floor below the real one), until busybox httpd answers 200.
//  - issue 11, warm pull and warm push ≤ 0.7× podman's: a warm case must at least start Node and
//    ask the registry once; timed as a bare script (`node -e` with one GET of /v2/ over node:http).
// Node is started as bin/strata starts it (without NODE_EXTRA_CA_CERTS). Runs are interleaved,
// medians reported. Usage: npm run build && node bench/floors.mjs [N]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, HTTPD, untilHttpOk } from './lib/http.mjs';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const strataBin = path.join(here, '..', 'bin', 'strata');
const N = Number(process.argv[2] ?? 15);
const SETTLE_MS = 200;
const { startRegistry, registryAvailable } = await import('../dist/registry/testing/registry-server.js');

// Short paths: podman refuses a runroot longer than 50 characters.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfl-'));
const nodeEnv = { ...process.env };
delete nodeEnv.NODE_EXTRA_CA_CERTS;
const env = { ...nodeEnv, STRATA_ROOT: path.join(dir, 'state'), HOME: path.join(dir, 'home'), DOCKER_CONFIG: path.join(dir, 'docker'), STRATA_REGISTRIES_CONFIG: '' };
fs.mkdirSync(env.DOCKER_CONFIG, { recursive: true });
fs.writeFileSync(path.join(env.DOCKER_CONFIG, 'config.json'), '{}');
const podmanStore = ['--root', path.join(dir, 'pm', 'root'), '--runroot', path.join(dir, 'pm', 'r'), '--storage-driver', 'overlay'];
const runcRoot = path.join(dir, 'runc');
const IMAGE = 'localhost/strata-bench-floor-busybox:latest';
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { env: opts.env ?? env, encoding: 'utf8', input: opts.input });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return (r.stdout ?? '').trim();
}
const strata = (args, opts) => sh(strataBin, args, opts);
const podman = (args, opts) => sh('podman', [...podmanStore, ...args], opts);

function timedSync(cmd, args, envv = env) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: envv, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return performance.now() - t0;
}

/** untilHttpOk() of http://127.0.0.1:PORT/PAGE, with this run's environment (FLOORS_DEBUG=1: CMD's stderr shown). */
function untilOk(cmd, args, port, page, opts = {}) {
  const debug = process.env.FLOORS_DEBUG ? (d) => process.stderr.write(d) : undefined;
  return untilHttpOk(cmd, args, `http://127.0.0.1:${port}/${page}`, { env: opts.env ?? env, stderr: opts.stderr ?? debug });
}

/**
 * A runc bundle as strata writes it for `run`, taken from a container strata started (then
 * stopped): the same process, seccomp filter, capabilities, cgroup, mounts and overlay of the
 * image's layers, but a fresh upper layer of its own and the host's network namespace.
 */
function bundleFromStrata() {
  strata(['run', '-d', '--name', 'floor-src', '--network', 'none', 'busybox', 'sleep', '3600']);
  const id = strata(['inspect', '--format', '{{.Id}}', 'floor-src']);
  strata(['stop', '-t', '0', 'floor-src']);
  const original = path.join(env.STRATA_ROOT, 'containers', id, 'bundle');
  // 2^64-1 (an unlimited rlimit) is more than a JavaScript number holds exactly: kept as text.
  const spec = JSON.parse(fs.readFileSync(path.join(original, 'config.json'), 'utf8').replaceAll(U64_MAX, `"${U64_MAX}"`));
  const rootMount = spec.mounts.find((m) => m.destination === '/' && m.type === 'overlay');
  if (!rootMount) throw new Error('no overlay root mount in strata\'s bundle');
  const lower = rootMount.options.find((o) => o.startsWith('lowerdir=')).slice('lowerdir='.length);
  const lowerAbs = lower.split(':').map((p) => fs.realpathSync(path.resolve(original, 'rootfs', p)));
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'network');
  spec.process.terminal = false;
  return { spec, rootMount, lowerAbs };
}

const U64_MAX = '18446744073709551615';
let runcRound = 0;
/** ms from spawning `runc run -d` of strata's bundle (httpd on PORT) until it answers 200. */
async function runcAlone(bundle, port) {
  const n = runcRound++;
  const b = path.join(dir, 'bundles', String(n));
  for (const d of ['upper', 'work', 'rootfs']) fs.mkdirSync(path.join(b, d), { recursive: true });
  const spec = structuredClone(bundle.spec);
  const root = spec.mounts.find((m) => m.destination === '/' && m.type === 'overlay');
  root.options = root.options.map((o) =>
    o.startsWith('lowerdir=') ? `lowerdir=${bundle.lowerAbs.join(':')}` : o.startsWith('upperdir=') ? `upperdir=${b}/upper` : o.startsWith('workdir=') ? `workdir=${b}/work` : o,
  );
  spec.root = { path: path.join(b, 'rootfs'), readonly: false };
  spec.process.args = HTTPD(port);
  spec.linux.cgroupsPath = `/strata-bench-floor-${process.pid}-${n}`;
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec).replaceAll(`"${U64_MAX}"`, U64_MAX));
  const id = `floor-${process.pid}-${n}`;
  try {
    return await untilOk('runc', ['--root', runcRoot, 'run', '-d', '--bundle', b, id], port, 'index.html');
  } finally {
    sh('runc', ['--root', runcRoot, 'delete', '-f', id], { allowFail: true });
    // runc mounts the overlay in the container's own namespace; removed only when nothing is mounted under it here.
    if (!fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${b}`)) fs.rmSync(b, { recursive: true, force: true });
  }
}

/** "timing: WHAT N ms" lines (STRATA_TIMING=1, src/timing.ts) as { WHAT: N }. */
function milestonesOf(text) {
  const out = {};
  for (const m of text.matchAll(/^timing: (.+) ([\d.]+) ms$/gm)) out[m[1]] ??= Number(m[2]);
  return out;
}

/** Where strata's runs spent their time: each milestone of the command and its shim, on the command's clock. */
const milestones = [];
let recording = false;

async function firstOk(tool, port) {
  const name = `floor-ok-${port}`;
  const args = ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, tool === 'strata' ? 'busybox' : IMAGE, ...HTTPD(80)];
  let ms;
  if (tool === 'strata') {
    let stderr = '';
    ms = await untilOk(strataBin, args, port, 'index.html', { env: { ...env, STRATA_TIMING: '1' }, stderr: (d) => (stderr += d) });
    const id = strata(['inspect', '--format', '{{.Id}}', name]);
    const shimLog = fs.readFileSync(path.join(env.STRATA_ROOT, 'containers', id, 'shim.log'), 'utf8');
    if (recording) milestones.push({ ...milestonesOf(stderr), ...milestonesOf(shimLog), 'first 200 (from the launch)': ms });
  } else {
    ms = await untilOk('podman', [...podmanStore, ...args], port, 'index.html');
  }
  (tool === 'strata' ? strata : podman)(['rm', '-f', name], { allowFail: true });
  return ms;
}

const t = { node: [], nodeGet: [], runc: [], strataOk: [], podmanOk: [], strataPull: [], podmanPull: [], strataPush: [], podmanPush: [] };
const load0 = os.loadavg()[0];
let registry;
try {
  if (!registryAvailable) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
  const { openStore } = await import('../dist/store/store.js');
  const { ensureBusybox } = await import('../dist/store/busybox.js');
  const store = await openStore(env.STRATA_ROOT);
  const image = await ensureBusybox(store);
  const layer = await store.layerPath(image.config.rootfs.diff_ids[0]);
  sh('sh', ['-c', `tar -C '${layer}' -cf - . | podman ${podmanStore.join(' ')} import -q --change 'CMD ["sh"]' - ${IMAGE} >/dev/null`]);
  const bundle = bundleFromStrata();

  registry = await startRegistry();
  const ref = `${registry.host}/floor/busybox:1`;
  strata(['tag', 'busybox', ref]);
  strata(['push', '-q', ref]);
  podman(['pull', '-q', '--tls-verify=false', ref]);
  const nodeGet = `require('http').get('http://${registry.host}/v2/', { agent: false }, (r) => r.resume())`;

  // One of each first (caches, the first container of a root), then N interleaved rounds.
  for (let round = -1; round < N; round++) {
    const keep = (k, v) => round >= 0 && t[k].push(v);
    keep('node', timedSync(process.execPath, ['-e', '0'], nodeEnv));
    keep('nodeGet', timedSync(process.execPath, ['-e', nodeGet], nodeEnv));
    keep('strataPull', timedSync(strataBin, ['pull', '-q', ref]));
    keep('podmanPull', timedSync('podman', [...podmanStore, 'pull', '-q', '--tls-verify=false', ref]));
    keep('strataPush', timedSync(strataBin, ['push', '-q', ref]));
    keep('podmanPush', timedSync('podman', [...podmanStore, 'push', '-q', '--tls-verify=false', ref]));
    await settle();
    keep('runc', await runcAlone(bundle, await freePort()));
    await settle();
    recording = round >= 0;
    keep('strataOk', await firstOk('strata', await freePort()));
    await settle();
    keep('podmanOk', await firstOk('podman', await freePort()));
  }
} finally {
  strata(['rm', '-f', 'floor-src'], { allowFail: true });
  await registry?.close();
  // The temp dir holds podman's and strata's stores: removed only when nothing is mounted in it.
  if (!fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${dir}/`)) fs.rmSync(dir, { recursive: true, force: true });
}
const load1 = os.loadavg()[0];

const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
const f = (v) => `${v.toFixed(0)} ms`;
const floor13 = m.node + m.runc;
const target13 = 0.5 * m.podmanOk;
const rows11 = [
  ['pull, warm (the store has the image)', m.strataPull, m.podmanPull],
  ['push, warm (the registry has the blobs)', m.strataPush, m.podmanPush],
];
function milestoneRows() {
  const names = [...new Set(milestones.flatMap((m) => Object.keys(m)))];
  const rows = names.map((n) => [n, median(milestones.map((m) => m[n]).filter((v) => v !== undefined))]).sort((a, b) => a[1] - b[1]);
  return rows.map(([n, v]) => `| ${n} | ${v.toFixed(0)} |`).join('\n');
}
const markdown = `## floors: what Node and runc take by themselves, against the targets of issues 11 and 13

Machine: ${machine()}. Median of ${N} interleaved rounds; load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.
Node started as bin/strata starts it (NODE_EXTRA_CA_CERTS unset). Measured by \`node bench/floors.mjs\`.

First HTTP 200 from \`run -d -p\` (busybox httpd), issue 13's target ≤ 0.5× podman's:

| measure | time |
|---|---:|
| Node's bare start (\`node -e 0\`) | ${f(m.node)} |
| runc alone: \`runc run -d\` of the bundle strata writes (its seccomp filter, cgroup, mounts, overlay), host network, until httpd answers 200 | ${f(m.runc)} |
| **floor for strata** (the two in a row: runc cannot start before the command runs) | **${f(floor13)}** |
| strata's first 200 | ${f(m.strataOk)} |
| podman's first 200 | ${f(m.podmanOk)} |
| the target, 0.5× podman's | ${f(target13)} |

The floor is ${(floor13 / m.podmanOk).toFixed(2)}× podman's time${floor13 > target13 ? ': above the target, which no Node command driving runc can meet on this machine' : ''}; strata's own time is ${(m.strataOk / m.podmanOk).toFixed(2)}× podman's, ${f(m.strataOk - floor13)} above the floor.

Where strata's first 200 goes (STRATA_TIMING milestones of the same runs, medians, ms since the
command's Node process started; \`shim:\` lines are its shim's, on the same clock; the first 200 is
from the launch of \`bin/strata\`):

| milestone | ms |
|---|---:|
${milestoneRows()}

Warm pull and warm push (nothing to transfer), issue 11's target ≤ 0.7× podman's:

| case | strata | podman | target (0.7× podman) | Node's bare start | Node + one GET of /v2/ |
|---|---:|---:|---:|---:|---:|
${rows11.map(([name, s, p]) => `| ${name} | ${f(s)} | ${f(p)} | ${f(0.7 * p)} | ${f(m.node)} | ${f(m.nodeGet)} |`).join('\n')}

A warm case has to start Node and ask the registry at least once: a bare script doing only that
takes ${f(m.nodeGet)}, ${(m.nodeGet / (0.7 * m.podmanPull)).toFixed(2)}× the pull's target and ${(m.nodeGet / (0.7 * m.podmanPush)).toFixed(2)}× the push's.
`;
writeSection('floors', markdown);
process.stdout.write(markdown);
