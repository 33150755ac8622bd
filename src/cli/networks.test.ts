// Container networks end to end, with real bridges, veth pairs, nftables rules and DNS
// responders: names on user-defined networks, isolation, the way out (to a namespace the test
// makes, never off the machine), published ports, connect/disconnect, and that nothing is left
// behind. Name lookups here are only of names the network knows, or go to the test's own
// DNS server: no query leaves the machine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { rootIdentity, tableName } from '../runtime/index.js';
import { spawnStrata } from '../testing/cli.js';
import { startOutside, type Outside } from '../testing/outside.js';
import { eventually, freePort, httpGet, lifecycleFixture, logged, processesMentioning, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

let fx: LifecycleFixture;
let outside: Outside;
/** The "app" network's gateway and web's address on it, as the first test reads them (later tests use both). */
let appGateway: string;
let webIp: string;

/** This root's bridges and veth host ends. */
function devices(): string[] {
  const id = rootIdentity(fx.root).id;
  return fs.readdirSync('/sys/class/net').filter((d) => d.startsWith(`sb${id}`) || d.startsWith(`sv${id}`));
}

function vethsLeft(): string[] {
  return devices().filter((d) => d.startsWith('sv'));
}

function responders(): number[] {
  return processesMentioning(fx.root).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dns/start.cjs');
    } catch {
      return false;
    }
  });
}

function rules(): string {
  const r = spawnSync('nft', ['list', 'table', 'ip', tableName(rootIdentity(fx.root).id)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

/** Waits (a bounded while: namespaces die asynchronously) until no veth or responder of the root is left. */
async function nothingLeft(): Promise<void> {
  await eventually(() => vethsLeft().length === 0 && responders().length === 0, 100).catch(() => undefined);
  assert.deepEqual({ veths: vethsLeft(), responders: responders() }, { veths: [], responders: [] });
}

/**
 * What container ID (a `run -d`'s output) printed, once it has printed UNTIL: a look at its log
 * file from the host, instead of an `exec` (a Node start and a runc exec) for what it saw at start.
 */
async function printed(id: string, until: RegExp): Promise<string> {
  return eventually(() => until.test(logged(fx.root, id.trim())) && logged(fx.root, id.trim()), 200);
}

function ok(args: string[], input?: string): string {
  const r = fx.strata(args, { input });
  assert.equal(r.status, 0, `strata ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Containers in the soak (the check: 20 on two networks), started SOAK_AT_ONCE at a time. */
const SOAK = 20;
const SOAK_AT_ONCE = 4;

/** Runs `strata ARGS` without waiting for it; resolves with its exit status and stderr. */
function runAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawnStrata(args, { root: fx.root });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.resume();
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stderr })));
}

const web = (name: string, net: string, extra: string[] = []) =>
  ok(['run', '-d', '--name', name, '--network', net, ...extra, 'busybox', 'sh', '-c', `echo "served by ${name}" > /tmp/index.html; exec httpd -f -p 80 -h /tmp`]);

describe('container networks', { timeout: 600_000 }, () => {
  before(async () => {
    fx = await lifecycleFixture();
    outside = await startOutside();
  });
  after(async () => {
    outside?.stop();
    await fx?.teardown();
  });

  it('resolves containers by name and alias on a user-defined network, not on the default one', async () => {
    ok(['network', 'create', 'app']);
    web('web', 'app', ['--network-alias', 'www']);
    const fetched = ok(['run', '--rm', '--network', 'app', 'busybox', 'sh', '-c', 'wget -qO- http://web/; wget -qO- http://www/; wget -qO- http://web.app/']);
    assert.equal(fetched, 'served by web\n'.repeat(3));
    const [app] = JSON.parse(ok(['network', 'inspect', 'app'])) as Array<{ Containers: Record<string, { Name: string; IPv4Address: string }>; IPAM: { Config: Array<{ Gateway: string }> } }>;
    assert.deepEqual(Object.values(app!.Containers).map((c) => c.Name), ['web']);
    appGateway = app!.IPAM.Config[0]!.Gateway;
    // The default network: an address and a way out, but no names (the host's resolvers in
    // resolv.conf), as a container on it sees them at its start (read from its log).
    const plainId = ok(['run', '-d', '--name', 'plain', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; ip route; exec sleep 300']);
    const plain = await printed(plainId, /^default via /m);
    assert.doesNotMatch(plain, /nameserver 172\.|nameserver 192\.168\./);
    assert.match(plain, /^default via \S+ dev eth0/m);
    // One inspect for both containers.
    const [settings, top] = (JSON.parse(ok(['inspect', 'web', 'plain'])) as Array<{ NetworkSettings: { IPAddress: string; Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string; Aliases: string[]; NetworkID: string }> } }>)
      .map((c) => c.NetworkSettings);
    const ep = settings!.Networks.app!;
    assert.match(ep.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    webIp = ep.IPAddress;
    assert.deepEqual(ep.Aliases, ['www']);
    assert.equal(ep.MacAddress, `02:42:${ep.IPAddress.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join(':')}`);
    assert.equal(settings!.IPAddress, '', "Docker's top-level address is the default network's only");
    assert.match(top!.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(Object.keys(top!.Networks), ['bridge']);
    // plain runs on: removed with the others by the rm -f of "releases veths, ...".
  });

  it('keeps networks apart, and an --internal network has no way out', () => {
    ok(['network', 'create', 'other']);
    ok(['network', 'create', '--internal', 'sealed']);
    // `timeout` inside `sh` that stays PID 1: as PID 1 itself, busybox timeout execs wget as the
    // container's init, which ignores timeout's SIGTERM, and a dropped connection then waits out
    // the TCP connect timeout (minutes) instead of SECONDS. A probe that must fail waits 1 s (a
    // dropped packet is never answered: each such probe is its whole timeout), the one that must
    // pass 3 s; in the same network it answers in milliseconds.
    const timed = (url: string, seconds = 3) => ['sh', '-c', `timeout ${seconds} wget -qO- ${url}; exit $?`];
    const probe = (net: string, target: string, seconds?: number) => fx.strata(['run', '--rm', '--network', net, 'busybox', ...timed(`http://${target}/`, seconds)]);
    assert.match(probe('app', webIp).stdout, /served by web/, 'same network: reachable');
    assert.doesNotMatch(probe('other', webIp, 1).stdout, /served by web/, 'another network: not reachable');
    assert.doesNotMatch(probe('bridge', webIp, 1).stdout, /served by web/, 'the default network: not reachable');
    // One container on the internal network: its responder knows only its own names and
    // forwards nothing, and there is no way out (each command's exit status printed after it).
    const sealed = ok(['run', '--rm', '--network', 'sealed', 'busybox', 'sh', '-c',
      `nslookup web; echo "status $?"; echo ---; timeout 1 wget -qO- http://${outside.ip}:${outside.httpPort}/; echo "status $?"`]);
    const [lookup, out] = sealed.split('---\n').map((part) => ({ stdout: part.replace(/status \d+\n$/, ''), status: Number(/status (\d+)\n$/.exec(part)![1]) }));
    assert.notEqual(lookup!.status, 0);
    assert.doesNotMatch(lookup!.stdout, new RegExp(webIp.replace(/\./g, '\\.')));
    assert.doesNotMatch(out!.stdout, /hello from outside/);
    assert.notEqual(out!.status, 0);
  });

  it('reaches the outside from a plain run, through NAT, and forwards other names to --dns servers', async () => {
    const fetched = ok(['run', '--rm', 'busybox', 'wget', '-qO-', `http://${outside.ip}:${outside.httpPort}/`]);
    assert.equal(fetched, 'hello from outside\n');
    await outside.startDns('203.0.113.7');
    // One container on the user-defined network: the outside by its address (seen from there,
    // the container's address is the host's: masquerade), a name its --dns server answers, and
    // its resolv.conf.
    const [log, answer, resolv] = ok(['run', '--rm', '--network', 'app', '--dns', outside.ip, 'busybox', 'sh', '-c',
      `wget -qO- http://${outside.ip}:${outside.httpPort}/; echo ---; nslookup anything.example; echo ---; cat /etc/resolv.conf`]).split('---\n');
    assert.equal(log, 'hello from outside\n');
    assert.match(answer!, /Address: 203\.0\.113\.7/);
    assert.match(resolv!, /^nameserver \d+\.\d+\.\d+\.1$/m, 'the network responder first');
    const direct = ok(['run', '--rm', '--dns', outside.ip, '--dns-search', 'corp.example', '--add-host', 'db:10.9.8.7', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf /etc/hosts']);
    assert.match(direct, new RegExp(`^nameserver ${outside.ip.replace(/\./g, '\\.')}\nsearch corp\\.example\n`));
    assert.match(direct, /^10\.9\.8\.7\tdb$/m);
  });

  it('publishes a port of a container on a user-defined network', async () => {
    const port = await freePort();
    web('published', 'app', ['-p', `127.0.0.1:${port}:80`]);
    const res = await eventually(async () => {
      try {
        return await httpGet(port, '/');
      } catch {
        return undefined;
      }
    });
    assert.deepEqual(res, { status: 200, body: 'served by published\n' });
    // published runs on: removed with the others by the rm -f of "releases veths, ...".
  });

  it('connects and disconnects a running container', async () => {
    // No eth1 before the connect: as the container saw at its start (its log).
    const roamer = ok(['run', '-d', '--name', 'roamer', '--network', 'other', 'busybox', 'sh', '-c', 'ip link show eth1; echo "eth1 status $?"; exec sleep 300']);
    assert.doesNotMatch(await printed(roamer, /^eth1 status \d+$/m), /^eth1 status 0$/m);
    ok(['network', 'connect', '--alias', 'visitor', 'app', 'roamer']);
    // One exec for what the container sees: its new interface, then a name of the network connected.
    const [addr, fetched] = ok(['exec', 'roamer', 'sh', '-c', 'ip addr show eth1; echo ---; wget -qO- http://web/']).split('---\n');
    assert.match(addr!, /inet \d+\.\d+\.\d+\.\d+\/\d+/);
    assert.equal(fetched, 'served by web\n', 'names of the network connected to resolve');
    assert.match(ok(['exec', 'web', 'nslookup', 'visitor']), /Address: \d+/);
    const networks = JSON.parse(ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'roamer'])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(networks).sort(), ['app', 'other']);
    ok(['network', 'disconnect', 'app', 'roamer']);
    assert.notEqual(fx.strata(['exec', 'roamer', 'ip', 'link', 'show', 'eth1']).status, 0);
    assert.match(fx.strata(['network', 'disconnect', 'app', 'roamer']).stderr, /is not connected to network "app"/);
    assert.match(fx.strata(['network', 'rm', 'other']).stderr, /active endpoints/);
    // The way out moves with the network that gave it (Docker's).
    ok(['network', 'connect', 'app', 'roamer']);
    ok(['network', 'disconnect', 'other', 'roamer']);
    const [route, out, resolv, named] = ok(['exec', 'roamer', 'sh', '-c',
      `ip -4 route show default; echo ---; wget -qO- http://${outside.ip}:${outside.httpPort}/; echo ---; cat /etc/resolv.conf; echo ---; wget -qO- http://web/`]).split('---\n');
    assert.match(route!, new RegExp(`^default via ${appGateway.replace(/\./g, '\\.')} `));
    assert.equal(out, 'hello from outside\n');
    // Names still resolve: resolv.conf moved from the network that went to the one left.
    assert.equal(resolv!.split('\n')[0], `nameserver ${appGateway}`);
    assert.equal(named, 'served by web\n');
    ok(['rm', '-f', 'roamer']);
  });

  it('a running container connected from the default network to a user-defined one resolves its names, until disconnected', async () => {
    // Its resolv.conf as it saw it at its start (its log), ended by a line of its own.
    const newcomer = ok(['run', '-d', '--name', 'newcomer', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; echo "<end>"; exec sleep 300']);
    const hosts = (await printed(newcomer, /^<end>$/m)).replace(/<end>\n$/, '');
    assert.doesNotMatch(hosts, new RegExp(`nameserver ${appGateway.replace(/\./g, '\\.')}`));
    ok(['network', 'connect', 'app', 'newcomer']);
    const [resolv, fetched] = ok(['exec', 'newcomer', 'sh', '-c', 'cat /etc/resolv.conf; echo ---; wget -qO- http://web/']).split('---\n');
    assert.equal(resolv!.split('\n')[0], `nameserver ${appGateway}`);
    assert.equal(fetched, 'served by web\n');
    ok(['network', 'disconnect', 'app', 'newcomer']);
    // One exec: the file as the disconnect left it, then the container writes its own.
    assert.equal(ok(['exec', 'newcomer', 'sh', '-c', 'cat /etc/resolv.conf; echo "nameserver 192.0.2.53" > /etc/resolv.conf']), hosts, 'the host\'s servers again');

    // A resolv.conf the container wrote itself is its own: left as it is.
    ok(['network', 'connect', 'app', 'newcomer']);
    assert.equal(ok(['exec', 'newcomer', 'cat', '/etc/resolv.conf']), 'nameserver 192.0.2.53\n');
    ok(['rm', '-f', 'newcomer']);
  });

  it('--mac-address sets the interface\'s address (shown by inspect), on the default network and a user-defined one', async () => {
    assert.equal(ok(['run', '--rm', '--mac-address', '92:D0:C6:0A:29:33', 'busybox', 'cat', '/sys/class/net/eth0/address']), '92:d0:c6:0a:29:33\n');
    const macced = ok(['run', '-d', '--name', 'macced', '--network', 'app', '--mac-address', '02:42:ac:11:99:01', 'busybox', 'sh', '-c', 'cat /sys/class/net/eth0/address; exec sleep 300']);
    assert.equal(await printed(macced, /\n$/), '02:42:ac:11:99:01\n');
    assert.equal(ok(['inspect', '-f', '{{.NetworkSettings.Networks.app.MacAddress}}', 'macced']), '02:42:ac:11:99:01\n');
    ok(['rm', '-f', 'macced']);
    for (const [args, message] of [
      [['--mac-address', '92:d0:c6:0a:29'], 'invalid argument "92:d0:c6:0a:29" for "--mac-address" flag: invalid MAC address'],
      [['--mac-address', '01:00:5e:00:00:01'], 'invalid argument "01:00:5e:00:00:01" for "--mac-address" flag: a multicast address cannot be an interface\'s'],
      [['--network', 'none', '--mac-address', '92:d0:c6:0a:29:33'], 'conflicting options: mac-address and the network mode'],
    ] as const) {
      const bad = fx.strata(['run', '--rm', ...args, 'busybox', 'true']);
      assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
    }
  });

  it('releases veths, rules and responders after rm, network rm and a kill -9 of the CLI or a shim', async () => {
    // kill -9 of a foreground run: its container runs on; rm -f then takes everything.
    // Killed once its container runs: once the container's first line reaches the CLI's stdout.
    const fg = spawnStrata(['run', '--name', 'orphan', '--network', 'app', 'busybox', 'sh', '-c', 'echo up; exec sleep 300'], { root: fx.root });
    let fgOut = '';
    fg.stdout.on('data', (d: Buffer) => (fgOut += d.toString()));
    await eventually(() => fgOut === 'up\n', 200);
    fg.kill('SIGKILL');
    // kill -9 of a shim.
    const shimless = ok(['run', '-d', '--name', 'shimless', '--network', 'app', 'busybox', 'sleep', '300']).trim();
    const shimPid = (JSON.parse(fs.readFileSync(`${fx.root}/containers/${shimless}/shim.json`, 'utf8')) as { shimPid: number }).shimPid;
    process.kill(shimPid, 'SIGKILL');
    assert.equal(ok(['exec', 'orphan', 'wget', '-qO-', 'http://web/']), 'served by web\n');
    ok(['rm', '-f', 'orphan', 'shimless', 'web', 'plain', 'published']);
    await nothingLeft();
    ok(['network', 'rm', 'app', 'other', 'sealed']);
    const id = rootIdentity(fx.root).id;
    assert.deepEqual(devices(), [`sb${id}0`], 'only the default network\'s bridge is left');
    assert.doesNotMatch(rules(), new RegExp(`sb${id}[1-9]`), 'no rule of a removed network');
    assert.equal(fs.readdirSync(`${fx.root}/networks`).filter((d) => /^[0-9a-f]{64}$/.test(d)).length, 1);
  });

  it(`runs a soak of ${SOAK} containers on two networks and leaves nothing behind`, async () => {
    ok(['network', 'create', 'soak-a']);
    ok(['network', 'create', 'soak-b']);
    const names = Array.from({ length: SOAK }, (_, i) => `soak${i}`);
    // Several runs at once, as a shell loop with `&` would: each network's addresses are
    // allocated under its lock, so no two containers get the same one.
    for (let i = 0; i < SOAK; i += SOAK_AT_ONCE) {
      const batch = names.slice(i, i + SOAK_AT_ONCE);
      const runs = await Promise.all(batch.map((name, j) => runAsync(['run', '-d', '--name', name, '--network', (i + j) % 2 ? 'soak-b' : 'soak-a', 'busybox', 'sleep', '300'])));
      runs.forEach((r, j) => assert.equal(r.status, 0, `run ${batch[j]}: ${r.stderr}`));
    }
    // One inspect for all of them (a line each, in the order asked).
    const lines = ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', ...names]).trim().split('\n');
    assert.equal(lines.length, names.length);
    const ips = lines.map((l) => Object.values(JSON.parse(l) as Record<string, { IPAddress: string }>)[0]!.IPAddress);
    assert.equal(new Set(ips).size, SOAK, `distinct addresses: ${ips.join(' ')}`);
    assert.equal(ok(['exec', 'soak0', 'sh', '-c', 'ping -c 1 -W 2 soak2 >/dev/null && echo reached']), 'reached\n');
    assert.equal(vethsLeft().length, SOAK);
    assert.equal(responders().length, 2);
    ok(['rm', '-f', ...names]);
    ok(['network', 'rm', 'soak-a', 'soak-b']);
    await nothingLeft();
    assert.doesNotMatch(rules(), new RegExp(`sb${rootIdentity(fx.root).id}[1-9a-z]`));
    for (const net of fs.readdirSync(`${fx.root}/networks`).filter((d) => /^[0-9a-f]{64}$/.test(d))) {
      assert.deepEqual(fs.readdirSync(`${fx.root}/networks/${net}/endpoints`), []);
    }
  });
});
