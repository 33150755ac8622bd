// Long-running containers: (1) time from `strata run -d -p ...` to the first successful HTTP
// request through the published port; (2) a soak of 20 detached containers (each publishing a
// port) started and stopped, counting processes, mounts and network namespaces before and
// after; (3) throughput of the port forwarder against a direct loopback connection for 1 MB
// responses (the same busybox httpd, once in a container behind the forwarder, once on the
// host). Writes the `lifecycle` section of bench/RESULTS.md. Run after `npm run build`, as root:
//   node bench/lifecycle.mjs [--rounds N]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../dist/store/store.js';
import { ensureBusybox } from '../dist/store/busybox.js';
import { machine, median, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'dist', 'cli', 'main.js');
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1]) || 5;
/** `--only forwarder`: just the throughput comparison, printed, RESULTS.md untouched. */
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const SOAK = 20;
const TARGET = 0.5;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-lc-'));
const www = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-www-'));
const env = { ...process.env, STRATA_ROOT: root };

function strata(argv, check = true) {
  const r = spawnSync(process.execPath, [cli, ...argv], { env, encoding: 'utf8' });
  if (check && r.status !== 0) throw new Error(`strata ${argv.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** GET url; resolves with the body length, rejects on any failure. */
function get(port, file) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: file, agent: false }, (res) => {
      let n = 0;
      res.on('data', (d) => (n += d.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function counts() {
  const pids = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  const netns = new Set();
  let mentioning = 0;
  for (const p of pids) {
    try {
      netns.add(fs.readlinkSync(`/proc/${p}/ns/net`));
      // Shims and runc name the root in their command line; port relays and slirp4netns in STRATA_CONTAINER_DIR.
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(root) || fs.readFileSync(`/proc/${p}/environ`, 'utf8').includes(root)) mentioning++;
    } catch {
      // gone meanwhile
    }
  }
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter(Boolean);
  return { processes: pids.length, strataProcesses: mentioning, mounts: mounts.length, rootMounts: mounts.filter((m) => m.includes(root)).length, netns: netns.size };
}

async function timeToFirstRequest() {
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const port = await freePort();
    const t0 = process.hrtime.bigint();
    const id = strata(['run', '-d', '-p', `127.0.0.1:${port}:80`, '-v', `${www}:/www:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
    for (;;) {
      try {
        await get(port, '/small.html');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    strata(['rm', '-f', id]);
  }
  return times;
}

async function soak() {
  const before = counts();
  const t0 = Date.now();
  for (let round = 0; round < 2; round++) {
    const ids = [];
    for (let i = 0; i < SOAK; i++) ids.push(strata(['run', '-d', '-p', '127.0.0.1::80', 'busybox', 'httpd', '-f', '-p', '80']));
    const running = strata(['ps', '-q']).split('\n').filter(Boolean).length;
    if (running !== SOAK) throw new Error(`soak: ${running} running, expected ${SOAK}`);
    strata(['stop', '-t', '0', ...ids]);
    strata(['rm', ...ids]);
  }
  const seconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  return { before, after: counts(), seconds };
}

async function throughput(port, requests = 64, concurrency = 4) {
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) bytes += await get(port, '/1mb.bin');
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return bytes / s / 1e6;
}

async function forwarderRatio() {
  const fwdPort = await freePort();
  const id = strata(['run', '-d', '-p', `127.0.0.1:${fwdPort}:80`, '-v', `${www}:/www:ro`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www']);
  const directPort = await freePort();
  const direct = spawn('/bin/busybox', ['httpd', '-f', '-p', `127.0.0.1:${directPort}`, '-h', www], { stdio: 'ignore' });
  try {
    for (;;) {
      try {
        await get(fwdPort, '/small.html');
        await get(directPort, '/small.html');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await throughput(fwdPort, 16);
    await throughput(directPort, 16);
    // Pairs of rounds, direct then forwarded, back to back: the machine's load drifts less
    // within a pair than across the run, so the ratio is taken per pair, then the median.
    const viaForwarder = [];
    const viaDirect = [];
    const ratios = [];
    for (let i = 0; i < ROUNDS * 2 - 1; i++) {
      const d = await throughput(directPort);
      const f = await throughput(fwdPort);
      viaDirect.push(d);
      viaForwarder.push(f);
      ratios.push(f / d);
    }
    return { forwarder: median(viaForwarder), direct: median(viaDirect), ratio: median(ratios), pairs: ratios.length };
  } finally {
    direct.kill('SIGKILL');
    strata(['rm', '-f', id], false);
  }
}

try {
  await ensureBusybox(await openStore(root));
  fs.writeFileSync(path.join(www, 'small.html'), 'ok\n');
  fs.writeFileSync(path.join(www, '1mb.bin'), Buffer.alloc(1 << 20, 7));
  if (ONLY === 'forwarder') {
    const { forwarder, direct, ratio } = await forwarderRatio();
    console.log(`forwarder ${forwarder.toFixed(0)} MB/s, direct ${direct.toFixed(0)} MB/s, ratio ${ratio.toFixed(2)}`);
  } else {
    await fullRun();
  }
} finally {
  cleanup();
}

async function fullRun() {
  // Throughput first, on a machine not yet busy with the soak's shims winding down.
  const ratio = await forwarderRatio();
  const first = await timeToFirstRequest();
  const soakResult = await soak();
  const r = ratio.ratio;
  const b = soakResult.before;
  const a = soakResult.after;
  const md = `## lifecycle

Detached containers under their shims (\`strata run -d\`), from \`dist/\`, on a private state root.

**Time from \`run -d -p 127.0.0.1:PORT:80 -v DIR:/www:ro busybox httpd ...\` to the first HTTP 200 through the published port** (the CLI spawn included): median **${median(first).toFixed(0)} ms** over ${ROUNDS} runs (min ${Math.min(...first).toFixed(0)}, max ${Math.max(...first).toFixed(0)}).

**Soak**: 2 rounds of ${SOAK} detached \`httpd\` containers, each publishing a port, started, all checked running, stopped (\`stop -t 0\`) and removed, in ${soakResult.seconds.toFixed(1)} s.

| | before | after |
| --- | ---: | ---: |
| processes on the host | ${b.processes} | ${a.processes} |
| processes of the state root (shims, runc, port relays, slirp4netns) | ${b.strataProcesses} | ${a.strataProcesses} |
| mounts on the host | ${b.mounts} | ${a.mounts} |
| mounts under the state root | ${b.rootMounts} | ${a.rootMounts} |
| network namespaces in use | ${b.netns} | ${a.netns} |

${a.strataProcesses === 0 && a.rootMounts === 0 ? 'Nothing of strata left behind: no process of the state root and no mount under it — and so no network namespace of ours either, since one lives only while a process or a bind mount holds it.' : '**Leftovers found** (see the counts above).'} The host-wide totals are for information: other jobs run on this machine at the same time.

**Port forwarder throughput, 1 MB responses** (64 GETs, 4 at a time, per round; ${ratio.pairs} pairs of rounds, direct then forwarded, medians; the same busybox httpd serving the same file, in a container behind the forwarder vs on the host's loopback): forwarder **${ratio.forwarder.toFixed(0)} MB/s**, direct **${ratio.direct.toFixed(0)} MB/s**, median ratio per pair **${r.toFixed(2)}** (target ≥ ${TARGET}: ${r >= TARGET ? 'met' : '**not met**'}).

The forwarder: the shim binds the published port on the host and hands the listening socket to a relay that enters the container's network namespace (setns); per connection the relay accepts, connects to 127.0.0.1:PORT inside and moves the bytes with splice(2), never copying them through a process (src/runtime/ports-relay.ts; a Node helper does the same by copying where python3 lacks os.splice). The machine is shared with other jobs (load average ${os.loadavg()[0].toFixed(1)} at the end of the run on ${os.cpus().length} cores), so absolute times are pessimistic; the throughput rounds alternate direct and forwarded to keep the ratio fair.

Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/lifecycle.mjs\`.`;
  writeSection('lifecycle', md);
  console.log(md);
}

function cleanup() {
  const left = spawnSync(process.execPath, [cli, 'ps', '-aq', '--no-trunc'], { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (left.length) spawnSync(process.execPath, [cli, 'rm', '-f', ...left], { env });
  try {
    execFileSync('sh', ['-c', `grep -F '${root}' /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r umount -l`]);
  } catch {
    // nothing mounted
  }
  spawnSync(process.execPath, ['-e', `import('${path.join(here, '..', 'dist', 'runtime', 'net', 'teardown.js')}').then((m) => m.teardownRoot(${JSON.stringify(root)}))`]);
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(www, { recursive: true, force: true });
}
