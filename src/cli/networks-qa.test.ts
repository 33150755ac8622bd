// Everyday network set-ups compared with Docker's behaviour (found by exploratory QA): what a
// container's DNS name becomes after `rename`, and the flags Docker takes with a warning.
// Name lookups go only to the network's own responder, for names it knows: no query leaves the
// machine.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventually, lifecycleFixture, logged, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

let fx: LifecycleFixture;

function ok(args: string[]): string {
  const r = fx.strata(args);
  assert.equal(r.status, 0, `strata ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('container networks as Docker users see them', { timeout: 300_000 }, () => {
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx?.teardown();
  });

  // First: on this fresh root no container has made the default network yet.
  it("lists and inspects Docker's three predefined networks before any container ran", () => {
    assert.deepEqual(ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}']).split('\n').filter(Boolean), ['bridge bridge', 'host host', 'none null']);
    const [bridge, host, none] = JSON.parse(ok(['network', 'inspect', 'bridge', 'host', 'none'])) as Array<{ Name: string; Driver: string; IPAM: { Config: unknown }; Containers: object }>;
    assert.equal(bridge!.Name, 'bridge');
    assert.equal(bridge!.Driver, 'bridge');
    assert.deepEqual([host!.Name, host!.Driver, host!.IPAM.Config, host!.Containers], ['host', 'host', null, {}]);
    assert.deepEqual([none!.Name, none!.Driver], ['none', 'null']);
  });

  it('resolves a running container by its new name after rename, and no longer by the old one', () => {
    ok(['network', 'create', 'qa']);
    ok(['run', '-d', '--name', 'db', '--network', 'qa', '--network-alias', 'database', 'busybox', 'sleep', '300']);
    ok(['run', '-d', '--name', 'app', '--network', 'qa', 'busybox', 'sleep', '300']);
    ok(['rename', 'db', 'db2']);
    // Its address and DNS names on qa, in one inspect (a rename keeps the address).
    const endpoint = JSON.parse(ok(['inspect', '--format', '{{json .NetworkSettings.Networks.qa}}', 'db2'])) as { IPAddress: string; DNSNames: string[] };
    const ip = endpoint.IPAddress;
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    // nslookup's exit status tells found (0) from NXDOMAIN (1): one exec looks up every name,
    // each lookup's output followed by a line with its status.
    const lookups = ok(['exec', 'app', 'sh', '-c', 'for name in db2 db2.qa database db; do nslookup "$name"; echo "<status $?>"; done']);
    const parts = lookups.split(/<status (\d+)>\n/);
    const look = (name: string) => {
      const at = ['db2', 'db2.qa', 'database', 'db'].indexOf(name);
      return { stdout: parts[2 * at]!, status: Number(parts[2 * at + 1]) };
    };
    assert.equal(parts.length, 9, lookups);
    const renamed = look('db2');
    assert.equal(renamed.status, 0, renamed.stdout);
    assert.match(renamed.stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`));
    assert.equal(look('db2.qa').status, 0);
    assert.equal(look('database').status, 0, 'its alias is kept');
    assert.notEqual(look('db').status, 0, 'the old name is gone');
    const containers = JSON.parse(ok(['network', 'inspect', '--format', '{{json .Containers}}', 'qa'])) as Record<string, { Name: string }>;
    assert.deepEqual(Object.values(containers).map((c) => c.Name).sort(), ['app', 'db2']);
    const names = endpoint.DNSNames;
    assert.equal(names[0], 'db2');
    assert.ok(!names.includes('db'), names.join(','));
    ok(['rm', '-f', 'db2', 'app']);
  });

  it("takes a stopped container's interfaces out of the namespace a --network container:NAME one still holds", async () => {
    ok(['network', 'create', 'qa2']);
    ok(['run', '-d', '--name', 'base', '--network', 'qa2', 'busybox', 'sleep', '300']);
    // What joined sees at its start, read from its log (its last line its own).
    const joined = ok(['run', '-d', '--name', 'joined', '--network', 'container:base', 'busybox', 'sh', '-c', 'ip -4 -o addr; echo "<end>"; exec sleep 300']).trim();
    const inet = (out: string) => out.split('\n').filter((l) => / inet /.test(l) && !/ lo /.test(l));
    const addresses = () => inet(ok(['exec', 'joined', 'ip', '-4', '-o', 'addr']));
    assert.equal(inet(await eventually(() => logged(fx.root, joined).includes('<end>\n') && logged(fx.root, joined), 200)).length, 1, "shares base's eth0");
    ok(['stop', '-t', '0', 'base']);
    // Docker: the stopped container's sandbox loses its interfaces; the joined container keeps lo.
    assert.deepEqual(addresses(), []);
    ok(['start', 'base']);
    // The restarted base takes its address again: only its own interface holds it.
    assert.deepEqual(addresses(), []);
    assert.equal(fx.strata(['run', '--rm', '--network', 'qa2', 'busybox', 'ping', '-c', '1', '-W', '2', 'base']).status, 0);
    ok(['rm', '-f', 'joined', 'base']);
    ok(['network', 'rm', 'qa2']);
  });

  it("discards -p and -P on the host network with Docker's warning, and refuses them with container:NAME", () => {
    const run = fx.strata(['run', '--rm', '--network', 'host', '-p', '18111:80', 'busybox', 'echo', 'ran']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'ran\n');
    assert.equal(run.stderr, 'WARNING: Published ports are discarded when using host network mode\n');
    const id = fx.strata(['run', '-d', '--network', 'host', '-P', '--expose', '80', 'busybox', 'sleep', '300']);
    assert.equal(id.status, 0, id.stderr);
    assert.match(id.stderr, /^WARNING: Published ports are discarded when using host network mode$/m);
    assert.equal(ok(['port', id.stdout.trim()]), '', 'nothing published');
    // The running container joined is that one.
    const joined = fx.strata(['run', '--rm', '--network', `container:${id.stdout.trim()}`, '-P', 'busybox', 'true']);
    assert.equal(joined.status, 125);
    assert.equal(joined.stderr, 'Error: conflicting options: port publishing and the container type network mode\n');
    // `network inspect host` lists it while it runs, as Docker's (no address: it has the host's).
    const listed = JSON.parse(ok(['network', 'inspect', '--format', '{{json .Containers}}', 'host'])) as Record<string, { Name: string; EndpointID: string; IPv4Address: string }>;
    assert.deepEqual(Object.keys(listed), [id.stdout.trim()]);
    assert.match(listed[id.stdout.trim()]!.EndpointID, /^[0-9a-f]{64}$/);
    assert.equal(listed[id.stdout.trim()]!.IPv4Address, '');
    ok(['rm', '-f', id.stdout.trim()]);
  });

  it("maps --add-host NAME:host-gateway to the default bridge's gateway also on the host network and with none", () => {
    const runs = ['host', 'none'].map((mode) => ({ mode, r: fx.strata(['run', '--rm', '--network', mode, '--add-host', 'gw:host-gateway', 'busybox', 'grep', 'gw$', '/etc/hosts']) }));
    // The default bridge's gateway, read once after both runs.
    const ipam = JSON.parse(ok(['network', 'inspect', '--format', '{{json .IPAM}}', 'bridge'])) as { Config: Array<{ Gateway: string }> };
    for (const { mode, r } of runs) {
      assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
      assert.equal(r.stdout, `${ipam.Config[0]!.Gateway}\tgw\n`, mode);
    }
  });

  it("lists networks in docker/cli's natural order, and filters them as Docker's daemon", () => {
    ok(['network', 'create', 'ord10']);
    ok(['network', 'create', 'ord9']);
    ok(['run', '-d', '--name', 'ordered', '--network', 'ord9', 'busybox', 'sleep', '300']);
    const listed = (...f: string[]) => ok(['network', 'ls', ...f.flatMap((x) => ['--filter', x]), '--format', '{{.Name}}']).split('\n').filter(Boolean);
    // ICU's collation (localeCompare) gave ord10 before ord9.
    assert.deepEqual(listed('name=^ord'), ['ord9', 'ord10']);
    // dangling: no running container on it; type=builtin: Docker's three.
    assert.deepEqual(listed('dangling=true', 'name=^ord'), ['ord10']);
    assert.deepEqual(listed('type=builtin'), ['bridge', 'host', 'none']);
    assert.equal(fx.strata(['network', 'ls', '--filter', 'type=user']).stderr, "Error: invalid filter: 'type'='user'\n");
    ok(['rm', '-f', 'ordered']);
    ok(['network', 'rm', 'ord10', 'ord9']);
  });

  it("network prune --filter: label, label! and until, as Docker's", () => {
    ok(['network', 'create', '--label', 'env=dev', 'pr-dev']);
    ok(['network', 'create', '--label', 'env=prod', 'pr-prod']);
    ok(['network', 'create', 'pr-plain']);
    const names = () => ok(['network', 'ls', '--format', '{{.Name}}']).split('\n').filter((n) => n.startsWith('pr-')).sort();
    assert.equal(ok(['network', 'prune', '-f', '--filter', 'label=env=dev']), 'Deleted Networks:\npr-dev\n');
    assert.equal(ok(['network', 'prune', '-f', '--filter', 'until=2000-01-01T00:00:00Z']), '', 'none is that old');
    assert.deepEqual(names(), ['pr-plain', 'pr-prod']);
    assert.equal(ok(['network', 'prune', '-f', '--filter', 'label!=env', '--filter', 'until=2100-01-01T00:00:00Z']).includes('pr-plain\n'), true);
    assert.deepEqual(names(), ['pr-prod']);
    const bad = fx.strata(['network', 'prune', '-f', '--filter', 'dangling=true']);
    assert.equal(bad.status, 125);
    assert.equal(bad.stderr, 'Error: invalid filter "dangling": network prune supports until, label, label!\n');
    assert.deepEqual(names(), ['pr-prod']);
    ok(['network', 'rm', 'pr-prod']);
  });

  it('names the FQDN and the bare name in /etc/hosts with --domainname or a dotted --hostname, as libnetwork', () => {
    assert.match(ok(['run', '--rm', '--hostname', 'web', '--domainname', 'example.com', 'busybox', 'sh', '-c', 'tail -n 1 /etc/hosts; hostname -f']), /^\d+\.\d+\.\d+\.\d+\tweb\.example\.com web\nweb\.example\.com\n$/);
    assert.match(ok(['run', '--rm', '--hostname', 'db.example.org', 'busybox', 'tail', '-n', '1', '/etc/hosts']), /^\d+\.\d+\.\d+\.\d+\tdb\.example\.org db\n$/);
  });

  it('connects a container to every --network given (user-defined ones, also in the long syntax), as Docker 25+', () => {
    ok(['network', 'create', 'front']);
    ok(['network', 'create', 'back']);
    ok(['run', '-d', '--name', 'both', '--network', 'front', '--network', 'name=back,alias=backapi', '--network-alias', 'api', 'busybox', 'sleep', '300']);
    const nets = JSON.parse(ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'both'])) as Record<string, { IPAddress: string; Aliases: string[] | null }>;
    assert.deepEqual(Object.keys(nets).sort(), ['back', 'front']);
    assert.deepEqual([nets.front!.Aliases, nets.back!.Aliases], [['api'], ['backapi']], "--network-alias is the first network's; alias= its own network's");
    assert.match(nets.back!.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(fx.strata(['run', '--rm', '--network', 'back', 'busybox', 'sh', '-c', 'nslookup both && nslookup backapi']).status, 0, 'resolvable on the second network, by its alias there too');
    const both = fx.strata(['run', '--rm', '--network', 'name=front,alias=x', '--network-alias', 'y', 'busybox', 'true']);
    assert.equal(both.stderr, 'Error: conflicting options: cannot specify both --network-alias and per-network alias\n');
    const twice = fx.strata(['run', '--rm', '--network', 'front', '--network', 'front', 'busybox', 'true']);
    assert.equal(twice.stderr, 'Error: network "front" is specified multiple times\n');
    const mixed = fx.strata(['run', '--rm', '--network', 'bridge', '--network', 'front', 'busybox', 'true']);
    assert.equal(mixed.stderr, 'Error: conflicting options: cannot attach both user-defined and non-user-defined network-modes\n');
    assert.equal(mixed.status, 125);
    ok(['rm', '-f', 'both']);
  });

  it('leaves a container whose port is taken "Created", as Docker leaves one whose port is already allocated (exited, once it ran)', async () => {
    const held = net.createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (held.address() as net.AddressInfo).port;
      const busy = fx.strata(['run', '-d', '--name', 'busy', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '300']);
      assert.equal(busy.status, 125);
      assert.equal(busy.stderr, `Error: cannot publish port 127.0.0.1:${port}/tcp: address already in use\n`);
      const state = JSON.parse(ok(['inspect', '--format', '{{json .State}}', 'busy'])) as { Status: string; ExitCode: number; Error: string; StartedAt: string };
      assert.deepEqual([state.Status, state.ExitCode, state.StartedAt], ['created', 125, '0001-01-01T00:00:00Z']);
      assert.match(state.Error, /address already in use/);
      assert.match(ok(['ps', '-a', '--filter', 'name=busy', '--format', '{{.Status}}']), /^Created\n$/);
      // Once it has run, a start that fails leaves it exited with its last run's times, as Docker's.
      await new Promise((r) => held.close(r));
      ok(['start', 'busy']);
      ok(['stop', '-t', '0', 'busy']);
      const ran = JSON.parse(ok(['inspect', '--format', '{{json .State}}', 'busy'])) as { StartedAt: string; FinishedAt: string };
      await new Promise<void>((r) => held.listen(port, '127.0.0.1', () => r()));
      const again = fx.strata(['start', 'busy']);
      assert.equal(again.stderr, `Error: cannot publish port 127.0.0.1:${port}/tcp: address already in use\n`);
      const after = JSON.parse(ok(['inspect', '--format', '{{json .State}}', 'busy'])) as typeof state & { FinishedAt: string };
      assert.deepEqual([after.Status, after.ExitCode, after.StartedAt, after.FinishedAt], ['exited', 125, ran.StartedAt, ran.FinishedAt]);
      assert.match(after.Error, /address already in use/);
      assert.match(ok(['ps', '-a', '--filter', 'name=busy', '--format', '{{.Status}}']), /^Exited \(125\) /);
    } finally {
      held.close();
    }
    ok(['rm', 'busy']);
  });

  it("refuses network connect to host and none with Docker's errors (not 'network not found')", () => {
    ok(['run', '-d', '--name', 'joiner', 'busybox', 'sleep', '300']);
    const host = fx.strata(['network', 'connect', 'host', 'joiner']);
    assert.deepEqual([host.status, host.stderr], [125, 'Error: container cannot be disconnected from host network or connected to host network\n']);
    const none = fx.strata(['network', 'connect', 'none', 'joiner']);
    assert.deepEqual([none.status, none.stderr], [125, 'Error: container cannot be connected to multiple networks with one of the networks in private (none) mode\n']);
    ok(['rm', '-f', 'joiner']);
  });

  it("keeps a running container's own /etc/hosts lines to the networks it is on across connect and disconnect", () => {
    ok(['network', 'create', 'ha']);
    ok(['network', 'create', 'hb']);
    ok(['run', '-d', '--name', 'moving', '--hostname', 'mover', '--network', 'ha', 'busybox', 'sleep', '300']);
    ok(['network', 'connect', 'hb', 'moving']);
    // Its address on each network, in one inspect.
    const ips = JSON.parse(ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'moving'])) as Record<string, { IPAddress: string }>;
    const [a, b] = [ips.ha!.IPAddress, ips.hb!.IPAddress];
    assert.equal(ok(['exec', 'moving', 'grep', 'mover$', '/etc/hosts']), `${a}\tmover\n${b}\tmover\n`);
    ok(['network', 'disconnect', 'ha', 'moving']);
    assert.equal(ok(['exec', 'moving', 'hostname', '-i']).trim(), b, 'its name gives an address it still has');
    ok(['rm', '-f', 'moving']);
  });

  it('network inspect shows the networks found and names the missing ones, exit 1, as inspect', () => {
    const r = fx.strata(['network', 'inspect', '--format', '{{.Name}}', 'host', 'nosuch', 'none']);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, 'host\nnone\n', 'Error: network "nosuch" not found\n']);
  });

  it("gives a network's interfaces the MTU of -o com.docker.network.driver.mtu, and refuses a bad one", () => {
    const small = fx.strata(['network', 'create', '-o', 'com.docker.network.driver.mtu=1400', '-o', 'com.docker.network.bridge.enable_icc=false', 'small']);
    assert.equal(small.status, 0, small.stderr);
    // An option strata does not apply is recorded, with a warning, never silently taken.
    assert.equal(small.stderr, 'WARNING: network option "com.docker.network.bridge.enable_icc" is not supported by strata: it is recorded but has no effect\n');
    assert.equal(ok(['run', '--rm', '--network', 'small', 'busybox', 'cat', '/sys/class/net/eth0/mtu']), '1400\n');
    const bad = fx.strata(['network', 'create', '-o', 'com.docker.network.driver.mtu=big', 'badmtu']);
    assert.deepEqual([bad.status, bad.stderr], [125, 'Error: invalid com.docker.network.driver.mtu "big": expected a number from 68 to 65535\n']);
    ok(['network', 'rm', 'small']);
  });

  it('network create --ip-range hands addresses out from the range only (an --ip anywhere in the subnet), --attachable recorded', () => {
    ok(['network', 'create', '--subnet', '10.123.0.0/24', '--ip-range', '10.123.0.200/29', '--attachable', 'ranged']);
    const config = JSON.parse(ok(['network', 'inspect', '--format', '{{json .IPAM.Config}} {{.Attachable}}', 'ranged']).replace(/ true\n$/, '')) as Array<Record<string, string>>;
    assert.deepEqual(config, [{ Subnet: '10.123.0.0/24', IPRange: '10.123.0.200/29', Gateway: '10.123.0.1' }]);
    assert.match(ok(['run', '--rm', '--network', 'ranged', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /inet 10\.123\.0\.20[0-7]\/24 /);
    assert.match(ok(['run', '--rm', '--network', 'ranged', '--ip', '10.123.0.9', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /inet 10\.123\.0\.9\/24 /);
    const outside = fx.strata(['network', 'create', '--subnet', '10.124.0.0/24', '--ip-range', '10.125.0.0/25', 'wrong']);
    assert.deepEqual([outside.status, outside.stderr], [125, 'Error: invalid --ip-range "10.125.0.0/25": not within subnet "10.124.0.0/24"\n']);
    ok(['network', 'rm', 'ranged']);
  });
});
