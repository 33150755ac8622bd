// Container networks side by side with podman's bridge networks (netavark) on this machine:
//  1. time to the first HTTP 200 from `run -d -p` (a busybox httpd), from the command's start;
//  2. container-to-container throughput on a user-defined network (2 GiB, Node at both ends in the containers' namespaces);
//  3. start latency of `run --rm busybox true` on the default network (podman's too);
//  4. published-port throughput: the splice relay strata uses, a DNAT rule (what DNAT
//     publishing would give), and the container's address routed.
// Runs are interleaved so background load hits both alike; medians are reported.
// Usage: npm run build && node bench/net.mjs [N]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, get, HTTPD as httpd, untilHttpOk } from './lib/http.mjs';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const strataBin = path.join(here, '..', 'bin', 'strata');
const N = Number(process.argv[2] ?? 10);
const IMAGE = 'localhost/strata-bench-net-busybox:latest';
const SETTLE_MS = 300;
const DNAT_TABLE = `strata_bench_${process.pid}`;
const HTTPD = httpd();

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-net-'));
const env = { ...process.env, STRATA_ROOT: path.join(root, 'state') };
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { env: opts.env ?? process.env, encoding: 'utf8', input: opts.input });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}
const strata = (args, opts) => sh(strataBin, args, { env, ...opts });
const podman = (args, opts) => sh('podman', args, opts);

/** ms from spawning `TOOL run -d -p` until the page answers 200. */
async function firstOk(tool, port) {
  const args = ['run', '-d', '--name', `first-ok-${port}`, '-p', `127.0.0.1:${port}:80`, tool === 'strata' ? 'busybox' : IMAGE, ...HTTPD];
  const ms = await untilHttpOk(tool === 'strata' ? strataBin : 'podman', args, `http://127.0.0.1:${port}/index.html`, { env: tool === 'strata' ? env : process.env, timeoutMs: 60_000 });
  (tool === 'strata' ? strata : podman)(['rm', '-f', `first-ok-${port}`], { allowFail: true });
  return ms;
}

// The transfer runs in the containers' network namespaces (nsenter) with Node on both ends, so
// it measures the path between them (veth, bridge, veth), not busybox nc's small buffers.
// On two cores a transfer's speed depends mostly on where the scheduler puts sender, receiver
// and the softirq work: unpinned, one tool's runs came out at 1374-1534 or 2373-2571 MiB/s in
// one series, and a median of 5 flipped the ratio between 0.54x and 1.52x from run to run. So
// both ends are pinned to one CPU (the same for both tools), each transfer is 2 GiB, the
// order alternates (ABBA), and the containers' pids and addresses are looked up once, before
// the series, so no CLI start (a Node process for strata, a Go one for podman) sits right
// before a transfer.
const PIN = ['taskset', '-c', '0'];
const C2C_MIB = 2048;
const SINK = `require('net').createServer((s) => { s.resume(); s.on('end', () => s.end('k')); }).listen(5001, '0.0.0.0', () => console.log('ready'));`;
const SEND = `const net = require('net'); const buf = Buffer.alloc(1 << 20); let left = ${C2C_MIB}; const t0 = performance.now();
const s = net.connect(5001, process.argv[1], () => { const more = () => { while (left > 0) { left--; if (!s.write(buf)) return s.once('drain', more); } s.end(); }; more(); });
s.on('data', () => { console.log(((performance.now() - t0) / 1000).toFixed(4)); s.destroy(); });`;
const sinks = [];

function pidOf(tool, name) {
  return (tool === 'strata' ? strata : podman)(['inspect', '--format', '{{.State.Pid}}', name]);
}

/** Starts the sink in the server container's namespace; resolves once it listens. */
async function startSink(tool) {
  const child = spawn(PIN[0], [...PIN.slice(1), 'nsenter', `--net=/proc/${pidOf(tool, 'nc-server')}/ns/net`, '--', process.execPath, '-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  sinks.push(child);
  await new Promise((r) => child.stdout.once('data', r));
}

/** MiB/s of C2C_MIB sent from the client (its init's pid CLIENTPID) to the server's address on a user-defined network. */
function throughput(clientPid, serverIp) {
  const out = sh(PIN[0], [...PIN.slice(1), 'nsenter', `--net=/proc/${clientPid}/ns/net`, '--', process.execPath, '-e', SEND, serverIp]);
  return C2C_MIB / Number(out);
}

function ipOf(tool, name, network) {
  return tool === 'strata'
    ? strata(['inspect', '--format', `{{.NetworkSettings.Networks.${network}.IPAddress}}`, name])
    : podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name]);
}

function time(cmd, args, envv) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env: envv, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  return performance.now() - t0;
}

/** MB/s of a 512 MiB download from the container's httpd at URL (curl). */
function download(url) {
  const out = sh('curl', ['-s', '-o', '/dev/null', '-w', '%{speed_download}', url]);
  return Number(out) / 2 ** 20;
}

const results = {};
const load0 = os.loadavg()[0];
try {
  const { openStore } = await import('../dist/store/store.js');
  const { ensureBusybox } = await import('../dist/store/busybox.js');
  const store = await openStore(env.STRATA_ROOT);
  const image = await ensureBusybox(store);
  const layer = await store.layerPath(image.config.rootfs.diff_ids[0]);
  execFileSync('sh', ['-c', `tar -C '${layer}' -cf - . | podman import -q --change 'CMD ["sh"]' - ${IMAGE} >/dev/null`]);

  // 1. first 200 from run -d -p
  results.firstOk = { strata: [], podman: [] };
  await firstOk('strata', await freePort());
  await firstOk('podman', await freePort());
  for (let i = 0; i < N; i++) {
    for (const tool of ['strata', 'podman']) {
      await settle();
      results.firstOk[tool].push(await firstOk(tool, await freePort()));
    }
  }

  // 2. container to container on a user-defined network
  results.c2c = { strata: [], podman: [] };
  for (const tool of ['strata', 'podman']) {
    const run = tool === 'strata' ? strata : podman;
    const img = tool === 'strata' ? 'busybox' : IMAGE;
    run(['network', 'create', 'benchnet']);
    run(['run', '-d', '--name', 'nc-server', '--network', 'benchnet', img, 'sleep', '3600']);
    run(['run', '-d', '--name', 'nc-client', '--network', 'benchnet', img, 'sleep', '3600']);
    await startSink(tool);
  }
  const servers = { strata: ipOf('strata', 'nc-server', 'benchnet'), podman: ipOf('podman', 'nc-server', 'benchnet') };
  const clients = { strata: pidOf('strata', 'nc-client'), podman: pidOf('podman', 'nc-client') };
  for (let i = 0; i < Math.max(6, N); i++) {
    for (const tool of i % 2 ? ['podman', 'strata'] : ['strata', 'podman']) {
      await settle();
      results.c2c[tool].push(throughput(clients[tool], servers[tool]));
    }
  }
  for (const sink of sinks) sink.kill();
  for (const tool of ['strata', 'podman']) {
    const run = tool === 'strata' ? strata : podman;
    run(['rm', '-f', 'nc-server', 'nc-client'], { allowFail: true });
    run(['network', 'rm', 'benchnet'], { allowFail: true });
  }

  // 3. run --rm start latency, default networks
  results.start = { strata: [], podman: [] };
  const podmanStart = ['run', '--rm', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', IMAGE, 'true'];
  time(strataBin, ['run', '--rm', 'busybox', 'true'], env);
  time('podman', podmanStart, process.env);
  for (let i = 0; i < 2 * N; i++) {
    await settle();
    results.start.strata.push(time(strataBin, ['run', '--rm', 'busybox', 'true'], env));
    await settle();
    results.start.podman.push(time('podman', podmanStart, process.env));
  }

  // 4. published port: the splice relay vs the kernel path (what DNAT would forward over)
  results.publish = { relay: [], dnat: [], routed: [] };
  const port = await freePort();
  strata(['run', '-d', '--name', 'big', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/dev/shm/big bs=1M count=512 2>/dev/null; exec httpd -f -p 80 -h /dev/shm']);
  const bigIp = ipOf('strata', 'big', 'bridge');
  const gateway = strata(['inspect', '--format', '{{.NetworkSettings.Gateway}}', 'big']);
  for (let i = 0; i < 50 && (await get(`http://127.0.0.1:${port}/nothing`)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  // What DNAT publishing would do: a rule (in a table of the benchmark's own) from a local
  // address's port to the container.
  sh('nft', ['-f', '-'], { input: `table ip ${DNAT_TABLE} {\n chain output { type nat hook output priority -100; ip daddr ${gateway} tcp dport ${port} dnat to ${bigIp}:80; }\n}\n` });
  for (let i = 0; i < 5; i++) {
    results.publish.relay.push(download(`http://127.0.0.1:${port}/big`));
    results.publish.dnat.push(download(`http://${gateway}:${port}/big`));
    results.publish.routed.push(download(`http://${bigIp}/big`));
  }
  strata(['rm', '-f', 'big']);
  // Every measurement, for a look at the spread behind the medians.
  process.stderr.write(`raw: ${JSON.stringify(results)}\n`);
} finally {
  for (const sink of sinks) sink.kill();
  spawnSync(strataBin, ['rm', '-f', 'nc-server', 'nc-client', 'big'], { env, stdio: 'ignore' });
  spawnSync(strataBin, ['network', 'rm', 'benchnet'], { env, stdio: 'ignore' });
  spawnSync('podman', ['rm', '-f', 'nc-server', 'nc-client'], { stdio: 'ignore' });
  spawnSync('podman', ['network', 'rm', 'benchnet'], { stdio: 'ignore' });
  spawnSync('podman', ['rmi', '-f', IMAGE], { stdio: 'ignore' });
  spawnSync('nft', ['-f', '-'], { input: `table ip ${DNAT_TABLE}\ndelete table ip ${DNAT_TABLE}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  const { teardownRoot } = await import('../dist/runtime/net/teardown.js');
  teardownRoot(root);
  fs.rmSync(root, { recursive: true, force: true });
}
const load1 = os.loadavg()[0];

const med = (k, t) => median(results[k][t]);
const ratio = (k) => med(k, 'strata') / med(k, 'podman');
const verdict = (r, ok) => `**${r.toFixed(2)}×** — ${ok ? 'met' : 'missed'}`;
const markdown = `## net: container networks (\`run -d -p\`, container to container, \`run --rm\`)

${machine()}; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} during the runs (other work was running on the machine: absolute numbers move with it, the ratios much less). Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/net.mjs ${N}\`. podman uses its own bridge networks (netavark, as root).

| measure | strata | podman | strata / podman | target |
|---|---|---|---|---|
| time to first HTTP 200 from \`run -d -p\` (busybox httpd; median of ${N}) | ${med('firstOk', 'strata').toFixed(0)} ms | ${med('firstOk', 'podman').toFixed(0)} ms | ${verdict(ratio('firstOk'), ratio('firstOk') <= 0.5)} | ≤ 0.5× |
| container-to-container throughput, user-defined network (2 GiB, Node at both ends pinned to one CPU, in the containers' network namespaces; median of ${results.c2c.strata.length}, ABBA order) | ${med('c2c', 'strata').toFixed(0)} MiB/s | ${med('c2c', 'podman').toFixed(0)} MiB/s | ${verdict(ratio('c2c'), ratio('c2c') >= 0.9)} | ≥ 0.9× |
| \`run --rm busybox true\` on the default network (median of ${2 * N}) | ${med('start', 'strata').toFixed(0)} ms | ${med('start', 'podman').toFixed(0)} ms | ${verdict(ratio('start'), ratio('start') <= 0.35)} | ≤ 0.35× |

Published ports, strata only (512 MiB downloaded with curl from a container's busybox httpd, median of 5):
through \`-p\` on 127.0.0.1 (the splice relay) **${med('publish', 'relay').toFixed(0)} MiB/s**; through a DNAT rule from the
gateway's address and the same port (what DNAT publishing would give) **${med('publish', 'dnat').toFixed(0)} MiB/s**; straight to
the container's address, routed, **${med('publish', 'routed').toFixed(0)} MiB/s** (see src/runtime/README.md for the choice).

Both tools put containers on a Linux bridge through veth pairs, with NAT out, so throughput between
containers is the kernel's either way. strata plumbs a container's namespace with one shell script
run by \`unshare -n\` (one \`ip -batch\` inside, one outside) while it writes the runc bundle, and
runc joins that namespace; podman runs netavark (and, with DNS, aardvark-dns) from conmon after
the container is created. The bridge and the nftables table of a state root are made once, by
its first container; a container start touches no nftables rule.

How \`run -d -p\` starts (\`STRATA_TIMING=1\`; the shim's milestones are in its shim.log, on the
command's clock): the command spawns the shim before the container's record exists, handing it the
\`-p\` values, which it binds as soon as its Node process has loaded (from its own esbuild bundle
through a V8 code cache, \`runtime/shim/start.cjs\`); with it, a small \`sh\` launcher
(\`runtime/shim/runc-launcher.ts\`). Meanwhile the command resolves the image, writes the record,
plumbs the container's namespace and writes its runc bundle; then it tells the shim "go" (and that
the first start is launched) and the launcher to run \`runc run\`, without waiting for the shim to
have loaded. The shim adopts that run (its output and exit status reach it over socket pairs made
at its spawn), starts the splice relay in the plumbed namespace at once, and reports the container
running as soon as runc has started it; the command exits then. The launcher took 16 ms off a plain
\`run -d\` (busybox sleep, 327 → 311 ms median, 16 interleaved rounds, 2026-12-07) but nothing
measurable off the first 200 (20 paired rounds against the build before: +2 ms median): that path
is CPU-bound. In a /proc/stat probe of single starts (2026-12-07 14:58Z) the two cores were busy
800-920 ms of the 900-1000 ms they had between the command's launch and the first 200; the work is
the command's Node process (~150 ms of CPU), the shim's (~60 ms to load, ~100 ms more up to its
news), runc with its init (~60-80 ms), the python3 splice relay (~40-50 ms) and the namespace's
plumbing (unshare, sh, two \`ip\`). Reordering it moves the wait from one to another; 0.5× of
podman's time needs less of it: no Node process in the shim, and no interpreter started for the relay.
`;
writeSection('net', markdown);
process.stdout.write(markdown);
