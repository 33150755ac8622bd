import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, buildRuntimeSpec, type SpecInput } from './spec.js';
import { extraHostLines, resolvConfText } from './etc.js';

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    args: ['sh'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [10], home: '/root' },
    hostname: 'abc', network: 'private', terminal: false, readonlyRoot: false,
    overlay: { lowerdir: '../init:../l/0', upperdir: '/c/upper', workdir: '/c/work' },
    etc: { hosts: '/b/hosts', hostname: '/b/hostname', resolvConf: '/b/resolv.conf' },
    mounts: [], cgroupsPath: '/strata/x', rlimits: [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 }], ...over,
  };
}

type Spec = {
  process: { capabilities: Record<string, string[]>; noNewPrivileges: boolean; user: object; rlimits: object[] };
  mounts: Array<{ destination: string; type: string; options?: string[]; source: string }>;
  linux: { namespaces: Array<{ type: string }>; maskedPaths: string[]; readonlyPaths: string[]; resources: { memory?: { limit: number } }; cgroupsPath: string };
  root: { path: string; readonly: boolean };
};

describe('buildRuntimeSpec', () => {
  it("has Docker's capabilities, no_new_privileges and masked paths", () => {
    const spec = buildRuntimeSpec(input()) as unknown as Spec;
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    for (const set of ['bounding', 'effective', 'permitted']) assert.deepEqual(spec.process.capabilities[set], DEFAULT_CAPABILITIES);
    assert.equal(spec.process.capabilities.inheritable, undefined);
    assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN'));
    assert.equal(spec.process.noNewPrivileges, true);
    assert.ok(spec.linux.maskedPaths.includes('/proc/kcore') && spec.linux.maskedPaths === MASKED_PATHS);
    assert.deepEqual(spec.linux.readonlyPaths, READONLY_PATHS);
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [10] });
    assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 }]);
  });

  it('mounts the overlay root first, then /proc, /dev and the /etc files', () => {
    const spec = buildRuntimeSpec(input()) as unknown as Spec;
    assert.deepEqual(spec.mounts[0], { destination: '/', type: 'overlay', source: 'overlay', options: ['lowerdir=../init:../l/0', 'upperdir=/c/upper', 'workdir=/c/work'] });
    const dests = spec.mounts.map((m) => m.destination);
    for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) assert.ok(dests.includes(d), d);
    assert.equal(spec.mounts.find((m) => m.destination === '/etc/hosts')?.source, '/b/hosts');
    // A shared IPC's /dev/shm: a host directory bound in place of the tmpfs.
    const shm = (over: Partial<SpecInput>) => (buildRuntimeSpec(input(over)) as unknown as Spec).mounts.filter((m) => m.destination === '/dev/shm');
    assert.deepEqual(shm({ shmSource: '/c/shm' }), [{ destination: '/dev/shm', type: 'bind', source: '/c/shm', options: ['rbind', 'rprivate'] }]);
    assert.equal(shm({})[0]?.type, 'tmpfs');
    assert.deepEqual(shm({ noShm: true }), []);
  });

  it('has its own network namespace unless --network host', () => {
    const ns = (network: SpecInput['network']) => (buildRuntimeSpec(input({ network })) as unknown as Spec).linux.namespaces.map((n) => n.type).sort();
    assert.deepEqual(ns('private'), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(ns('none'), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(ns('host'), ['ipc', 'mount', 'pid', 'uts']);
  });

  it('puts bind mounts (ro/rw), the memory limit and the cgroup path in', () => {
    const spec = buildRuntimeSpec(input({
      memoryBytes: 64 << 20, readonlyRoot: true,
      mounts: [{ type: 'bind', source: '/h', destination: '/c', readonly: true }, { type: 'bind', source: '/h2', destination: '/d', readonly: false }],
    })) as unknown as Spec;
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/c'), { destination: '/c', type: 'bind', source: '/h', options: ['rbind', 'ro', 'rprivate'] });
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/d')?.options, ['rbind', 'rw', 'rprivate']);
    assert.equal(spec.linux.resources.memory?.limit, 64 << 20);
    assert.equal(spec.linux.cgroupsPath, '/strata/x');
    assert.equal(spec.root.readonly, true);
  });

  it('mounts a parent before what is inside it (a volume on /etc before /etc/hosts), else in the given order', () => {
    const spec = buildRuntimeSpec(input({
      mounts: [{ type: 'bind', source: '/h', destination: '/etc/hosts', readonly: true }, { type: 'bind', source: '/v', destination: '/etc', readonly: false }],
    })) as unknown as Spec;
    const order = spec.mounts.map((m) => `${m.destination}<${m.source}`).filter((d) => d.startsWith('/etc'));
    assert.deepEqual(order, ['/etc</v', '/etc/resolv.conf</b/resolv.conf', '/etc/hostname</b/hostname', '/etc/hosts</b/hosts', '/etc/hosts</h']);
  });
});

describe('resolvConfText', () => {
  const none = { dns: [], dnsSearch: [], dnsOptions: [] };
  it('drops loopback nameservers as Docker does, keeping search and options', () => {
    assert.equal(resolvConfText(none, undefined, 'search x\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n'), 'nameserver 10.0.0.2\nsearch x\noptions edns0\n');
  });
  it("falls back to Docker's public resolvers when nothing is left", () => {
    assert.equal(resolvConfText(none, undefined, 'nameserver 127.0.0.1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
  it('takes --dns, --dns-search ("." for none) and --dns-option over the host\'s', () => {
    const host = 'search corp\nnameserver 10.0.0.2\noptions ndots:2\n';
    assert.equal(resolvConfText({ dns: ['192.0.2.53'], dnsSearch: ['a.example'], dnsOptions: ['ndots:1'] }, undefined, host), 'nameserver 192.0.2.53\nsearch a.example\noptions ndots:1\n');
    assert.equal(resolvConfText({ dns: [], dnsSearch: ['.'], dnsOptions: [] }, undefined, host), 'nameserver 10.0.0.2\noptions ndots:2\n');
  });
  it("names a user-defined network's responder as the only server, with Docker's ndots:0 unless an ndots is set", () => {
    assert.equal(resolvConfText({ dns: ['192.0.2.53'], dnsSearch: [], dnsOptions: [] }, '172.18.0.1', 'nameserver 10.0.0.2\n'), 'nameserver 172.18.0.1\noptions ndots:0\n');
    const host = 'search corp\nnameserver 10.0.0.2\noptions edns0 ndots:x\n';
    assert.equal(resolvConfText(none, '172.18.0.1', host), 'nameserver 172.18.0.1\nsearch corp\noptions edns0 ndots:0\n', 'an invalid ndots replaced');
    assert.equal(resolvConfText(none, '172.18.0.1', 'nameserver 10.0.0.2\noptions ndots:3\n'), 'nameserver 172.18.0.1\noptions ndots:3\n', "the host's kept");
    assert.equal(resolvConfText({ dns: [], dnsSearch: [], dnsOptions: ['ndots:2'] }, '172.18.0.1', host), 'nameserver 172.18.0.1\nsearch corp\noptions ndots:2\n');
  });
});

describe('extraHostLines', () => {
  it('writes --add-host entries, host-gateway as the gateway', () => {
    assert.equal(extraHostLines(['db:10.1.2.3', 'gw:host-gateway'], '172.17.0.1'), '10.1.2.3\tdb\n172.17.0.1\tgw\n');
    assert.throws(() => extraHostLines(['gw:host-gateway'], undefined), /host-gateway needs a network/);
  });
});
