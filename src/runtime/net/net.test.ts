import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NetworkRecord } from '../../store/networks.js';
import { hostResolvConfText, parseResolvConf, hostRoutes } from './host.js';
import { candidateSubnets, formatSubnet, hostAt, macFor, overlaps, parseIp, parseSubnet } from './ipv4.js';
import { renderRules } from './kernel.js';
import { bridgeName, vethName } from './names.js';
import { plumbingScript, type Attached } from './endpoints.js';
import { parseNetworkAttachment } from './config.js';

function network(over: Partial<NetworkRecord> & { subnet: string; bridge: string }): NetworkRecord {
  const { subnet, bridge, ...rest } = over;
  return {
    Name: 'n', Id: 'a'.repeat(64), Created: '', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: subnet, Gateway: formatSubnet(parseSubnet(subnet)).replace(/0\/\d+$/, '1') }] },
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
    Strata: { bridge, index: 1, subnetGiven: false }, ...rest,
  };
}

describe('ipv4', () => {
  it('parses subnets and refuses host bits, bad prefixes and garbage', () => {
    assert.deepEqual(parseSubnet('172.17.0.0/16'), { base: parseIp('172.17.0.0'), prefix: 16 });
    assert.throws(() => parseSubnet('172.17.0.1/16'), /host bits set \(did you mean 172\.17\.0\.0\/16\?\)/);
    assert.throws(() => parseSubnet('172.17.0.0/31'), /too small/);
    assert.throws(() => parseSubnet('300.1.0.0/16'), /invalid subnet "300\.1\.0\.0\/16"/);
  });
  it('tells overlaps, hosts and Docker MACs', () => {
    assert.ok(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.200.3.0/24')));
    assert.ok(!overlaps(parseSubnet('172.17.0.0/16'), parseSubnet('172.18.0.0/16')));
    assert.equal(hostAt(parseSubnet('172.18.0.0/16'), 2), parseIp('172.18.0.2'));
    assert.equal(macFor(parseIp('172.17.0.2')!), '02:42:ac:11:00:02');
  });
  it("offers Docker's pools first, then small ones, none overlapping another", () => {
    const all = [...candidateSubnets()];
    assert.equal(formatSubnet(all[0]!), '172.17.0.0/16');
    assert.equal(formatSubnet(all[15]!), '192.168.0.0/20');
    for (let i = 1; i < 40; i++) assert.ok(!overlaps(all[i - 1]!, all[i]!));
  });
});

describe('host facts', () => {
  it('reads the route table /proc/net/route shows (little-endian hex), without the default route', () => {
    const text = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'
      + 'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n'
      + 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'
      + 'br0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n';
    assert.deepEqual(hostRoutes(text).map((r) => [r.dev, formatSubnet(r.subnet)]), [['eth0', '192.0.2.0/24'], ['br0', '172.17.0.0/16']]);
  });
  it("reads systemd-resolved's upstream servers behind its stub, as Docker does", () => {
    const files = (etc: string, upstreams = '') => (f: string) => (f === '/etc/resolv.conf' ? etc : f === '/run/systemd/resolve/resolv.conf' ? upstreams : '');
    assert.equal(hostResolvConfText(files('nameserver 127.0.0.53\nsearch lan\n', 'nameserver 192.0.2.53\nsearch lan\n')), 'nameserver 192.0.2.53\nsearch lan\n');
    assert.equal(hostResolvConfText(files('nameserver 127.0.0.53\n')), 'nameserver 127.0.0.53\n', 'no upstream list: as it is');
    assert.equal(hostResolvConfText(files('nameserver 10.0.0.2\n', 'nameserver 192.0.2.53\n')), 'nameserver 10.0.0.2\n', 'not the stub: as it is');
  });
  it('parses resolv.conf', () => {
    assert.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.2\nsearch a b\noptions ndots:2 edns0\nnameserver 127.0.0.53\n'), { nameservers: ['10.0.0.2', '127.0.0.53'], search: ['a', 'b'], options: ['ndots:2', 'edns0'] });
  });
});

describe('kernel objects', () => {
  it('names them per state root, within Linux limits', () => {
    assert.equal(bridgeName('1f8d74ea', 35), 'sb1f8d74eaz');
    assert.ok(vethName('1f8d74ea').length <= 15);
    assert.match(vethName('1f8d74ea'), /^sv1f8d74ea[0-9a-f]{5}$/);
  });
  it('renders the root\'s table: NAT and isolation for a network, nothing out of an internal one', () => {
    const text = renderRules('1f8d74ea', [network({ subnet: '172.18.0.0/16', bridge: 'sb1f8d74ea1' }), network({ subnet: '10.1.0.0/24', bridge: 'sb1f8d74ea2', Internal: true })]);
    assert.match(text, /^table ip strata_1f8d74ea\ndelete table ip strata_1f8d74ea\ntable ip strata_1f8d74ea \{/);
    assert.match(text, /ip saddr 172\.18\.0\.0\/16 oifname != "sb1f8d74ea1" masquerade/);
    assert.doesNotMatch(text, /10\.1\.0\.0\/24 .*masquerade/);
    assert.match(text, /iifname "sb1f8d74ea1" oifname "sb\*" drop\n\s+iifname "sb1f8d74ea1" accept/);
    assert.match(text, /iifname "sb1f8d74ea2" drop\n\s+oifname "sb1f8d74ea2" drop/);
    assert.equal(renderRules('1f8d74ea', []), 'table ip strata_1f8d74ea\ndelete table ip strata_1f8d74ea\n');
  });
  it('plumbs a container from inside its namespace, the default route through a network with a way out', () => {
    const at = (net: NetworkRecord, ip: string, ifname: string): Attached => ({
      net, endpoint: { ContainerId: 'c', EndpointId: 'e', DnsNames: [], IPv4: ip, PrefixLen: 16, Gateway: net.IPAM.Config[0]!.Gateway, Mac: macFor(parseIp(ip)!), Veth: `sv1f8d74ea${ifname}`, IfName: ifname, Owner: { pid: 1, start: '' }, Upstreams: [] },
    });
    const sealed = network({ subnet: '10.1.0.0/16', bridge: 'sb1f8d74ea2', Internal: true });
    const open = network({ subnet: '172.18.0.0/16', bridge: 'sb1f8d74ea1' });
    const script = plumbingScript([at(sealed, '10.1.0.2', 'eth0'), at(open, '172.18.0.2', 'eth1')], 4242, true);
    assert.match(script, /link add eth0 address 02:42:0a:01:00:02 type veth peer name sv1f8d74eaeth0 netns 4242/);
    assert.match(script, /route add default via 172\.18\.0\.1\n/);
    assert.match(script, /nsenter --net=\/proc\/4242\/ns\/net ip -batch - <<'EOF'\nlink set sv1f8d74eaeth0 master sb1f8d74ea2/);
    assert.match(script, /^set -e\nip -batch - <<'EOF'\nlink set lo up\n/);
    assert.doesNotMatch(plumbingScript([at(sealed, '10.1.0.2', 'eth0')], 4242, true), /route add default/);
  });
});

describe('--network values', () => {
  it("reads Docker 25's long syntax (name=,alias=,ip=,mac-address=) and a plain name, and says what is wrong", () => {
    assert.deepEqual(parseNetworkAttachment('front'), { target: 'front', aliases: [] });
    assert.deepEqual(parseNetworkAttachment('container:web'), { target: 'container:web', aliases: [] });
    assert.deepEqual(parseNetworkAttachment('name=front,alias=db,"alias=a,b",IP=10.1.0.9, mac-address = 02:42:0a:01:00:09'),
      { target: 'front', aliases: ['db', 'a,b'], ip: '10.1.0.9', mac: '02:42:0a:01:00:09' });
    for (const [value, why] of [
      ['alias=db', 'network name not specified'],
      ['name=front,colour=red', 'invalid field key colour'],
      ['name=front,alias', 'invalid field alias'],
      ['name=front,ip6=fd00::9', 'strata does not support the field ip6'],
    ]) {
      assert.throws(() => parseNetworkAttachment(value!), { name: 'StrataError', message: `invalid argument "${value}" for "--network" flag: ${why}` });
    }
  });
});
