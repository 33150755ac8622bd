import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  allCapabilities, checkSecurityOpt, containerCapabilities, parseCpus, parseDevice, parsePidsLimit, parseTmpfs, portBindingsOf, readSeccompProfiles, securityOptions,
  parseCpuset, parseSysctls, tmpfsOptions,
} from './host-config.js';
import { DEFAULT_CAPABILITIES, buildRuntimeSpec } from './spec.js';

describe('host config flags', () => {
  it("applies --cap-add/--cap-drop as moby's TweakCapabilities", () => {
    const all = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];
    assert.equal(containerCapabilities({}), DEFAULT_CAPABILITIES);
    assert.deepEqual(containerCapabilities({ privileged: true, capDrop: ['ALL'] }, all), all);
    assert.deepEqual(containerCapabilities({ capAdd: ['all'], capDrop: ['sys_admin'] }, all), ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN']);
    assert.deepEqual(containerCapabilities({ capDrop: ['ALL'], capAdd: ['kill'] }, all), ['CAP_KILL']);
    assert.deepEqual(containerCapabilities({ capAdd: ['CAP_NET_ADMIN'], capDrop: ['chown'] }), [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN']);
    assert.throws(() => containerCapabilities({ capAdd: ['nope'] }), /^StrataError: unknown capability: "CAP_NOPE"$/);
  });

  it('offers only the capabilities of our own bounding set', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-caps-'));
    try {
      fs.writeFileSync(path.join(dir, 'status'), 'Name:\tx\nCapBnd:\t0000000000000021\n');
      assert.deepEqual(allCapabilities(path.join(dir, 'status')), ['CAP_CHOWN', 'CAP_KILL']);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('parses --cpus, --pids-limit, --device and --tmpfs as Docker', () => {
    assert.equal(parseCpus('1.5', 2), 1.5e9);
    assert.equal(parseCpus('0', 2), 0);
    assert.throws(() => parseCpus('3', 2), /range of CPUs is from 0\.01 to 2\.00, as there are only 2 CPUs available/);
    assert.throws(() => parseCpus('x', 2), /invalid argument "x" for "--cpus" flag/);
    assert.deepEqual([parsePidsLimit('100'), parsePidsLimit('-1'), parsePidsLimit('0')], [100, null, null]);
    assert.deepEqual(parseDevice('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
    assert.deepEqual(parseDevice('/dev/fuse:r'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'r' });
    assert.deepEqual(parseDevice('/dev/sda:/dev/xvdc:rw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rw' });
    assert.throws(() => parseDevice('/dev/sda:/dev/x:rx'), /invalid device mode: rx/);
    assert.throws(() => parseDevice('/dev/sda:rel'), /rel is not an absolute path/);
    assert.deepEqual(parseTmpfs(['/run', '/tmp/:size=1m']), { '/run': '', '/tmp': 'size=1m' });
    assert.throws(() => parseTmpfs(['/']), /destination can't be "\/"/);
    assert.throws(() => parseTmpfs(['rel']), /must be an absolute path/);
    assert.deepEqual(tmpfsOptions(''), ['noexec', 'nosuid', 'nodev']);
    assert.deepEqual(tmpfsOptions('exec,size=1m,ro'), ['nosuid', 'nodev', 'exec', 'size=1m', 'ro']);
    assert.deepEqual(tmpfsOptions('size=1m,size=2m'), ['noexec', 'nosuid', 'nodev', 'size=2m']);
  });

  it('checks --security-opt and reads what it asks', () => {
    for (const ok of ['seccomp=unconfined', 'seccomp:unconfined', 'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges', 'no-new-privileges:false', 'apparmor=unconfined', 'label=disable', 'systempaths=unconfined']) {
      assert.equal(checkSecurityOpt(ok), ok);
    }
    for (const bad of ['seccomp=/x.json', 'no-new-privileges=maybe', 'fly']) assert.throws(() => checkSecurityOpt(bad), /^StrataError: invalid --security-opt: "/);
    assert.throws(() => checkSecurityOpt('apparmor=docker-default'), /strata applies no AppArmor profile \(only apparmor=unconfined\)/);
    assert.throws(() => checkSecurityOpt('label=user:x'), /strata applies no SELinux labels \(only label=disable\)/);
    assert.deepEqual(securityOptions(['seccomp={"defaultAction":"SCMP_ACT_LOG"}']).seccompProfile, { defaultAction: 'SCMP_ACT_LOG' });
    assert.deepEqual(securityOptions([]), { seccomp: 'default', noNewPrivileges: false, unmaskPaths: false });
    assert.deepEqual(securityOptions(['seccomp=unconfined', 'no-new-privileges', 'systempaths=unconfined']), { seccomp: 'unconfined', noNewPrivileges: true, unmaskPaths: true });
  });

  it("writes -p as Docker's PortBindings", async () => {
    assert.deepEqual(await portBindingsOf([]), {});
    assert.deepEqual(await portBindingsOf(['8080:80', '127.0.0.1::53/udp', '7000-7005:7000']), {
      '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }], '7000/tcp': [{ HostIp: '', HostPort: '7000-7005' }],
    });
  });

  it('puts limits, devices and privileges in the runtime spec', () => {
    const spec = buildRuntimeSpec({
      args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [], home: '/root' }, hostname: 'h', network: 'none', terminal: false,
      readonlyRoot: false, overlay: { lowerdir: 'l', upperdir: 'u', workdir: 'w' }, etc: { hosts: 'a', hostname: 'b', resolvConf: 'c' }, mounts: [],
      cgroupsPath: '/strata/x', rlimits: [], cpu: { quota: 50000, period: 100000, shares: 512 }, pidsLimit: 9, noNewPrivileges: false, cgroupNamespace: true,
      devices: [{ path: '/dev/n', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0, access: 'rw' }],
    }) as { process: { noNewPrivileges: boolean }; linux: { resources: Record<string, unknown>; devices: unknown[]; maskedPaths?: string[]; namespaces: Array<{ type: string }> } };
    // cgroup v2 hosts: a cgroup namespace of its own, as Docker's default there.
    assert.ok(spec.linux.namespaces.some((n) => n.type === 'cgroup'));
    assert.deepEqual(spec.linux.resources.cpu, { quota: 50000, period: 100000, shares: 512 });
    assert.deepEqual(spec.linux.resources.pids, { limit: 9 });
    assert.deepEqual(spec.linux.resources.devices, [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]);
    assert.deepEqual(spec.linux.devices, [{ path: '/dev/n', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
    assert.equal(spec.process.noNewPrivileges, false);
    assert.ok(spec.linux.maskedPaths?.includes('/proc/kcore'));
  });

  it('reads a seccomp=FILE profile into the option, as Docker\'s CLI sends it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-seccomp-'));
    try {
      fs.writeFileSync(path.join(dir, 'p.json'), '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [] }');
      fs.writeFileSync(path.join(dir, 'bad.json'), '{ nope');
      assert.deepEqual(readSeccompProfiles(['seccomp=p.json', 'seccomp=unconfined', 'no-new-privileges'], dir), [
        'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}', 'seccomp=unconfined', 'no-new-privileges',
      ]);
      assert.throws(() => readSeccompProfiles(['seccomp=missing.json'], dir), /^StrataError: opening seccomp profile \(missing\.json\) failed: no such file or directory$/);
      assert.throws(() => readSeccompProfiles(['seccomp=bad.json'], dir), /^StrataError: decoding seccomp profile \(bad\.json\) failed: /);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('--sysctl and --cpuset-cpus', () => {
  it('allows only namespaced sysctls, and none of a namespace shared with the host', () => {
    const own = { hostNetwork: false, hostIpc: false };
    assert.deepEqual(parseSysctls(['net.ipv4.ip_forward=1', 'kernel/shmmax=42', 'fs.mqueue.msg_max=20'], own),
      { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '42', 'fs.mqueue.msg_max': '20' });
    assert.throws(() => parseSysctls(['vm.swappiness=1'], own), /sysctl "vm.swappiness" is not allowed: only namespaced ones/);
    assert.throws(() => parseSysctls(['kernel.hostname=x'], own), /not allowed/);
    assert.throws(() => parseSysctls(['net.core.somaxconn=1'], { hostNetwork: true, hostIpc: false }), /in the host's network namespace/);
    assert.throws(() => parseSysctls(['kernel.sem=1 2 3 4'], { hostNetwork: false, hostIpc: true }), /in the host's IPC namespace/);
    assert.throws(() => parseSysctls(['=1'], own), /expected KEY=VALUE/);
  });
  it('takes cpuset lists', () => {
    assert.equal(parseCpuset('0-2,4'), '0-2,4');
    assert.equal(parseCpuset(undefined), undefined);
    assert.throws(() => parseCpuset('0-'), /invalid value "0-" for cpuset cpus/);
  });
});
