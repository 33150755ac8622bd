#!/usr/bin/env node
// kill-soak: SIGKILL real strata commands at random moments and check that nothing already
// complete is lost (a developer tool, not part of `npm test`; needs root, runc, docker-registry).
//
//   npm run build && node scripts/kill-soak.mjs [--seed N] [--iterations N] [--minutes M] [--ops a,b] [--keep]
//
// On its own scratch state root (/tmp/kill-soak-SEED) and its own docker-registry on a free
// 127.0.0.1 port, it repeatedly starts one command from a mix (build with/without --no-cache,
// run --rm, run -d, stop, rm -f, commit, tag, rmi, save, load, volume create/rm, network
// create/rm, cp, push, pull), SIGKILLs it (the process alone, or its whole process group) after a
// random delay from a seeded PRNG, then runs `system check` (now and then --full), images, ps -a,
// volume ls, network ls and checks what existed before the killed command is still there and
// intact. At the end everything is removed and no mount, bridge, veth, nft table or process of
// the root may be left. Problems are printed as "PROBLEM ..." lines with the seed and iteration;
// replay one with the same --seed. Exit code 1 when any problem was seen.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const { prng } = await import(path.join(repo, 'dist/testing/prng.js'));
const { startRegistry } = await import(path.join(repo, 'dist/registry/testing/registry-server.js'));
const { rootIdentity } = await import(path.join(repo, 'dist/runtime/net/names.js'));
const { teardownRoot } = await import(path.join(repo, 'dist/runtime/net/teardown.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const seed = Number(opt('seed', String(Date.now() % 1_000_000)));
const iterations = Number(opt('iterations', '200'));
const minutes = Number(opt('minutes', '0'));
const keep = argv.includes('--keep');
/** --ops a,b: only these operations (names as printed: build, run-rm, volume-rm, ...). */
const only = opt('ops', '') ? new Set(opt('ops', '').split(',')) : null;
const rand = prng(seed);
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;

const root = `/tmp/kill-soak-${seed}`;
const work = `/tmp/kill-soak-${seed}-work`;
const START = path.join(repo, 'dist/cli/start.cjs');
const ENV = {
  ...process.env,
  STRATA_ROOT: root,
  STRATA_REGISTRIES_CONFIG: path.join(repo, 'testdata/registry/offline.json'),
};
delete ENV.STRATA_FAILPOINT;

const problems = [];
let iter = 0;
let current = '';
function problem(text) {
  const line = `PROBLEM seed=${seed} iter=${iter} after [${current}]: ${text}`;
  problems.push(line);
  console.log(line);
}
const log = (t) => console.log(t);

/** Runs strata to completion (the checks). */
function strata(args, { timeout = 90_000, input } = {}) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--', START, ...args], { env: ENV, encoding: 'utf8', timeout, input, maxBuffer: 64 << 20 });
  const out = { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM') problem(`strata ${args.join(' ')} hung (>${timeout} ms): ${out.stderr.slice(-300)}`);
  checkText(args, out);
  return out;
}

function checkText(args, out) {
  const text = out.stdout + out.stderr;
  if (/^\s+at .+\(.*:\d+:\d+\)$/m.test(text) || /^\s+at (node:|file:)/m.test(text)) problem(`strata ${args.join(' ')} printed a stack trace: ${out.stderr.slice(0, 600)}`);
  if (/locked by/i.test(text)) problem(`strata ${args.join(' ')} said "locked by": ${out.stderr.trim().slice(0, 300)}`);
  if (/\/tmp\/kill-soak-\d+\/tmp\//.test(out.stderr)) problem(`strata ${args.join(' ')} named a temp path: ${out.stderr.trim().slice(0, 300)}`);
}

function must(args, opts) {
  const r = strata(args, opts);
  if (r.status !== 0) problem(`strata ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().slice(0, 400)}`);
  return r;
}

// ---- the model: what is complete and must survive -------------------------------------------
/** name → image id */
const images = new Map();
/** name → { id, running } */
const containers = new Map();
/** name → content of its file "f" */
const volumes = new Map();
/** name → id */
const networks = new Map();
/** archive path → names in it (complete archives) */
const archives = new Map();
let pushed = null; // { ref, id }

let counter = 0;
const fresh = (p) => `${p}${++counter}`;

function imageId(name) {
  const r = strata(['image', 'inspect', '-f', '{{.Id}}', name]);
  return r.status === 0 ? r.stdout.trim() : null;
}

function makeContext() {
  const ctx = path.join(work, 'ctx');
  fs.mkdirSync(path.join(ctx, 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(ctx, 'sub', `f${i}.txt`), `file ${i} ${'x'.repeat(i * 100)}\n`);
  fs.writeFileSync(path.join(ctx, 'big.bin'), Buffer.alloc(3 << 20, 7));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
    'FROM busybox',
    'ARG N=0',
    'COPY . /ctx/',
    'RUN echo "built $N" > /marker && sleep 0.2 && dd if=/dev/zero of=/blob bs=64k count=16 2>/dev/null',
    '',
  ].join('\n'));
  return ctx;
}

// ---- operations: each returns { args, victims, after(result, killed) } ---------------------
// victims: names the command may change: { images: [], containers: [], volumes: [], networks: [] }
function ops(reg, ctx) {
  const imgNames = () => [...images.keys()];
  const running = () => [...containers].filter(([, c]) => c.running).map(([n]) => n);
  const list = [
    ['build', 3, () => {
      const name = chance(0.5) && images.size > 2 ? pick(imgNames().filter((n) => n.startsWith('soak/b')).concat(['soak/b0'])) : fresh('soak/b');
      const args = ['build', '-q', '-t', name, '--build-arg', `N=${Math.floor(rand() * 3)}`];
      if (chance(0.4)) args.push('--no-cache');
      args.push(ctx);
      return { args, victims: { images: [name] }, after: (r, killed) => settleImage(name, r, killed) };
    }],
    ['run-rm', 2, () => {
      const img = pick(imgNames());
      return { args: ['run', '--rm', img, 'sh', '-c', 'echo hi > /tmp/x; sleep 0.3; cat /tmp/x'], victims: {}, after: () => {} };
    }],
    ['run-d', 2, () => {
      if (containers.size > 5) return null;
      const name = fresh('d');
      const args = ['run', '-d', '--name', name];
      if (chance(0.3) && networks.size) args.push('--network', pick([...networks.keys()]));
      if (chance(0.3) && volumes.size) args.push('-v', `${pick([...volumes.keys()])}:/vol`);
      if (chance(0.3)) args.push('-p', '127.0.0.1::80');
      if (chance(0.2)) args.push('--rm');
      args.push(pick(imgNames()), 'sleep', '10000');
      return { args, victims: { containers: [name] }, after: (r, killed) => settleContainer(name, r, killed) };
    }],
    ['stop', 1, () => {
      const rs = running();
      if (!rs.length) return null;
      const name = pick(rs);
      return { args: ['stop', '-t', '1', name], victims: { containers: [name] }, after: (r, killed) => settleContainer(name, r, killed) };
    }],
    ['rm-f', 1, () => {
      if (!containers.size) return null;
      const name = pick([...containers.keys()]);
      return { args: ['rm', '-f', name], victims: { containers: [name] }, after: (r, killed) => settleContainer(name, r, killed) };
    }],
    ['commit', 1, () => {
      if (!containers.size) return null;
      const c = pick([...containers.keys()]);
      const name = fresh('soak/c');
      return { args: ['commit', c, name], victims: { images: [name] }, after: (r, killed) => settleImage(name, r, killed) };
    }],
    ['tag', 1, () => {
      const name = fresh('soak/t');
      return { args: ['tag', pick(imgNames()), name], victims: { images: [name] }, after: (r, killed) => settleImage(name, r, killed) };
    }],
    ['rmi', 1, () => {
      const cand = imgNames().filter((n) => n !== 'busybox:latest' && n !== 'soak/base');
      if (cand.length < 2) return null;
      const name = pick(cand);
      return { args: ['rmi', name], victims: { images: [name] }, after: (r, killed) => settleImage(name, r, killed) };
    }],
    ['save', 1, () => {
      const names = [pick(imgNames())];
      if (chance(0.5)) names.push(pick(imgNames()));
      const file = path.join(work, `${fresh('save')}.tar`);
      return {
        args: ['save', '-o', file, ...new Set(names)], victims: {}, after: (r, killed) => {
          const exists = fs.existsSync(file);
          if (r.status === 0 && !killed) archives.set(file, [...new Set(names)]);
          else if (exists) { archives.set(file, [...new Set(names)]); log(`  (killed save left ${path.basename(file)}: must be complete)`); }
        },
      };
    }],
    ['load', 1, () => {
      if (!archives.size) return null;
      const file = pick([...archives.keys()]);
      const names = archives.get(file);
      return { args: ['load', '-q', '-i', file], victims: { images: names }, after: (r, killed) => {
        if (r.status !== 0 && !killed) problem(`load of a complete archive ${path.basename(file)} failed: ${r.stderr.trim()}`);
        for (const n of names) settleImage(n, r, killed, true);
      } };
    }],
    ['volume-create', 1, () => {
      if (volumes.size > 5) return null;
      const name = fresh('vol');
      return { args: ['volume', 'create', name], victims: { volumes: [name] }, after: (r, killed) => {
        const there = strata(['volume', 'inspect', name]).status === 0;
        if (!killed && !there) problem(`volume ${name} created but not there`);
        if (there) {
          const data = `data of ${name} ${rand()}`;
          const w = must(['run', '--rm', '-v', `${name}:/v`, 'busybox', 'sh', '-c', `echo '${data}' > /v/f && sync`]);
          if (w.status === 0) volumes.set(name, `${data}\n`);
        }
      } };
    }],
    ['volume-rm', 1, () => {
      if (!volumes.size) return null;
      const name = pick([...volumes.keys()]);
      // A volume a container uses must be refused (and keep its data, killed or not).
      const used = volumeInUse(name);
      return { args: ['volume', 'rm', name], victims: { volumes: used ? [] : [name] }, after: (r, killed) => {
        if (used) {
          if (r.status === 0) problem(`volume rm ${name} succeeded while a container uses it`);
          return;
        }
        const there = strata(['volume', 'inspect', name]).status === 0;
        if (!killed && r.status === 0 && there) problem(`volume rm ${name} succeeded, volume still there`);
        if (there) volumes.set(name, volumes.get(name)); else volumes.delete(name);
        if (there) checkVolume(name, 'after its own killed rm');
      } };
    }],
    ['network-create', 1, () => {
      if (networks.size > 3) return null;
      const name = fresh('net');
      return { args: ['network', 'create', name], victims: { networks: [name] }, after: (r, killed) => {
        const i = strata(['network', 'inspect', '-f', '{{.Id}}', name]);
        if (i.status === 0) networks.set(name, i.stdout.trim());
        else if (!killed) problem(`network ${name} created but not there`);
      } };
    }],
    ['network-rm', 1, () => {
      const used = new Set();
      // As Docker's: only running containers have endpoints (a stopped one's network may go).
      for (const [n, c] of containers) if (c.running) for (const net of containerNetworks(n)) used.add(net);
      if (!networks.size) return null;
      const name = pick([...networks.keys()]);
      // A network a container is attached to must be refused, killed or not.
      const inUse = used.has(name);
      return { args: ['network', 'rm', name], victims: { networks: inUse ? [] : [name] }, after: (r, killed) => {
        if (inUse) {
          if (r.status === 0) problem(`network rm ${name} succeeded while a container is attached`);
          return;
        }
        const i = strata(['network', 'inspect', '-f', '{{.Id}}', name]);
        if (i.status === 0) { if (!killed) problem(`network rm ${name} succeeded, network still there`); }
        else networks.delete(name);
      } };
    }],
    ['start', 1, () => {
      const stopped = [...containers].filter(([, c]) => !c.running).map(([n]) => n);
      if (!stopped.length) return null;
      const name = pick(stopped);
      return { args: ['start', name], victims: { containers: [name] }, after: (r, killed) => settleContainer(name, r, killed) };
    }],
    ['restart', 1, () => {
      if (!containers.size) return null;
      const name = pick([...containers.keys()]);
      return { args: ['restart', '-t', '1', name], victims: { containers: [name] }, after: (r, killed) => settleContainer(name, r, killed) };
    }],
    ['exec', 1, () => {
      const rs = running();
      if (!rs.length) return null;
      return { args: ['exec', pick(rs), 'sh', '-c', 'echo x > /tmp/e; sleep 0.3'], victims: {}, after: () => {} };
    }],
    ['volume-prune', 1, () => {
      // Only volumes no container uses may go (-a: named ones too).
      const unused = [...volumes.keys()].filter((v) => !volumeInUse(v));
      return { args: ['volume', 'prune', '-a', '-f'], victims: { volumes: unused }, after: () => {
        for (const v of unused) if (strata(['volume', 'inspect', v]).status !== 0) volumes.delete(v);
      } };
    }],
    ['container-prune', 1, () => {
      const stopped = [...containers].filter(([, c]) => !c.running).map(([n]) => n);
      return { args: ['container', 'prune', '-f'], victims: { containers: stopped }, after: () => {
        for (const n of stopped) settleContainer(n);
      } };
    }],
    ['cp', 1, () => {
      if (!containers.size) return null;
      const name = pick([...containers.keys()]);
      const src = path.join(work, 'cpfile');
      fs.writeFileSync(src, Buffer.alloc(1 << 20, 3));
      return { args: ['cp', src, `${name}:/tmp/`], victims: {}, after: () => {} };
    }],
    ['push', 1, () => {
      const img = pick(imgNames());
      const ref = `${reg.host}/soak/p:${Math.floor(rand() * 2)}`;
      return { args: ['push', '-q', ref], pre: [['tag', img, ref]], victims: { images: [ref] }, after: (r, killed) => {
        if (r.status === 0 && !killed) pushed = { ref, id: images.get(ref) };
        settleImage(ref, { status: 0 }, false);
      } };
    }],
    ['pull', 1, () => {
      if (!pushed) return null;
      const name = pushed.ref;
      if (chance(0.5) && images.has(name)) {
        return { args: ['pull', '-q', name], pre: [['rmi', name]], victims: { images: [name] }, after: (r, killed) => settleImage(name, r, killed) };
      }
      return { args: ['pull', '-q', name], victims: { images: [name] }, after: (r, killed) => settleImage(name, r, killed) };
    }],
  ];
  return list;
}

function containerNetworks(name) {
  const r = strata(['inspect', '-f', '{{json .NetworkSettings.Networks}}', name]);
  if (r.status !== 0) return [];
  try { return Object.keys(JSON.parse(r.stdout)); } catch { return []; }
}
function volumeInUse(v) {
  for (const [n] of containers) {
    const r = strata(['inspect', '-f', '{{json .Mounts}}', n]);
    if (r.status === 0 && r.stdout.includes(`"Name":"${v}"`)) return true;
  }
  return false;
}

/** After a command that may have changed image NAME: a name that is there must be complete. */
function settleImage(name, r, killed, fromLoad = false) {
  const id = imageId(name);
  if (id) {
    images.set(name, id);
    checkImageRuns(name);
  } else {
    if (!killed && r.status === 0 && !fromLoad && !r.removal) {
      // rmi succeeded: fine. Otherwise a successful command must have made it.
    }
    images.delete(name);
  }
}

function settleContainer(name, r, killed) {
  const i = strata(['inspect', '-f', '{{.Id}} {{.State.Running}}', name]);
  if (i.status !== 0) { containers.delete(name); return; }
  const [id, run] = i.stdout.trim().split(' ');
  containers.set(name, { id, running: run === 'true' });
}

function checkImageRuns(name) {
  const r = strata(['run', '--rm', name, 'sh', '-c', 'cat /marker 2>/dev/null; ls / >/dev/null && echo ok']);
  if (r.status !== 0 || !r.stdout.includes('ok')) problem(`image ${name} (${images.get(name)}) does not run: ${r.status} ${r.stderr.trim().slice(0, 300)}`);
}

function checkVolume(name, why) {
  const want = volumes.get(name);
  const file = path.join(root, 'volumes', name, '_data', 'f');
  let got;
  try { got = fs.readFileSync(file, 'utf8'); } catch (e) { got = `<${e.code}>`; }
  if (got !== want) problem(`volume ${name}'s data ${why}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

// ---- invariants after every command --------------------------------------------------------
function checkAll(victims, full) {
  const chk = strata(['system', 'check', ...(full ? ['--full'] : [])], { timeout: 180_000 });
  if (chk.status !== 0 || !/no damage found/.test(chk.stdout)) problem(`system check${full ? ' --full' : ''}: ${chk.status} ${(chk.stdout + chk.stderr).trim().slice(0, 600)}`);
  const ls = must(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  must(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
  must(['volume', 'ls', '--format', '{{.Name}}']);
  must(['network', 'ls', '--format', '{{.ID}} {{.Name}}']);
  const v = (k) => new Set(victims[k] ?? []);
  for (const [name, id] of images) {
    if (v('images').has(name)) continue;
    const r = strata(['image', 'inspect', '-f', '{{.Id}}', name]);
    const now = r.status === 0 ? r.stdout.trim() : null;
    if (now !== id) problem(`image ${name} was ${id}, now ${now} (not touched by the killed command)${now ? '' : `: ${r.stderr.trim()}`}`);
  }
  if (images.size && chance(0.3)) {
    const name = pick([...images.keys()]);
    if (!v('images').has(name)) checkImageRuns(name);
  }
  const psOut = strata(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']).stdout;
  for (const [name, c] of containers) {
    if (v('containers').has(name)) continue;
    const line = psOut.split('\n').find((l) => l.split(' ')[1] === name);
    if (!line) { problem(`container ${name} (${c.id}) vanished`); containers.delete(name); continue; }
    const running = line.split(' ')[2] === 'running';
    if (running !== c.running) { problem(`container ${name} was ${c.running ? 'running' : 'stopped'}, now ${line}`); c.running = running; }
  }
  // A --rm container that exited is removed, also when its run was killed (the sweep takes it).
  const untracked = psOut.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
  if (untracked.length) {
    const r = strata(['inspect', '-f', '{{.Name}} {{.HostConfig.AutoRemove}} {{.State.Status}}', ...untracked]);
    for (const l of r.stdout.split('\n')) if (/ true exited$/.test(l)) problem(`--rm container ${l.split(' ')[0]} left exited`);
  }
  for (const name of volumes.keys()) if (!v('volumes').has(name)) checkVolume(name, 'not touched by the killed command');
  const netOut = strata(['network', 'ls', '--format', '{{.Name}}']).stdout.split('\n');
  for (const name of networks.keys()) if (!v('networks').has(name) && !netOut.includes(name)) problem(`network ${name} vanished`);
  checkProcesses(psOut);
  checkMounts(false);
  return ls;
}

function environOf(pid) {
  try { return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'); } catch { return null; }
}
function rootProcesses() {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    const env = environOf(p);
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' '); } catch { continue; }
    if (!(env?.includes(`STRATA_ROOT=${root}`) || cmd.includes(`${root}/`) || cmd.includes(`${root} `))) continue;
    let fds = [];
    try { fds = fs.readdirSync(`/proc/${p}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${p}/fd/${f}`); } catch { return ''; } }); } catch { /* gone */ }
    out.push({ pid: Number(p), cmd, env: env ?? [], fds });
  }
  return out;
}
/** Processes of containers that are gone (shims, relays, runc) or of networks that are gone. */
function checkProcesses(psOut) {
  const ids = new Set(psOut.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
  const netIds = new Set(fs.existsSync(path.join(root, 'networks')) ? fs.readdirSync(path.join(root, 'networks')) : []);
  for (const p of rootProcesses()) {
    const text = [p.cmd, ...p.env.filter((e) => e.startsWith('STRATA_CONTAINER_DIR=')), ...p.fds].join(' ');
    const m = text.match(/\/containers\/([0-9a-f]{64})/);
    if (m) {
      if (!ids.has(m[1])) problem(`process ${p.pid} (${p.cmd.slice(0, 120)}) of removed container ${m[1].slice(0, 12)} left`);
      continue;
    }
    // A network's DNS responder: started from its bundle (dns/start.cjs), or its ES entry.
    const dns = p.cmd.match(/dns\/(?:start\.cjs|main\.js) \S+ ([0-9a-f]{64})/);
    if (dns) {
      if (!netIds.has(dns[1])) problem(`DNS responder ${p.pid} of removed network ${dns[1].slice(0, 12)} left`);
      continue;
    }
    // The runtime's launcher of a `run -d` (runtime/shim/runc-launcher.ts) stays the parent of
    // its container's runc: tied to the container its child runs.
    if (p.cmd.includes('strata-runc-launcher')) {
      const child = childrenOf(p.pid).map((c) => c.match(/\/containers\/([0-9a-f]{64})/)?.[1]).find(Boolean);
      if (!child) problem(`runc launcher ${p.pid} without a run left`);
      else if (!ids.has(child)) problem(`runc launcher ${p.pid} of removed container ${child.slice(0, 12)} left`);
      continue;
    }
    problem(`process ${p.pid} of the root not tied to a container or network: ${p.cmd.slice(0, 200)}`);
  }
}
/** The command lines of PID's children. */
function childrenOf(pid) {
  const out = [];
  for (const c of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(c)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${c}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue;
      out.push(fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' '));
    } catch { /* gone */ }
  }
  return out;
}
function checkMounts(final) {
  const mi = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${root}/`) || l.includes(` ${root} `));
  if (mi.length) problem(`${final ? 'after the final sweep: ' : ''}mounts under the root: ${mi.slice(0, 3).join(' | ')}`);
}
function checkKernel() {
  const { id } = rootIdentity(root);
  const bridges = new Set();
  const netDir = path.join(root, 'networks');
  for (const n of fs.existsSync(netDir) ? fs.readdirSync(netDir) : []) {
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(netDir, n, 'network.json'), 'utf8'));
      if (rec.Strata?.bridge) bridges.add(rec.Strata.bridge);
    } catch { /* not a record */ }
  }
  // A veth lives as long as its container's network namespace: it must be named by an endpoint
  // of a running container (a container's processes may take a moment to go: looked at again).
  const running = new Set(strata(['ps', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean));
  const veths = new Map();
  for (const n of fs.existsSync(netDir) ? fs.readdirSync(netDir) : []) {
    const eps = path.join(netDir, n, 'endpoints');
    for (const e of fs.existsSync(eps) ? fs.readdirSync(eps) : []) {
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(eps, e), 'utf8'));
        veths.set(rec.Veth, rec.ContainerId);
      } catch { /* a temp */ }
    }
  }
  const links = () => spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter(Boolean);
  let stray = [];
  for (let tries = 0; tries < 5; tries++) {
    stray = links().filter((l) => (l.startsWith(`sb${id}`) && !bridges.has(l)) || (l.startsWith(`sv${id}`) && !running.has(veths.get(l))));
    if (!stray.length) break;
    spawnSync('sleep', ['1']);
  }
  for (const l of stray) {
    if (l.startsWith(`sb${id}`)) problem(`bridge ${l} of a removed network left`);
    else problem(`veth ${l} left: ${veths.has(l) ? `its container ${veths.get(l).slice(0, 12)} is not running` : 'no endpoint names it'}`);
  }
  const nft = spawnSync('nft', ['list', 'table', 'ip', `strata_${id}`], { encoding: 'utf8' });
  if (nft.status === 0) for (const m of nft.stdout.matchAll(/"(sb[0-9a-f]+)"/g)) if (!bridges.has(m[1])) problem(`nft rule for removed bridge ${m[1]} left`);
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  if (netns.includes(id)) problem(`netns of the root left: ${netns.trim()}`);
}

// ---- the killed command ---------------------------------------------------------------------
const durations = new Map();
function runKilled(args, delayMs, group) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--', START, ...args], { env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    let killed = false;
    const timer = delayMs == null ? null : setTimeout(() => {
      killed = true;
      try { process.kill(group ? -child.pid : child.pid, 'SIGKILL'); } catch { killed = false; }
    }, delayMs);
    const hang = setTimeout(() => { problem(`strata ${args.join(' ')} hung (no kill planned)`); process.kill(-child.pid, 'SIGKILL'); }, 180_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(hang);
      if (signal !== 'SIGKILL') killed = false;
      resolve({ status: code, signal, stdout, stderr, killed, ms: Date.now() - t0 });
    });
  });
}

async function main() {
  log(`kill-soak seed=${seed} root=${root} iterations=${iterations}${minutes ? ` minutes=${minutes}` : ''}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  if (fs.existsSync(root)) throw new Error(`${root} exists: remove it or pick another seed`);
  fs.mkdirSync(root);
  const reg = await startRegistry();
  log(`registry on ${reg.host}`);
  const deadline = minutes ? Date.now() + minutes * 60_000 : Infinity;
  try {
    must(['setup']);
    const ctx = makeContext();
    images.set('busybox:latest', imageId('busybox:latest'));
    must(['build', '-q', '-t', 'soak/base', ctx]);
    images.set('soak/base', imageId('soak/base'));
    must(['volume', 'create', 'keep']);
    must(['run', '--rm', '-v', 'keep:/v', 'busybox', 'sh', '-c', 'echo kept > /v/f']);
    volumes.set('keep', 'kept\n');
    must(['network', 'create', 'keepnet']);
    networks.set('keepnet', strata(['network', 'inspect', '-f', '{{.Id}}', 'keepnet']).stdout.trim());
    must(['run', '-d', '--name', 'keepc', '--network', 'keepnet', '-v', 'keep:/vol', 'soak/base', 'sleep', '100000']);
    settleContainer('keepc');
    const table = ops(reg, ctx);
    const weighted = table.filter(([name]) => !only || only.has(name)).flatMap(([name, w, make]) => Array(w).fill([name, make]));
    for (iter = 1; iter <= iterations && Date.now() < deadline; iter++) {
      let made = null;
      let opName = '';
      for (let tries = 0; !made && tries < 20; tries++) {
        const [n, make] = pick(weighted);
        opName = n;
        made = make();
      }
      if (!made) continue;
      for (const pre of made.pre ?? []) strata(pre);
      const avg = durations.get(opName) ?? 1500;
      const noKill = chance(0.15);
      const delay = noKill ? null : Math.floor(rand() * avg);
      const group = chance(0.5);
      current = `${made.args.join(' ')}${delay == null ? '' : ` killed at ${delay} ms${group ? ' (group)' : ''}`}`;
      const r = await runKilled(made.args, delay, group);
      if (!r.killed && r.status === 0) durations.set(opName, Math.round(((durations.get(opName) ?? r.ms) * 3 + r.ms) / 4));
      log(`#${iter} ${opName}: ${current} -> ${r.killed ? 'KILLED' : `exit ${r.status}`} (${r.ms} ms)`);
      if (!r.killed) checkText(made.args, r);
      if (!r.killed && r.status !== 0 && !/^Error: /m.test(r.stderr)) problem(`exit ${r.status} without an "Error:" line: ${r.stderr.slice(0, 300)}`);
      if (!r.killed && r.status !== 0) log(`   ${r.stderr.trim().split('\n').slice(-1)[0]}`);
      made.after(r, r.killed);
      checkAll(made.victims, iter % 10 === 0);
      // A killed save's temp file beside its FILE is noted in the root: the commands since swept it.
      const temps = fs.readdirSync(work).filter((f) => f.startsWith('.tmp'));
      if (temps.length) problem(`temp files left beside save's FILE after the next commands: ${temps.join(' ')}`);
      if (iter % 5 === 0) checkKernel();
    }
    // Final sweep: remove everything, then nothing of the root may be left in the kernel.
    current = 'final sweep';
    const ids = strata(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) must(['rm', '-f', ...ids]);
    const nets = strata(['network', 'ls', '--format', '{{.Name}}']).stdout.split('\n').filter((n) => n && !['host', 'none', 'bridge'].includes(n));
    if (nets.length) must(['network', 'rm', ...nets]);
    const vols = strata(['volume', 'ls', '-q']).stdout.split('\n').filter(Boolean);
    if (vols.length) must(['volume', 'rm', ...vols]);
    must(['system', 'check', '--full'], { timeout: 300_000 });
    await new Promise((r) => setTimeout(r, 2000));
    checkProcesses('');
    checkMounts(true);
    checkKernel();
  } finally {
    await reg.close();
    if (!keep) {
      teardownRoot(root);
      spawnSync('rm', ['-rf', '--one-file-system', root, work]);
    }
  }
  log(`done: seed=${seed} iterations=${iter - 1} problems=${problems.length}`);
  for (const p of problems) log(p);
  process.exitCode = problems.length ? 1 : 0;
}

await main();
