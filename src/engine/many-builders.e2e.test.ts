// Many machines, one registry: separate state roots, each builder in a network namespace of its
// own, build the same project at the same time against one Debian docker-registry, each with
// --cache-from and --cache-to the same repository. Every builder after the first reuses the
// cache; no entry is lost or replaced while they write concurrently (each key's manifest stays
// the one first written). A machine's namespace reaches the registry as 127.0.0.1:PORT, its own
// loopback, through a veth pair the test makes (machine-net.ts relays the port both ways).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRoot, sandbox, type Sandbox } from '../registry/testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../registry/testing/registry-server.js';
import { MachineNets } from './testing/machine-net.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

interface Meta { imageId: string; steps: { instruction: string; cached: boolean; cacheKey: string; missReason: string | null }[] }

describe('builders on many machines share one registry cache', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let ctx: string;
  let ref: string;
  let nets: MachineNets;

  /** One machine's build: its own state root and network namespace, the shared cache both ways. */
  const machine = async (name: string, arg: string): Promise<Meta> => {
    const root = await busyboxRoot(sb, name);
    const meta = path.join(sb.dir, `${name}.json`);
    const net = await nets.add(name);
    const r = await net.strata(['build', '--progress', 'plain', '--network', 'none', '--metadata-file', meta, '--build-arg', `MACHINE=${arg}`,
      '--cache-from', `type=registry,ref=${ref}`, '--cache-to', `type=registry,ref=${ref},mode=max`, ctx], { root, env: sb.env });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    await net.remove();
    return JSON.parse(fs.readFileSync(meta, 'utf8')) as Meta;
  };
  const manifestOf = async (tag: string): Promise<string | undefined> => {
    const res = await fetch(`${reg.url}/v2/cache/project/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    return res.status === 200 ? res.headers.get('docker-content-digest') ?? undefined : undefined;
  };

  before(async () => {
    reg = await startRegistry();
    nets = new MachineNets(Number(reg.host.split(':')[1]));
    sb = sandbox();
    ref = `${reg.host}/cache/project`;
    ctx = path.join(sb.dir, 'project');
    fs.mkdirSync(path.join(ctx, 'src'), { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(ctx, 'src', `f${i}.txt`), `file ${i}\n`);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
      'FROM busybox',
      'COPY src/ /src/',
      'RUN cat /src/*.txt > /all.txt && wc -l /all.txt',
      'ARG MACHINE',
      'RUN echo "built on $MACHINE" > /machine.txt',
      '',
    ].join('\n'));
  });
  after(async () => {
    await nets?.removeAll();
    await reg?.close();
    sb?.cleanup();
  });

  test('a machine namespace is its own: only lo and its veth, and the registry at 127.0.0.1:PORT', async () => {
    const net = await nets.add('probe');
    try {
      const links = await net.exec(['ip', '-o', 'link', 'show']);
      assert.deepEqual(links.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().replace(/@.*/, '')).sort(), ['lo', net.inside].sort());
      assert.notEqual(await net.exec(['readlink', '/proc/self/ns/net']), fs.readlinkSync('/proc/self/ns/net'));
      // The registry, at the address every machine names it by.
      const probe = `fetch('http://${reg.host}/v2/').then((r) => console.log(r.status))`;
      assert.equal((await net.exec([process.execPath, '-e', probe])).trim(), '200');
    } finally {
      await net.remove();
    }
  });

  test('the first builds cold; four more at once reuse its steps and add their own', async () => {
    const first = await machine('m1', 'm1');
    assert.ok(first.steps.every((s) => !s.cached));
    const common = first.steps.slice(0, 2);
    const firstManifests = await Promise.all(common.map((s) => manifestOf(s.cacheKey)));
    assert.ok(firstManifests.every(Boolean));

    const names = ['m2', 'm3', 'm4', 'm5'];
    const metas = await Promise.all(names.map((n) => machine(n, n)));
    for (const [i, m] of metas.entries()) {
      assert.deepEqual(m.steps.map((s) => s.cached), [true, true, false], names[i]);
      assert.deepEqual(m.steps.slice(0, 2).map((s) => s.cacheKey), common.map((s) => s.cacheKey));
      assert.equal(m.steps[2].missReason, `build arg MACHINE changed since the entry in ${ref}`);
    }
    // Nothing lost: every key any machine built has its entry; nothing replaced: the common ones are m1's.
    for (const m of [first, ...metas]) for (const s of m.steps) assert.ok(await manifestOf(s.cacheKey), `entry of ${s.instruction} (${s.cacheKey})`);
    assert.deepEqual(await Promise.all(common.map((s) => manifestOf(s.cacheKey))), firstManifests);

    // Fresh machines building what m2..m5 built find every step, their own last one included.
    const again = await Promise.all(names.map((n) => machine(`${n}-again`, n)));
    for (const [i, m] of again.entries()) {
      assert.ok(m.steps.every((s) => s.cached), `${names[i]}: ${JSON.stringify(m.steps)}`);
      assert.equal(m.imageId, metas[i].imageId, 'the same image as the machine that built it');
    }
  });

  test('two machines building the same new step at once leave one valid entry', async () => {
    const [a, b] = await Promise.all([machine('race-a', 'same'), machine('race-b', 'same')]);
    assert.equal(a.steps[2].cacheKey, b.steps[2].cacheKey);
    const digest = await manifestOf(a.steps[2].cacheKey);
    assert.ok(digest);
    const res = await fetch(`${reg.url}/v2/cache/project/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const m = (await res.json()) as { annotations: Record<string, string>; layers: { digest: string }[] };
    assert.equal(m.annotations['io.strata.cache.key'], a.steps[2].cacheKey);
    const blob = await fetch(`${reg.url}/v2/cache/project/blobs/${m.layers[0].digest}`, { method: 'HEAD' });
    assert.equal(blob.status, 200, 'the entry names a layer the registry has');
    const c = await machine('race-c', 'same');
    assert.ok(c.steps.every((s) => s.cached));
  });
});
