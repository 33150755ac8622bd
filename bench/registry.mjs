// pull and push of a 256 MiB image (half random data, half text) against one local registry
// (Debian's docker-registry on 127.0.0.1, plain http), side by side with podman pull/push and
// skopeo copy: cold (a fresh registry for a push, an empty store for a pull) and warm (the
// registry already has the blobs; the store already has the image).
// Usage: npm run build && node bench/registry.mjs
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

const rows = [];
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
    t.strataPushWarm.push(timed(() => strata(src, ['push', '-q', ref])));
    if (havePodman) {
      const rp = await fresh();
      const pref = `${rp.host}/bench/big:1`;
      run('podman', [...podmanStore('src'), 'tag', 'docker.io/bench/big:1', pref]);
      t.podmanPushCold.push(timed(() => run('podman', [...podmanStore('src'), 'push', '-q', '--tls-verify=false', pref])));
      t.podmanPushWarm.push(timed(() => run('podman', [...podmanStore('src'), 'push', '-q', '--tls-verify=false', pref])));
    }
    if (haveSkopeo) {
      const rk = await fresh();
      const kref = `docker://${rk.host}/bench/big:1`;
      t.skopeoPushCold.push(timed(() => run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${ociArchive}`, kref])));
      t.skopeoPushWarm.push(timed(() => run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci-archive:${ociArchive}`, kref])));
    }
    // pull of what strata pushed: into an empty store (cold), then again (warm: nothing to fetch)
    pullFrom = ref;
    const root = path.join(dir, `pull-${round}`);
    t.strataPullCold.push(timed(() => strata(root, ['pull', '-q', ref])));
    t.strataPullWarm.push(timed(() => strata(root, ['pull', '-q', ref])));
    // The deferred work made visible: strata keeps pulled layers packed until a container needs them.
    t.strataFirstRun.push(timed(() => strata(root, ['run', '--rm', ref, 'true'])));
    fs.rmSync(root, { recursive: true, force: true });
    if (havePodman) {
      const ps = podmanStore(`p${round}`);
      t.podmanPullCold.push(timed(() => run('podman', [...ps, 'pull', '-q', '--tls-verify=false', ref])));
      t.podmanPullWarm.push(timed(() => run('podman', [...ps, 'pull', '-q', '--tls-verify=false', ref])));
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
  const m = (a) => (a.length ? `${(median(a) / 1000).toFixed(2)} s` : 'n/a');
  const ratio = (a, b) => (a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a');
  const row = (what, s, p, k) => {
    rows.push(`| ${what} | ${m(s)} | ${m(p)} | ${m(k)} | ${ratio(s, p)} |`);
    if (s.length && p.length) verdicts.push(`${what.split(' (')[0]} ${median(s) / median(p) <= 0.7 ? 'met' : 'not met'}`);
  };
  row('push, cold (empty registry: compress + upload)', t.strataPushCold, t.podmanPushCold, t.skopeoPushCold);
  row('push, warm (the registry has the blobs)', t.strataPushWarm, t.podmanPushWarm, t.skopeoPushWarm);
  row('pull, cold (empty store)', t.strataPullCold, t.podmanPullCold, t.skopeoPullCold);
  row('pull, warm (the store has the image)', t.strataPullWarm, t.podmanPullWarm, []);
  rows.push(`| then the first run (\`run --rm IMAGE true\`; strata unpacks the packed layers here) | ${m(t.strataFirstRun)} | ${m(t.podmanFirstRun)} | n/a | ${ratio(t.strataFirstRun, t.podmanFirstRun)} |`);
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

Medians of ${ROUNDS} rounds. The image: busybox + 128 MiB of random bytes + 128 MiB of text (three
layers), built by strata; podman's copy loaded from \`strata save\`, skopeo's source the same
image as an oci-archive. One Debian docker-registry (distribution 2.8) on 127.0.0.1 per tool and
round, plain http. Push cold: an empty registry, so every layer is compressed (strata: gzip in
1 MiB blocks on both cores, byte-stable; a random block is stored) and uploaded; strata's record
of compressed digests is cleared first. Push warm: the same push again (HEAD finds every blob).
Pull cold: what strata pushed, into an empty store (podman, and skopeo into containers-storage,
with a store of their own); warm: the same pull again. strata keeps a pulled layer packed (its
verified compressed blob) and unpacks it when a container first needs it: the first-run row
shows that deferred work (not a target).

Target: each ≤ 0.7× podman's time. This run: ${verdicts.join('; ') || 'n/a'}.
strata is started as users start it (\`bin/strata\`); \`pull\`/\`push\` with plain flags load a bundle
of their own without yargs. A warm case is mostly process start-up (Node's own start is some
70 ms on an idle machine), so its ratio moves most with the machine's load.

Machine: ${machine()}; load average ${load0} → ${os.loadavg()[0].toFixed(1)} during the run
(other work shared the machine).
Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/registry.mjs\`.`;
writeSection('registry', md);
console.log(md);
