// pull and push of a 256 MiB image (half random data, half text) against one local registry
// (Debian's docker-registry on 127.0.0.1, plain http), side by side with podman pull/push and
// skopeo copy: cold (a fresh registry for a push, an empty store for a pull) and warm (the
// registry already has the blobs; the store already has the image).
// Usage: npm run build && node bench/registry.mjs [--push-only]
// --push-only measures the pushes alone and keeps the pull rows of the section as they are
// (with the run they came from).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, tryRun, writeSection } from './lib/results.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The strata command as users run it (bin/strata: Node without NODE_EXTRA_CA_CERTS at start-up, see the run section).
const cli = path.join(here, '..', 'bin', 'strata');
const { startRegistry, registryAvailable } = await import('../dist/registry/testing/registry-server.js');
const { ensureBusybox, openStore } = await import('../dist/store/index.js');

if (!registryAvailable) {
  console.error('bench/registry.mjs: docker-registry is not installed (apt-get install docker-registry)');
  process.exit(1);
}
const ROUNDS = Number(process.env.ROUNDS ?? 3);
// A warm case takes some 0.1 s, near Node's start: several runs in each round steady its median.
const WARM = Number(process.env.WARM ?? 7);
const pushOnly = process.argv.includes('--push-only');
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const load0 = os.loadavg()[0].toFixed(1);
// Short: podman refuses a runroot longer than 50 characters.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-'));
const env = { ...process.env, HOME: path.join(dir, 'home'), DOCKER_CONFIG: path.join(dir, 'docker'), STRATA_REGISTRIES_CONFIG: '' };
// podman reads $DOCKER_CONFIG/config.json when the variable is set: an empty one, no credentials.
fs.mkdirSync(env.DOCKER_CONFIG, { recursive: true });
fs.writeFileSync(path.join(env.DOCKER_CONFIG, 'config.json'), '{}');
const podmanStore = (n) => ['--root', path.join(dir, `pm-${n}`, 'root'), '--runroot', path.join(dir, `pm-${n}`, 'r'), '--storage-driver', 'overlay'];
const havePodman = !!tryRun('podman', ['--version']);
const haveSkopeo = !!tryRun('skopeo', ['--version']);

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { env: { ...env, ...extraEnv }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}
const strata = (root, args) => run(cli, args, { STRATA_ROOT: root });
function timed(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return ms(t0);
}
const timedWarm = (into, fn) => {
  for (let i = 0; i < WARM; i++) into.push(timed(fn));
};

const rows = [];
let pullRowsFrom;
const verdicts = [];
const registries = [];
const fresh = async () => {
  const r = await startRegistry();
  registries.push(r);
  return r;
};
try {
  // The image: busybox + 128 MiB of random data + 128 MiB of text, built by strata.
  const src = path.join(dir, 'src');
  await ensureBusybox(await openStore(src));
  const ctx = path.join(dir, 'ctx');
  fs.mkdirSync(ctx);
  fs.writeFileSync(path.join(ctx, 'random.bin'), randomBytes(128 << 20));
  const line = 'strata registry benchmark: compressible text, some words repeat and some do not 0123456789\n';
  let text = '';
  for (let i = 0; text.length < 128 << 20; i++) text += `${i} ${line}`;
  fs.writeFileSync(path.join(ctx, 'text.txt'), text.slice(0, 128 << 20));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY random.bin /data/\nCOPY text.txt /data/\n');
  strata(src, ['build', '-q', '-t', 'bench/big:1', ctx]);
  const archive = path.join(dir, 'big.tar');
  strata(src, ['save', '-o', archive, 'bench/big:1']);
  const ociArchive = path.join(dir, 'big.oci.tar');
  strata(src, ['save', '--format', 'oci-archive', '-o', ociArchive, 'bench/big:1']);
  if (havePodman) run('podman', [...podmanStore('src'), 'load', '-q', '-i', archive]);

  const t = { strataPushCold: [], strataPushWarm: [], podmanPushCold: [], podmanPushWarm: [], skopeoPushCold: [], skopeoPushWarm: [],
    strataPullCold: [], strataPullWarm: [], podmanPullCold: [], podmanPullWarm: [], skopeoPullCold: [], strataFirstRun: [], podmanFirstRun: [] };
  let pullFrom;
  for (let round = 0; round < ROUNDS; round++) {
    // push: each tool to a registry of its own, empty (cold), then again (warm: the blobs are there)
    const rs = await fresh();
    const ref = `${rs.host}/bench/big:1`;
    strata(src, ['tag', 'bench/big:1', ref]);
    // A cold push compresses: forget what earlier rounds learned of this layer's compressed digest.
    fs.rmSync(path.join(src, 'registry'), { recursive: true, force: true });
    t.strataPushCold.push(timed(() => strata(src, ['push', '-q', ref])));
    timedWarm(t.strataPushWarm, () => strata(src, ['push', '-q', ref]));
    if (havePodman) {
      const rp = await fresh();
      const pref = `${rp.host}/bench/big:1`;
      run('podman', [...podmanStore('src'), 'tag', 'docker.io/bench/big:1', pref]);
      t.podmanPushCold.push(timed(() => run('podman', [...podmanStore('src'), 'push', '-q', '--tls-verify=false', pref])));
      timedWarm(t.podmanPushWarm, () => run('podman', [...podmanStore('src'), 'push', '-q', '--tls-verify=false', pref]));
    }
    if (haveSkopeo) {
      const rk = await fresh();
      const kref = `docker://${rk.host}/bench/big:1`;
      t.skopeoPushCold.push(timed(() => run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${ociArchive}`, kref])));
      timedWarm(t.skopeoPushWarm, () => run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${ociArchive}`, kref]));
    }
    // pull of what strata pushed: into an empty store (cold), then again (warm: nothing to fetch)
    pullFrom = ref;
    if (pushOnly) {
      for (const r of registries.splice(0)) await r.close();
      continue;
    }
    const root = path.join(dir, `pull-${round}`);
    t.strataPullCold.push(timed(() => strata(root, ['pull', '-q', ref])));
    timedWarm(t.strataPullWarm, () => strata(root, ['pull', '-q', ref]));
    // The deferred work made visible: strata keeps pulled layers packed until a container needs them.
    t.strataFirstRun.push(timed(() => strata(root, ['run', '--rm', ref, 'true'])));
    fs.rmSync(root, { recursive: true, force: true });
    if (havePodman) {
      const ps = podmanStore(`p${round}`);
      t.podmanPullCold.push(timed(() => run('podman', [...ps, 'pull', '-q', '--tls-verify=false', ref])));
      timedWarm(t.podmanPullWarm, () => run('podman', [...ps, 'pull', '-q', '--tls-verify=false', ref]));
      try {
        t.podmanFirstRun.push(timed(() => run('podman', [...ps, 'run', '--rm', '--net=none', ref, 'true'])));
      } catch (err) {
        console.error(`podman run: ${err.message.split('\n')[0]}`); // a row without podman rather than no run
      }
      spawnSync('podman', [...ps, 'rmi', '-af']);
    }
    if (haveSkopeo && havePodman) {
      const ps = podmanStore(`k${round}`);
      const dest = `containers-storage:[overlay@${ps[1]}+${ps[3]}]bench/big:1`;
      t.skopeoPullCold.push(timed(() => run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, dest])));
      spawnSync('podman', [...ps, 'rmi', '-af']);
    }
    for (const r of registries.splice(0)) await r.close();
  }
  const m = (a) => (!a.length ? 'n/a' : median(a) < 1000 ? `${Math.round(median(a))} ms` : `${(median(a) / 1000).toFixed(2)} s`);
  const ratio = (a, b) => (a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a');
  const row = (what, s, p, k) => {
    rows.push(`| ${what} | ${m(s)} | ${m(p)} | ${m(k)} | ${ratio(s, p)} |`);
    if (s.length && p.length) verdicts.push(`${what.split(' (')[0]} ${median(s) / median(p) <= 0.7 ? 'met' : 'not met'}`);
  };
  row('push, cold (empty registry: compress + upload)', t.strataPushCold, t.podmanPushCold, t.skopeoPushCold);
  row('push, warm (the registry has the blobs)', t.strataPushWarm, t.podmanPushWarm, t.skopeoPushWarm);
  if (pushOnly) {
    // The pull rows of the section's last full run, kept as they are, with their verdicts.
    const old = fs.readFileSync(path.join(here, 'RESULTS.md'), 'utf8');
    const section = old.slice(old.indexOf('<!-- begin registry -->'), old.indexOf('<!-- end registry -->'));
    pullRowsFrom = /Pull rows: from the run of (\S+)/.exec(section)?.[1] ?? /Run: (\S+),/.exec(section)?.[1] ?? 'an earlier run';
    for (const l of section.split('\n').filter((x) => x.startsWith('| pull,'))) {
      rows.push(l);
      const cells = l.split('|').map((c) => c.trim());
      const seconds = (c) => Number.parseFloat(c) / (c.endsWith(' ms') ? 1000 : 1);
      const [sv, pv] = [seconds(cells[2]), seconds(cells[3])];
      if (sv > 0 && pv > 0 && !l.includes('not a target')) verdicts.push(`${cells[1].split(' (')[0]} ${sv / pv <= 0.7 ? 'met' : 'not met'} (run of ${pullRowsFrom})`);
    }
  } else {
    row('pull, cold (empty store)', t.strataPullCold, t.podmanPullCold, t.skopeoPullCold);
    row('pull, warm (the store has the image)', t.strataPullWarm, t.podmanPullWarm, []);
    rows.push(`| pull, then the first run (\`run --rm IMAGE true\`; strata unpacks the packed layers here; not a target) | ${m(t.strataFirstRun)} | ${m(t.podmanFirstRun)} | n/a | ${ratio(t.strataFirstRun, t.podmanFirstRun)} |`);
  }
  console.error(`pulled from ${pullFrom}`);
} finally {
  for (const r of registries) await r.close();
  if (havePodman) for (const d of fs.readdirSync(dir).filter((n) => n.startsWith('pm-'))) {
    spawnSync('podman', [...podmanStore(d.slice('pm-'.length)), 'rmi', '-af']);
    spawnSync('podman', [...podmanStore(d.slice('pm-'.length)), 'system', 'reset', '-f']);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

const md = `## registry: pull and push of a 256 MiB image (half random) vs podman and skopeo

| what | strata | podman | skopeo copy | strata / podman |
| --- | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Medians of ${ROUNDS} rounds (a warm case: ${WARM} runs in each round). The image: busybox +
128 MiB of random bytes + 128 MiB of text (three layers), built by strata; podman's copy
loaded from \`strata save\`, skopeo's source the same image as an oci-archive. One Debian
docker-registry (distribution 2.8) on 127.0.0.1 per tool and round, plain http. Push cold: an empty registry, so every layer is compressed (strata: gzip
level 3 in 1 MiB blocks on both cores, byte-stable; a block whose sampled bytes look random is
stored; each layer streamed in one PATCH; podman: pgzip at its default level) and uploaded;
strata's record of compressed digests is cleared first. Push warm: the same push again (HEAD
finds every blob).
Pull cold: what strata pushed, into an empty store (podman, and skopeo into containers-storage,
with a store of their own); warm: the same pull again. strata keeps a pulled layer packed (its
verified compressed blob) and unpacks it when a container first needs it: the first-run row
shows that deferred work (not a target).

Target: each ≤ 0.7× podman's time. This run: ${verdicts.join('; ') || 'n/a'}.
strata is started as users start it (\`bin/strata\`); \`pull\`/\`push\` with plain flags load a bundle
of their own without yargs. A warm case is mostly process start-up (Node's own start is some
20-25 ms on an idle machine, 60-70 ms at load 6), so its ratio moves most with the machine's load.

Where a cold push's time goes (measured by hand beside the 08:50Z run, load 8-13, \`/usr/bin/time\`
and \`perf\` on one push): the CPU is the two sha256 (the diff_id checked as the tar is rebuilt, the
compressed stream), the deflate of the text, the crc32s, and the kernel's copies (file reads,
socket writes); what made strata slower was memory. In this VM a page touched for the first time
costs ~10 µs, and every MiB of a layer used to be fresh memory (the rebuilt tar's chunks, the
deflate outputs, 32 MiB PATCH chunks gathered while the previous one was sent): 84-94 k page
faults, 280-320 MB peak, 3.3-4.0 s of CPU (podman: 2.4 s). Now a layer streams in one PATCH,
read only as fast as the socket takes it, and its memory cycles (chunks read into buffers the
deflate workers hand back, stored blocks written into buffers the socket is done with): ~26 k
faults, 140 MB, 1.9-2.0 s of CPU.

Where a cold push's time goes now (by hand at 02:13Z, load 3.7-4: STRATA_TIMING's per-layer
milestones, the CPU of strata and of the registry sampled every 50 ms, \`perf\`): the busybox
layer is sent at 0.21-0.23 s, the text (128 MiB → 3.9 MB) at 0.61-0.74 s, the random layer
(stored blocks, 128 MiB) at 0.99 s. strata runs at 130-180% of a core while the text is
deflated, then at ~75% beside the registry at 90-99%: the tail is the registry taking in one
stream (a \`curl\` PATCH of 128 MiB of random bytes to the same registry takes 0.60 s). strata
uses 1.05 s of CPU (user+sys) to podman's 1.9 s: sha256 22% of the samples (the diff_id check of
the rebuilt tar, the compressed stream's digest), crc32 6% (Node's zlib.crc32 is zlib's
crc32_z without SIMD here, 1.8 GB/s), deflate ~9%, memmove 4.5%, the kernel's copies 5%. Side
by side (5 interleaved cold pushes each, a fresh registry for each, medians): at 02:12Z (load
4-5) main 1.56 s, this branch 1.56 s, podman 1.89 s; at 02:21Z (load 5) 1.37 s, 1.25 s and
1.69 s. The ratio moves with the load: the machine's two cores are shared with the registry
(and here with other work), and the runs spread over ±0.4 s.

A warm push and a warm pull are Node's start and little else. On an idle machine (02:03Z, load
~1, 10 interleaved runs): \`node -e 0\` 21-24 ms (NODE_EXTRA_CA_CERTS unset, as bin/strata
does), strata's warm push 58 ms and pull 54 ms, podman's 43 and 45 ms; 0.7× of podman's pull is
31 ms, what Node's start and loading the registry bundle take together, so the target is out of
reach for a Node process on this machine. A warm pull (STRATA_TIMING, medians of 15, load 2-4,
ms since the process started): bundle loaded 29, pull begun 34, manifest fetched 48, done 52.
Loading the bundle is ~8 ms (reading it and its code cache 1.4, compiling from the cache 1.7,
its top level 4.4, mostly the built-ins it needs: fs/promises, stream, net, http); its check
for staleness stat'ed every dist/ file it was made from (~100 stats), now one stat of tsc's
build info (src/bundle-load.cts). The manifest's GET takes 9-13 ms from send to answer for a
registry that answers curl in 1.3-1.8 ms: the first use of node:http in a fresh process (a
bare script: 9.7 ms for load + GET with node:http, 6.5 ms over a raw net socket; not worth a
client of our own). A push asked /v2/ (the ping) while reading the store, then its HEADs; now
the tag's manifest HEAD goes first and, for a loopback registry, stands in for the ping (one
request less; src/registry/round-trips.test.ts checks that no ping is made). Side by side with
main (30 interleaved runs each, 02:20Z, load 5.8): warm push 135 → 112 ms (CPU 63 → 57 ms),
warm pull 121 → 101 ms (CPU 58 → 55 ms); podman 98 and 95 ms (CPU 42 and 43 ms). Tried and
dropped: small store files (index.json, a manifest, a config, repo-digests.json) read
synchronously instead of through the thread pool (no change in CPU over 30 runs); a larger
young generation (\`node --min-semi-space-size=16\`, no scavenge in a warm pull): +14-15 ms of
CPU over 40 interleaved runs, even with a code cache made under the flag (a V8 flag that differs
also makes V8 reject a cache made without it); node:child_process loaded lazily (no measurable cost
once http and the streams are loaded); the sweep of leftovers skipped (1-2 ms of CPU, 40
interleaved runs; kept); SHA-256 in JavaScript for the few small documents a warm case hashes,
so that node:crypto is not loaded (0.9 ms instead of 2.7 ms in a bare script; over 60
interleaved runs at load 5 the CPU moved by 0 and -1.3 ms, within the noise: not kept).

Where a cold pull's time goes (measured by hand at 13:15-14:05Z, load 4-6, \`perf\`, \`--cpu-prof\`,
\`/usr/bin/time\` on single pulls of this image): the main thread is the bottleneck (~1.4 s busy of
~2 s): the two sha256 (compressed blob, diff_id: ~410 MB at ~1 GB/s), Node's http body copies,
and handing work to threads. Each write to the partial file and each inflate step is a libuv
thread-pool item, and waking a thread is costly in this VM (a futex wake-up shows as
\`pvm_irq_enable\`, 16-18% of the samples): 64 KiB socket reads made ~11 k wake-ups per pull. Now
what arrives while a write is under way goes out in one writev, and the import takes what is
queued in one piece (up to 1 MiB, gunzip output in 1 MiB): ~2.5 k wake-ups, and side by side
with the code before (4 interleaved pulls each, load 6.2-6.3) CPU 2.09 s → 1.88 s, wall 2.39 s →
2.23 s. Left: ~30 k page faults (fresh memory for Node's socket reads, http body copies and
gunzip's output buffers, which only the GC frees; a reuse of the joined input pieces did not
move the count, so it was not kept; tried again at 18:47Z with the inflate's write callbacks:
no change either). The kept blob's fsync before its rename waited 60-90 ms for the disk after
the last byte (strace -T); a datasync every 32 MiB along the download now leaves it the tail.
Tried and dropped: the diff_id hashed in a pool thread (gunzip's full 1 MiB buffers moved
there, the rest copied) cost more CPU (1.55 → 1.8 s over 4 interleaved pulls) for no faster
wall. A \`--cpu-prof\` of a cold pull (18:47Z, load 7) still has the main thread in http parsing
with its body copies (255 ms), sha256 (190 ms), Buffer copies (157 ms), writev submissions
(153 ms) and the gunzip stream (134 ms): the next step would be a blob download on a raw socket
reading into reused memory (no http body copies, no fresh 64 KiB buffers).

Machine: ${machine()}; load average ${load0} → ${os.loadavg()[0].toFixed(1)} during the run
(other work shared the machine).
Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/registry.mjs${pushOnly ? ' --push-only' : ''}\`.${pullRowsFrom ? `\nPull rows: from the run of ${pullRowsFrom} (not rerun with --push-only).` : ''}`;
writeSection('registry', md);
console.log(md);
