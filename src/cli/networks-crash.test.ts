// kill -9 of strata at the moments that matter for networks (failpoints, src/failpoint.ts), and
// what the next command makes of it: a network whose bridge was made but not its rules is made
// whole on its next use; a `network rm` killed after the record went leaves no bridge, rule or
// claim once any command ran (nor its dir, killed between the rename that hides it and its
// deletion); a `run` killed with its namespace plumbed leaves no veth, address
// or responder, nor (`run -d`) a shim waiting to start it. Only this root's kernel objects are looked at (other tests add their own).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bridgeName, NETWORK_MACHINE_DIR, rootIdentity, tableName } from '../runtime/index.js';
import { runUntilKilled, waitStopped } from '../testing/faults.js';
import { spawnStrata } from '../testing/cli.js';
import { eventually, lifecycleFixture, processesMentioning, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

let fx: LifecycleFixture;
let id: string;

function ok(args: string[]): string {
  const r = fx.strata(args);
  assert.equal(r.status, 0, `strata ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const links = (prefix: string) => fs.readdirSync('/sys/class/net').filter((d) => d.startsWith(prefix));
const rules = () => {
  const r = spawnSync('nft', ['list', 'table', 'ip', tableName(id)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
};
/** The record of network NET, read from the root (no CLI start; a killed create printed no ID). */
const recordOf = (net: string) => {
  const dir = `${fx.root}/networks`;
  const records = fs.readdirSync(dir).filter((d) => /^[0-9a-f]{64}$/.test(d))
    .map((d) => JSON.parse(fs.readFileSync(`${dir}/${d}/network.json`, 'utf8')) as { Name: string; IPAM: { Config: Array<{ Subnet: string }> }; Strata: { index: number } });
  const [record, ...more] = records.filter((r) => r.Name === net);
  assert.ok(record && more.length === 0, `one record of network ${net}`);
  return record;
};
const bridgeOf = (net: string) => bridgeName(id, recordOf(net).Strata.index);
const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};
const childrenOf = (pid: number) => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
  try {
    return fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid);
  } catch {
    return false;
  }
});
/** The Node process of a spawned `strata` (bin/strata execs it: the same pid). */
const nodeOf = (pid: number) => (cmdline(pid).includes('start.cjs') ? pid : undefined);
const claimed = (bridge: string) => fs.existsSync(`${NETWORK_MACHINE_DIR}/claims/${bridge}.json`);
const responders = () => processesMentioning(fx.root).filter((pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dns/start.cjs');
  } catch {
    return false;
  }
});
const endpoints = () => fs.readdirSync(`${fx.root}/networks`).filter((d) => /^[0-9a-f]{64}$/.test(d)).flatMap((n) => fs.readdirSync(`${fx.root}/networks/${n}/endpoints`).map((e) => `${n.slice(0, 8)}/${e}`));

describe('networks after a kill -9', { timeout: 300_000 }, () => {
  before(async () => {
    fx = await lifecycleFixture();
    id = rootIdentity(fx.root).id;
  });
  after(async () => {
    await fx?.teardown();
  });

  it('makes a network whole on its next use when `network create` died with its bridge up and no rules', async () => {
    await runUntilKilled(['network', 'create', 'halfmade'], { root: fx.root, point: 'net.bridge-up' });
    const bridge = bridgeOf('halfmade');
    assert.deepEqual(links(bridge), [bridge], 'the bridge was made');
    assert.doesNotMatch(rules(), new RegExp(`"${bridge}"`), 'its rules were not');
    ok(['run', '--rm', '--network', 'halfmade', 'busybox', 'true']);
    assert.match(rules(), new RegExp(`iifname "${bridge}" oifname "sb\\*" drop`), 'isolation in place');
    assert.match(rules(), new RegExp(`oifname != "${bridge}" masquerade`), 'NAT in place');
  });

  it('leaves no bridge, rule or claim of a network whose `network rm` died half-way, once any command ran', async () => {
    const bridge = bridgeOf('halfmade');
    await runUntilKilled(['network', 'rm', 'halfmade'], { root: fx.root, point: 'net.network-removed' });
    assert.deepEqual(links(bridge), [bridge], 'killed before its bridge went');
    ok(['ps', '-a']);
    assert.deepEqual(links(bridge), []);
    assert.doesNotMatch(rules(), new RegExp(`"${bridge}"`));
    assert.ok(!claimed(bridge));
    assert.doesNotMatch(ok(['network', 'ls']), /halfmade/);
    ok(['network', 'create', 'halfmade']);
    ok(['network', 'rm', 'halfmade']);
  });

  it('leaves no dir, bridge, rule or claim of a `network rm` killed between renaming its dir and deleting it', async () => {
    ok(['network', 'create', 'halfgone']);
    const bridge = bridgeOf('halfgone');
    const removing = () => fs.readdirSync(`${fx.root}/networks`).filter((d) => d.startsWith('.removing-'));
    await runUntilKilled(['network', 'rm', 'halfgone'], { root: fx.root, point: 'net.record-moved' });
    assert.equal(removing().length, 1, 'killed with its dir renamed away');
    assert.deepEqual(links(bridge), [bridge], 'and its bridge still up');
    assert.doesNotMatch(ok(['network', 'ls']), /halfgone/);
    assert.deepEqual(removing(), [], 'the sweep deleted the dir');
    assert.deepEqual(links(bridge), []);
    assert.doesNotMatch(rules(), new RegExp(`"${bridge}"`));
    assert.ok(!claimed(bridge));
  });

  it('leaves no veth, address or responder of a `run` killed with its namespace plumbed', async () => {
    ok(['network', 'create', 'crashnet']);
    for (const network of ['crashnet', 'bridge']) {
      await runUntilKilled(['run', '--network', network, 'busybox', 'sleep', '300'], { root: fx.root, point: 'net.netns-ready', group: true });
      ok(['ps', '-a']);
      await eventually(() => links(`sv${id}`).length === 0 && responders().length === 0, 100).catch(() => undefined);
      assert.deepEqual({ veths: links(`sv${id}`), responders: responders() }, { veths: [], responders: [] }, network);
      ok(['ps', '-a']);
      assert.deepEqual(endpoints(), [], `${network}: no address kept`);
    }
    // `run -d` does that plumbing itself while its shim starts, the shim waiting for a "go" on
    // its stdin: killed there (the shim, in a session of its own, survives the group kill), the
    // shim gets an EOF instead, starts nothing and exits; the container stays Created.
    await runUntilKilled(['run', '-d', '--name', 'halfway', '--network', 'crashnet', 'busybox', 'sleep', '300'], { root: fx.root, point: 'net.netns-ready', group: true });
    const shims = () => processesMentioning(fx.root).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shim');
      } catch {
        return false;
      }
    });
    await eventually(() => shims().length === 0, 100).catch(() => undefined);
    assert.deepEqual(shims(), [], 'no shim left waiting');
    ok(['ps', '-a']);
    assert.deepEqual({ veths: links(`sv${id}`), endpoints: endpoints() }, { veths: [], endpoints: [] }, 'run -d');
    // The shim claimed the container (start-claim.ts) and counts as starting it until it has read
    // its EOF and exited (a Node start, spawned early); then the claim is undone: Created again.
    // The last status seen is the one asserted (no extra inspect after the wait).
    let status = '';
    await eventually(() => (status = ok(['inspect', '--format', '{{.State.Status}}', 'halfway'])) === 'created\n', 50).catch(() => undefined);
    assert.equal(status, 'created\n');
    ok(['rm', 'halfway']);
    // The addresses are free again: a container gets the network's first one.
    ok(['run', '-d', '--name', 'after', '--network', 'crashnet', 'busybox', 'sleep', '300']);
    const subnet = recordOf('crashnet').IPAM.Config[0]!.Subnet;
    assert.equal(ok(['inspect', '--format', '{{.NetworkSettings.Networks.crashnet.IPAddress}}', 'after']).trim(), subnet.replace(/0\/\d+$/, '2'));
    ok(['rm', '-f', 'after']);
    ok(['network', 'rm', 'crashnet']);
  });

  it('finds the responder a `run` started right before it was killed: the next run resolves names', async () => {
    const netId = ok(['network', 'create', 'dnskill']).trim();
    await runUntilKilled(['run', '--rm', '--network', 'dnskill', 'busybox', 'true'], { root: fx.root, point: 'net.responder-ready', group: true });
    const [responder] = responders();
    assert.ok(responder, 'the responder outlived the run that started it');
    // Recorded by the responder itself: the next start finds it instead of starting another
    // one, which could not bind the gateway's port 53 while this one holds it.
    const info = JSON.parse(fs.readFileSync(`${fx.root}/networks/${netId}/responder.json`, 'utf8')) as { pid: number };
    assert.equal(info.pid, responder);
    ok(['run', '-d', '--name', 'dnsweb', '--network', 'dnskill', 'busybox', 'sh', '-c', 'echo named > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
    assert.equal(ok(['run', '--rm', '--network', 'dnskill', 'busybox', 'wget', '-qO-', 'http://dnsweb/']), 'named\n');
    ok(['rm', '-f', 'dnsweb']);
    ok(['network', 'rm', 'dnskill']);
    await eventually(() => responders().length === 0, 100).catch(() => undefined);
    assert.deepEqual(responders(), []);
  });
  it('leaves no namespace holder of a `run` killed after starting it ahead, before its plumbing', async () => {
    // The holder of a run's namespace starts while the container is created (prewarmNetns).
    const cli = spawnStrata(['run', '--rm', 'busybox', 'true'], { root: fx.root, env: { STRATA_FAILPOINT: 'container.image-resolved:stop' } });
    try {
      const node = await eventually(() => nodeOf(cli.pid!), 100, 50);
      await waitStopped(node, 'the run stopped with its image resolved');
      // unshare --net execs the holder's sh: its script reads the plumbing up to a line "#go".
      const holders = childrenOf(node).filter((pid) => cmdline(pid).startsWith('sh\0-c\0') && cmdline(pid).includes('#go'));
      assert.equal(holders.length, 1, 'its namespace holder started ahead');
      process.kill(node, 'SIGKILL');
      await eventually(() => holders.every((pid) => !fs.existsSync(`/proc/${pid}`)) || undefined, 100, 50);
    } finally {
      cli.kill('SIGKILL');
    }
  });
});
