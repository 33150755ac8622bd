// End-to-end: run's resource and security flags (issue 14), each checked from inside a real
// container: its capability masks and no_new_privs bit, its cgroup's limits (v1 or v2 files,
// whichever the host has), its mount table, its PID 1, its device nodes; and inspect's
// HostConfig for them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allCapabilities, locateCgroup, readCgroupLimits, readShimStatus } from '../runtime/index.js';
import { strataCommand } from '../testing/cli.js';
import { lifecycleFixture, logged, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');

/** The capability mask of a list of capabilities, as /proc/PID/status prints it. */
function mask(caps: string[]): string {
  const all = ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE',
    'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN',
    'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE',
    'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE'];
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(all.indexOf(c.replace(/^CAP_/, '')));
  return m.toString(16).padStart(16, '0');
}

/**
 * One shell script that runs each of PARTS in turn, its output headed by its name (one
 * container instead of one per check); `sections` gives each part's output back by name.
 */
function sectionsScript(parts: Record<string, string>): string {
  return Object.entries(parts).map(([name, part]) => `echo "@@ ${name}"; ${part}`).join('\n');
}
function sections(out: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const chunk of out.split(/^@@ /m).slice(1)) {
    const nl = chunk.indexOf('\n');
    found[chunk.slice(0, nl)] = chunk.slice(nl + 1);
  }
  return found;
}

/** The checks of a container run with no flag at all, made in one container the tests share. */
const DEFAULTS = {
  status: 'cat /proc/self/status',
  plain: 'test -e /dev/loop-control || echo none; grep " /sys " /proc/mounts; grep -c " /proc/[a-z_]* " /proc/mounts',
  mkdir: 'mkdir /x && echo made',
  pid: 'echo $$',
  shm: 'df -k /dev/shm',
};

describe('run flags: resources and security', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  /** What a container with no flags printed for each of DEFAULTS. */
  let noFlags: Record<keyof typeof DEFAULTS, string>;
  before(async () => {
    fx = await lifecycleFixture();
    const r = fx.strata(['run', '--rm', 'busybox', 'sh', '-c', sectionsScript(DEFAULTS)]);
    assert.equal(r.status, 0, r.stderr);
    noFlags = sections(r.stdout) as typeof noFlags;
    assert.deepEqual(Object.keys(noFlags), Object.keys(DEFAULTS), r.stdout);
  });
  after(async () => {
    await fx.teardown();
  });
  const run = (args: string[]) => {
    const r = fx.strata(['run', '--rm', ...args]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  /** The containers of the root, as its state dir holds them (a look that starts no CLI). */
  const containerDirs = () => (fs.existsSync(`${fx.root}/containers`) ? fs.readdirSync(`${fx.root}/containers`).filter((d) => /^[0-9a-f]{64}$/.test(d)).sort() : []);
  const capEffIn = (status: string) => /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const capEff = (args: string[]) => capEffIn(run([...args, 'busybox', 'cat', '/proc/self/status']));

  it("gives Docker's default capabilities, and --cap-add/--cap-drop change them", () => {
    assert.equal(capEffIn(noFlags.status), '00000000a80425fb');
    assert.equal(capEff(['--cap-drop', 'ALL']), '0000000000000000');
    assert.equal(capEff(['--cap-add', 'net_admin']), mask(['NET_ADMIN', 'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE']));
    assert.equal(capEff(['--cap-drop', 'ALL', '--cap-add', 'CAP_KILL', '--cap-add', 'chown']), mask(['KILL', 'CHOWN']));
    assert.equal(capEff(['--cap-drop', 'NET_RAW', '--cap-drop', 'mknod']), mask(['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE']));
    const bad = fx.strata(['run', '--rm', '--cap-add', 'FLY', 'busybox', 'true']);
    assert.deepEqual([bad.status, bad.stderr.trim()], [125, 'Error: unknown capability: "CAP_FLY"']);
  });

  it('--privileged gives every capability, the host devices and a writable /sys, without masked paths', () => {
    const out = run(['--privileged', 'busybox', 'sh', '-c', 'grep CapEff /proc/self/status; test -c /dev/loop-control && echo dev; grep " /sys " /proc/mounts; grep -c " /proc/[a-z_]* " /proc/mounts || true']);
    assert.match(out, new RegExp(`^CapEff:\\s*${mask(allCapabilities())}$`, 'm'));
    assert.match(out, /^dev$/m);
    assert.match(out, /^sysfs \/sys sysfs rw,/m);
    assert.match(out, /^0$/m, 'no masked or read-only /proc paths');
    // Without --privileged (DEFAULTS.plain).
    assert.match(noFlags.plain, /^none$/m);
    assert.match(noFlags.plain, /^sysfs \/sys sysfs ro,/m);
    assert.doesNotMatch(noFlags.plain, /^0$/m);
  });

  it('--security-opt no-new-privileges sets the bit (off by default, as Docker), and systempaths=unconfined unmasks /proc', () => {
    const nnpIn = (status: string) => /^NoNewPrivs:\s*(\d)$/m.exec(status)?.[1];
    const nnp = (args: string[]) => nnpIn(run([...args, 'busybox', 'cat', '/proc/self/status']));
    assert.equal(nnpIn(noFlags.status), '0');
    assert.equal(nnp(['--security-opt', 'no-new-privileges']), '1');
    assert.equal(nnp(['--security-opt', 'no-new-privileges=false']), '0');
    // no-new-privileges:true and systempaths=unconfined, seen in one container.
    assert.equal(run(['--security-opt', 'no-new-privileges:true', '--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c',
      'grep NoNewPrivs: /proc/self/status; grep -c " /proc/[a-z_]* " /proc/mounts || true']), 'NoNewPrivs:\t1\n0\n');
    // A profile of the user's replaces the default filter.
    const dir = fs.mkdtempSync('/tmp/strata-seccomp-');
    try {
      fs.writeFileSync(`${dir}/no-mkdir.json`, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
      const denied = fx.strata(['run', '--rm', '--security-opt', `seccomp=${dir}/no-mkdir.json`, 'busybox', 'sh', '-c', 'mkdir /x 2>&1; touch /y && echo touched']);
      assert.match(denied.stdout, /Operation not permitted/);
      assert.match(denied.stdout, /^touched$/m);
      assert.equal(noFlags.mkdir, 'made\n', 'the default filter lets mkdir through');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const bad = fx.strata(['run', '--rm', '--security-opt', 'fly=high', 'busybox', 'true']);
    assert.deepEqual([bad.status, bad.stderr.trim()], [125, 'Error: invalid --security-opt: "fly=high"']);
  });

  it('--cpus, --cpu-shares and --pids-limit set the cgroup limits', async () => {
    const files = V2
      ? 'cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/pids.max'
      : 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/pids/pids.max';
    // Seen from inside (what it printed, read from its log file) and from the host: the container's
    // cgroup, whichever version the host runs.
    const id = fx.ok(['run', '-d', '--name', 'limited', '-m', '64m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '50', 'busybox', 'sh', '-c', `${files}; exec sleep 300`]).trim();
    try {
      // runc's v2 weight for 512 shares: 1 + (512 - 2) * 9999 / 262142 = 20
      const expected = V2 ? '50000 100000\n20\n50\n' : '50000\n100000\n512\n50\n';
      const pid = () => readShimStatus(path.join(fx.root, 'containers', id))?.pid;
      let out = '';
      for (let i = 0; i < 200 && ((out = logged(fx.root, id)).split('\n').length < expected.split('\n').length || !pid()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(out, expected);
      const limits = readCgroupLimits(locateCgroup(pid()!)!);
      assert.deepEqual([limits.memory, limits.cpuQuota, limits.cpuPeriod, limits.pids], [64 * 1024 * 1024, 50000, 100000, 50]);
      assert.equal(V2 ? limits.cpuWeight : limits.cpuShares, V2 ? 20 : 512);
    } finally {
      fx.strata(['rm', '-f', 'limited']);
    }
    const limited = fx.strata(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait']);
    assert.match(limited.stderr, /can't fork|Resource temporarily unavailable/);
    const bad = fx.strata(['run', '--rm', '--cpus', '1000', 'busybox', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^Error: range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/m);
  });

  it('--tmpfs mounts a tmpfs with Docker\'s default options, the user\'s replacing them', () => {
    // One container for every check (not --rm: its upper dir is looked at after).
    const r = fx.strata(['run', '--name', 'tmpfsed', '--tmpfs', '/scratch:size=1m,exec', '--tmpfs', '/plain', '--tmpfs', '/moded:mode=1770', '--mount', 'type=tmpfs,dst=/private,tmpfs-mode=700',
      '--tmpfs', '/t', 'busybox', 'sh', '-c', sectionsScript({
        mounts: 'grep -E " /(scratch|plain) " /proc/mounts; echo x > /plain/f && cat /plain/f',
        modes: 'stat -c "%a %n" /moded /private',
        written: 'echo x > /t/f',
      })]);
    assert.equal(r.status, 0, r.stderr);
    const out = sections(r.stdout);
    assert.match(out.mounts!, /^tmpfs \/scratch tmpfs rw,nosuid,nodev,relatime,size=1024k 0 0$/m);
    assert.match(out.mounts!, /^tmpfs \/plain tmpfs rw,nosuid,nodev,noexec,relatime 0 0$/m);
    assert.match(out.mounts!, /^x$/m);
    // mode= sets the tmpfs's own mode, as Docker's, --tmpfs's and --mount's (tmpfs-mode, octal).
    assert.equal(out.modes, '1770 /moded\n700 /private\n');
    // Gone with the container: nothing written to a tmpfs reaches the upper dir.
    assert.equal(out.written, '');
    assert.equal(fx.strata(['diff', 'tmpfsed']).stdout, '');
    assert.equal(fx.strata(['rm', 'tmpfsed']).status, 0);
  });

  it('a container that cannot start (a --tmpfs option the kernel refuses) is reported once, our way, in the terminal and its log', () => {
    const r = fx.strata(['run', '--name', 'badtmpfs', '--tmpfs', '/t:mode=bogus', 'busybox', 'true']);
    assert.equal(r.status, 125);
    // Not also runc's own "runc run failed: ..." line, which it prints on the container's stderr.
    assert.match(r.stderr, /^Error: unable to start container process: .*mode=bogus: invalid argument\n$/);
    assert.doesNotMatch(fx.strata(['logs', 'badtmpfs']).stderr, /runc run failed/);
    assert.equal(fx.strata(['rm', 'badtmpfs']).status, 0);
  });

  it('a container that cannot start is reported once also when nothing is teed: run --rm, and with a terminal', () => {
    // Without a log, runc's stderr used to be ours, and its own "runc run failed: ..." line with it.
    const r = fx.strata(['run', '--rm', '--tmpfs', '/t:mode=bogus', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^Error: unable to start container process: .*mode=bogus: invalid argument\n$/);
    const { command, args } = strataCommand();
    const line = [command, ...args, 'run', '--rm', '-t', '--tmpfs', '/t:mode=bogus', 'busybox', 'true'].map((a) => `'${a}'`).join(' ');
    const tty = spawnSync('script', ['-qec', line, '/dev/null'], { env: { ...process.env, STRATA_ROOT: fx.root }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(tty.status, 125, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /^Error: unable to start container process: .*mode=bogus: invalid argument\r\n$/);
  });

  it("--hostname: any characters, as Docker's; longer than Linux's 64 bytes refused at create in one line", () => {
    assert.equal(run(['--network', 'none', '--hostname', 'bad host', 'busybox', 'hostname']), 'bad host\n');
    const long = 'h'.repeat(65);
    const before = containerDirs();
    for (const cmd of ['run', 'create']) {
      const r = fx.strata([cmd, '--hostname', long, 'busybox', 'true']);
      assert.deepEqual([r.status, r.stderr], [125, `Error: hostname "${long}" is too long (maximum 64 bytes)\n`]);
    }
    assert.deepEqual(containerDirs(), before, 'no container made');
    assert.equal(run(['--network', 'none', '--hostname', 'h'.repeat(64), 'busybox', 'hostname']), `${'h'.repeat(64)}\n`);
  });

  it('a container\'s own line that looks like runc\'s start error is kept, and not held back while it runs', async () => {
    const id = fx.ok(['run', '-d', '--name', 'mimic', 'busybox', 'sh', '-c', 'echo "runc run failed: not really" >&2; sleep 30']).trim();
    // Held at most FATAL_HOLD_MS (runc.ts) before it is taken for the container's own: waited for
    // in the log file (no CLI start per poll), then asserted through logs.
    for (let i = 0; i < 100 && !logged(fx.root, id, 'stderr').includes('runc run failed: not really\n'); i++) await new Promise((r) => setTimeout(r, 50));
    const logs = fx.strata(['logs', 'mimic']).stderr;
    assert.ok(logs.includes('runc run failed: not really\n'), logs);
    assert.equal(fx.strata(['rm', '-f', 'mimic']).status, 0);
  });

  it('a volume on /etc still has our hosts, hostname and resolv.conf (mounted after it, as Docker orders mounts)', () => {
    const out = run(['--hostname', 'etcvol', '-v', 'etcdata:/etc', 'busybox', 'sh', '-c', 'cat /etc/hostname; grep -c localhost /etc/hosts; test -s /etc/resolv.conf && echo resolv; cat /etc/passwd | head -1']);
    assert.equal(out, 'etcvol\n2\nresolv\nroot:x:0:0:root:/root:/bin/sh\n');
    assert.equal(fx.strata(['volume', 'rm', 'etcdata']).status, 0);
  });

  it('--device makes the host node in the container, with its cgroup permissions', () => {
    const out = run(['--device', '/dev/loop-control:/dev/lc:r', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c',
      'ls -l /dev/lc /dev/mynull | sed "s/ \\+/ /g" | cut -d" " -f1,5,6,10; echo x > /dev/mynull && echo wrote; (: > /dev/lc) 2>/dev/null || echo denied']);
    assert.match(out, /^crw-rw---- 10, 237 \/dev\/lc$|^c[-rw]{9} 10, 237 \/dev\/lc$/m);
    assert.match(out, /^crw-rw-rw- 1, 3 \/dev\/mynull$/m);
    assert.match(out, /^wrote$/m);
    assert.match(out, /^denied$/m, 'opening for write a device allowed "r" only');
    const missing = fx.strata(['run', '--rm', '--device', '/dev/no-such-device', 'busybox', 'true']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /^Error: error gathering device information while adding custom device "\/dev\/no-such-device": no such file or directory$/m);
  });

  it('--init runs an init as PID 1, the command as its child, and reaps', () => {
    const r = fx.strata(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo $$; sh -c "sleep 0 &"; sleep 0.2; ps -o stat | grep -c Z; exit 7']);
    const [cmdline, pid, zombies] = r.stdout.split('\n');
    assert.match(cmdline!, /^\/sbin\/docker-init -- sh -c /);
    assert.notEqual(pid, '1');
    assert.equal(zombies, '0');
    // The container's exit code is the command's, through the init.
    assert.equal(r.status, 7, r.stderr);
    // Without --init the command is PID 1 (DEFAULTS.pid).
    assert.equal(noFlags.pid, '1\n');
  });

  it("inspect shows the flags in Docker's HostConfig, with RestartPolicy and PortBindings", () => {
    const created = fx.strata(['create', '--name', 'shown', '--restart', 'on-failure:3', '-p', '127.0.0.1:8080:80', '-p', '53/udp', '-p', '9000-9002:9000-9002',
      '--cpus', '1', '--cpu-shares', '256', '--pids-limit', '10', '--cap-add', 'net_admin', '--cap-drop', 'MKNOD', '--device', '/dev/null:/dev/n:rw',
      '--init', '--tmpfs', '/run:size=1m', '--security-opt', 'no-new-privileges', 'busybox', 'true']);
    assert.equal(created.status, 0, created.stderr);
    const plain = fx.strata(['create', '--name', 'plain', 'busybox', 'true']);
    assert.equal(plain.status, 0, plain.stderr);
    // Both in one inspect.
    const [info, p] = JSON.parse(fx.strata(['inspect', 'shown', 'plain']).stdout) as Array<{ HostConfig: Record<string, unknown> }>;
    const h = info!.HostConfig;
    assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(h.PortBindings, {
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }],
      '9000/tcp': [{ HostIp: '', HostPort: '9000' }], '9001/tcp': [{ HostIp: '', HostPort: '9001' }], '9002/tcp': [{ HostIp: '', HostPort: '9002' }],
    });
    assert.deepEqual([h.NanoCpus, h.CpuShares, h.PidsLimit, h.Init, h.Privileged], [1e9, 256, 10, true, false]);
    assert.deepEqual([h.CapAdd, h.CapDrop], [['CAP_NET_ADMIN'], ['CAP_MKNOD']]);
    assert.deepEqual(h.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rw' }]);
    assert.deepEqual(h.Tmpfs, { '/run': 'size=1m' });
    assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
    assert.deepEqual([p!.HostConfig.RestartPolicy, p!.HostConfig.PortBindings, p!.HostConfig.PidsLimit, p!.HostConfig.CapAdd, 'Init' in p!.HostConfig],
      [{ Name: 'no', MaximumRetryCount: 0 }, {}, null, null, false], 'Init: omitempty, as Docker\'s');
    assert.equal(fx.strata(['rm', 'shown', 'plain']).status, 0);
  });

  it('top passes ps options as Docker does, and stats shows the memory and pids of the cgroup', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'topped', '-m', '64m', '--pids-limit', '20', 'busybox', 'sh', '-c', 'sleep 300 & exec sleep 301']).status, 0);
    try {
      const top = fx.strata(['top', 'topped', '-o', 'pid,comm']);
      assert.equal(top.status, 0, top.stderr);
      const lines = top.stdout.trim().split('\n');
      assert.match(lines[0]!, /^PID +COMMAND$/);
      assert.deepEqual(lines.slice(1).map((l) => l.split(/ +/)[1]), ['sleep', 'sleep']);
      const plain = fx.strata(['top', 'topped']).stdout.split('\n');
      assert.match(plain[0]!, /^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
      assert.deepEqual(plain.slice(1).filter(Boolean).map((l) => l.split(/ {3,}/).at(-1)).sort(), ['sleep 300', 'sleep 301']);
      assert.equal(fx.strata(['container', 'top', 'topped', '-o', 'pid,comm']).stdout, top.stdout);
      const noPid = fx.strata(['top', 'topped', '-o', 'comm']);
      assert.deepEqual([noPid.status, noPid.stderr.trim()], [125, "Error: couldn't find PID field in ps output"]);
      const stats = fx.strata(['stats', '--no-stream', 'topped']);
      assert.equal(stats.status, 0, stats.stderr);
      const row = stats.stdout.split('\n')[1]!.split(/ {3,}/);
      assert.match(row[3]!, /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
      assert.equal(row.at(-1), '2');
    } finally {
      fx.strata(['rm', '-f', 'topped']);
    }
  });

  it('exec --privileged gives the command every capability; exec --env-file reads variables', () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'execd', '--cap-drop', 'ALL', 'busybox', 'sleep', '300']).status, 0);
    const dir = fs.mkdtempSync('/tmp/strata-envfile-');
    try {
      const capOf = (args: string[]) => /^CapEff:\s*([0-9a-f]+)$/m.exec(fx.strata(['exec', ...args, 'execd', 'cat', '/proc/self/status']).stdout)?.[1];
      assert.equal(capOf([]), '0000000000000000');
      assert.equal(capOf(['--privileged']), mask(allCapabilities()));
      // A non-root user's exec drops them at execve (no ambient set), as under Docker; its bounding set keeps them.
      const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fx.strata(['exec', '--privileged', '-u', 'nobody', 'execd', 'cat', '/proc/self/status']).stdout)?.[1];
      assert.equal(bounding, mask(allCapabilities()));
      fs.writeFileSync(`${dir}/vars.env`, '# a comment\nFROM_FILE=1\nBOTH=file\n');
      const env = fx.strata(['exec', '--env-file', `${dir}/vars.env`, '-e', 'BOTH=flag', 'execd', 'env']);
      assert.equal(env.status, 0, env.stderr);
      assert.match(env.stdout, /^FROM_FILE=1$/m);
      assert.match(env.stdout, /^BOTH=flag$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fx.strata(['rm', '-f', 'execd']);
    }
  });

  it('--cidfile, --label-file, --expose, --stop-signal and --stop-timeout, as Docker\'s', () => {
    const dir = fs.mkdtempSync('/tmp/strata-cidfile-');
    try {
      fs.writeFileSync(`${dir}/labels`, '# team labels\ntier=web\n\nowner=a\n');
      const run = fx.strata(['run', '-d', '--name', 'flagged', '--cidfile', `${dir}/cid`, '--label-file', `${dir}/labels`, '-l', 'owner=b',
        '--expose', '80', '--expose', '9000-9001/udp', '--stop-signal', 'SIGUSR1', '--stop-timeout', '5', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while :; do sleep 0.1; done']);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(fs.readFileSync(`${dir}/cid`, 'utf8'), run.stdout.trim());
      const conf = JSON.parse(fx.strata(['inspect', '-f', '{{json .Config}}', 'flagged']).stdout) as Record<string, any>;
      assert.deepEqual(conf.Labels, { tier: 'web', owner: 'b' });
      assert.deepEqual(Object.keys(conf.ExposedPorts), ['80/tcp', '9000/udp', '9001/udp']);
      assert.deepEqual([conf.StopSignal, conf.StopTimeout], ['SIGUSR1', 5]);
      // The shell exits 42 on SIGUSR1 only: stop sent the container's signal, not SIGTERM then SIGKILL.
      assert.equal(fx.strata(['stop', 'flagged']).status, 0);
      assert.equal(fx.strata(['wait', 'flagged']).stdout, '42\n');
      const again = fx.strata(['run', '--cidfile', `${dir}/cid`, 'busybox', 'true']);
      assert.deepEqual([again.status, again.stderr], [125, `Error: container ID file found, make sure the other container isn't running or delete ${dir}/cid\n`]);
      const before = containerDirs();
      const unwritable = fx.strata(['run', '--cidfile', `${dir}/missing/cid`, 'busybox', 'true']);
      assert.deepEqual([unwritable.status, unwritable.stderr], [125, `Error: failed to write the container ID to the file: open ${dir}/missing/cid: no such file or directory\n`]);
      assert.deepEqual(containerDirs(), before, 'the container is not left');
      for (const [flags, message] of [[['--stop-signal', 'NOPE'], 'invalid signal: "NOPE"'], [['--expose', '70000'], 'invalid range format for --expose: "70000"']] as const) {
        const bad = fx.strata(['run', '--rm', ...flags, 'busybox', 'true']);
        assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fx.strata(['rm', '-f', 'flagged']);
    }
  });

  it('--shm-size sizes /dev/shm (Docker\'s 64MiB by default), shown as HostConfig.ShmSize', () => {
    const sizeIn = (df: string) => df.split('\n')[1]!.split(/\s+/)[1];
    assert.equal(sizeIn(noFlags.shm), '65536');
    assert.equal(sizeIn(fx.strata(['run', '--rm', '--shm-size', '3m', 'busybox', 'df', '-k', '/dev/shm']).stdout), '3072');
    assert.equal(fx.strata(['create', '--name', 'shm', '--shm-size=1g', 'busybox', 'true']).status, 0);
    assert.equal(fx.strata(['inspect', '-f', '{{.HostConfig.ShmSize}}', 'shm']).stdout, `${1024 ** 3}\n`);
    assert.equal(fx.strata(['rm', 'shm']).status, 0);
    const bad = fx.strata(['run', '--rm', '--shm-size', '0', 'busybox', 'true']);
    assert.deepEqual([bad.status, bad.stderr], [125, 'Error: invalid --shm-size "0": must be more than 0\n']);
  });

  it('--pid, --ipc and --uts host share the host\'s namespaces (HostConfig PidMode, IpcMode, UTSMode)', () => {
    // One container per set of modes, each printing its namespaces (pid, ipc, uts, cgroup) and hostname.
    const KINDS = ['pid', 'ipc', 'uts', 'cgroup'] as const;
    // After them, what the container's MORE prints (its own checks, in the same container).
    const nsOf = (args: string[], more: string) => {
      const lines = run([...args, 'busybox', 'sh', '-c', `for n in ${KINDS.join(' ')}; do readlink /proc/self/ns/$n; done; hostname; ${more}`]).split('\n');
      return { ...Object.fromEntries(KINDS.map((k, i) => [k, lines[i]])), hostname: lines[KINDS.length], more: `${lines.slice(KINDS.length + 1).join('\n')}` } as Record<(typeof KINDS)[number] | 'hostname' | 'more', string>;
    };
    const host = Object.fromEntries(KINDS.map((k) => [k, fs.readlinkSync(`/proc/self/ns/${k}`)])) as Record<(typeof KINDS)[number], string>;
    // --ipc host: the host's /dev/shm (a directory made there is seen).
    const hostShm = fs.mkdtempSync('/dev/shm/strata-test-');
    let shared: ReturnType<typeof nsOf>;
    try {
      // --cgroupns: a cgroup namespace of its own (private) or the host's.
      shared = nsOf(['--pid', 'host', '--ipc', 'host', '--uts', 'host', '--cgroupns', 'host'], `ls -d /dev/shm/${hostShm.slice('/dev/shm/'.length)}`);
    } finally {
      fs.rmdirSync(hostShm);
    }
    assert.equal(shared.more, `${hostShm}\n`);
    // --ipc none: a namespace of its own, no /dev/shm.
    const own = nsOf(['--cgroupns', 'private', '--ipc', 'none'], 'grep -c " /dev/shm " /proc/mounts || true');
    assert.equal(own.more, '0\n');
    for (const which of KINDS) {
      assert.equal(shared[which], host[which], which);
      assert.notEqual(own[which], host[which], which);
    }
    assert.equal(shared.hostname, os.hostname());
    // --ipc shareable: a /dev/shm of its own too. --userns host is accepted (no remapping).
    assert.equal(fx.strata(['run', '--rm', '--ipc', 'shareable', '--userns', 'host', 'busybox', 'sh', '-c', 'grep -c " /dev/shm " /proc/mounts; ls /dev/shm | wc -l']).stdout, '1\n0\n');
    assert.equal(fx.strata(['create', '--name', 'nsmodes', '--pid', 'host', 'busybox', 'true']).status, 0);
    assert.equal(fx.strata(['inspect', '-f', '{{.HostConfig.PidMode}}|{{.HostConfig.IpcMode}}|{{.HostConfig.UTSMode}}', 'nsmodes']).stdout, 'host|private|\n');
    assert.equal(fx.strata(['rm', 'nsmodes']).status, 0);
    for (const [args, message] of [[['--uts', 'host', '-h', 'x'], 'conflicting options: hostname and the UTS mode'], [['--pid', 'container:x'], 'invalid --pid "container:x": no such container: x'],
      [['--ipc', 'bogus'], 'invalid --ipc "bogus": strata supports private, shareable, none, host, container:NAME'],
      [['--cgroupns', 'bogus'], 'invalid --cgroupns "bogus": strata supports host, private'],
      [['--userns', 'remap'], 'invalid --userns "remap": strata supports host (it remaps no user IDs)'], [['--uts', 'container:x'], 'invalid --uts "container:x": strata supports host']] as const) {
      const bad = fx.strata(['run', '--rm', ...args, 'busybox', 'true']);
      assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
    }
  });

  it('--pid and --ipc container:NAME join that container\'s namespaces (and its /dev/shm), only while it runs', () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'nstarget', '--ipc', 'shareable', 'busybox', 'sleep', '300']).status, 0);
    try {
      const [id, pid] = fx.strata(['inspect', '-f', '{{.Id}} {{.State.Pid}}', 'nstarget']).stdout.trim().split(' ') as [string, string];
      const theirs = (which: string) => fs.readlinkSync(`/proc/${pid}/ns/${which}`);
      assert.equal(fx.strata(['exec', 'nstarget', 'sh', '-c', 'echo shared > /dev/shm/x']).status, 0);
      const out = fx.strata(['run', '--rm', '--pid', 'container:nstarget', '--ipc', 'container:nstarget', 'busybox', 'sh', '-c',
        'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; ps -o args | grep -c "^sleep 300"; cat /dev/shm/x; echo back > /dev/shm/y']);
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout, `${theirs('pid')}\n${theirs('ipc')}\n1\nshared\n`);
      assert.equal(fx.strata(['exec', 'nstarget', 'cat', '/dev/shm/y']).stdout, 'back\n');
      // Docker's default IPC mode, private, is not shared: joining it is refused in Docker's words.
      const privateId = fx.ok(['run', '-d', '--name', 'nsprivate', 'busybox', 'sleep', '300']).trim();
      const refused = fx.strata(['run', '--rm', '--ipc', 'container:nsprivate', 'busybox', 'true']);
      assert.deepEqual([refused.status, refused.stderr],
        [125, `Error: failed to join IPC namespace: container ${privateId}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)\n`]);
      assert.equal(fx.strata(['rm', '-f', 'nsprivate']).status, 0);
      // A detached one too; the record keeps the container's ID.
      assert.equal(fx.strata(['run', '-d', '--name', 'nsjoiner', '--pid', 'container:nstarget', 'busybox', 'sleep', '300']).status, 0);
      assert.equal(fx.strata(['inspect', '-f', '{{.HostConfig.PidMode}}', 'nsjoiner']).stdout, `container:${id}\n`);
      assert.equal(fx.strata(['exec', 'nsjoiner', 'readlink', '/proc/self/ns/pid']).stdout, `${theirs('pid')}\n`);
      assert.equal(fx.strata(['rm', '-f', 'nsjoiner']).status, 0);
      assert.equal(fx.strata(['stop', '-t', '0', 'nstarget']).status, 0);
      const stopped = fx.strata(['run', '--rm', '--ipc', 'container:nstarget', 'busybox', 'true']);
      assert.equal(stopped.status, 125);
      assert.match(stopped.stderr, new RegExp(`^Error: cannot join IPC of a non running container: ${id}\n`));
    } finally {
      fx.strata(['rm', '-f', 'nsjoiner', 'nsprivate', 'nstarget']);
    }
  });

  it('a restart by the policy joins the other container\'s namespace anew: its process of the first start is gone', async () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'ipctarget', '--ipc', 'shareable', 'busybox', 'sleep', '300']).status, 0);
    try {
      // The first run fails after the target was restarted under it; the second one stays.
      const joiner = fx.strata(['run', '-d', '--name', 'ipcjoiner', '--restart', 'on-failure:1', '--ipc', 'container:ipctarget', 'busybox', 'sh', '-c',
        'if [ -e /again ]; then exec sleep 300; fi; touch /again; until [ -e /restarted ]; do sleep 0.1; done; exit 1']);
      assert.equal(joiner.status, 0, joiner.stderr);
      assert.equal(fx.strata(['restart', '-t', '0', 'ipctarget']).status, 0);
      // Its first run ends only now, with the target's first process gone.
      assert.equal(fx.strata(['exec', 'ipcjoiner', 'touch', '/restarted']).status, 0);
      // Waited for in its shim's status file (no CLI start per poll), then asserted through inspect.
      const recorded = () => readShimStatus(path.join(fx.root, 'containers', joiner.stdout.trim()));
      for (let waited = 0; waited < 30_000; waited += 50) {
        const s = recorded();
        // Running again, or exited for good (not the brief "exited" between its two runs).
        if (s?.restartCount === 1 && ((s.state === 'running' && s.pid) || s.state === 'exited')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const [joined, target] = fx.strata(['inspect', '-f', '{{.RestartCount}} {{.State.Status}} {{.State.Error}}|{{.State.Pid}}', 'ipcjoiner', 'ipctarget']).stdout.split('\n');
      const [state, joinerPid] = joined!.split('|');
      const targetPid = target!.split('|')[1];
      assert.equal(state!.trim(), '1 running');
      const ipcOf = (pid: string) => fs.readlinkSync(`/proc/${pid}/ns/ipc`);
      assert.equal(ipcOf(joinerPid!), ipcOf(targetPid!));
    } finally {
      fx.strata(['rm', '-f', 'ipcjoiner', 'ipctarget']);
    }
  });

  it('--sysctl sets namespaced kernel parameters, --cpuset-cpus the cpuset (HostConfig Sysctls, CpusetCpus)', () => {
    const out = fx.strata(['run', '--rm', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=1000000', '--cpuset-cpus', '0', 'busybox', 'sh', '-c',
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; grep Cpus_allowed_list /proc/self/status']);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^1\n1000000\nCpus_allowed_list:\s+0\n$/);
    assert.equal(fx.strata(['create', '--name', 'tuned', '--sysctl', 'net.core.somaxconn=1024', '--cpuset-cpus', '0', 'busybox', 'true']).status, 0);
    assert.equal(fx.strata(['inspect', '-f', '{{json .HostConfig.Sysctls}} {{.HostConfig.CpusetCpus}}', 'tuned']).stdout, '{"net.core.somaxconn":"1024"} 0\n');
    assert.equal(fx.strata(['rm', 'tuned']).status, 0);
    const bad = fx.strata(['run', '--rm', '--sysctl', 'vm.swappiness=1', 'busybox', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^Error: sysctl "vm.swappiness" is not allowed: /);
  });

  it('--memory-swap, --memory-reservation, --memory-swappiness and --oom-kill-disable set the memory cgroup (HostConfig as Docker\'s)', () => {
    const MiB = 1024 * 1024;
    const files = V2
      ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/memory.low'
      : 'cd /sys/fs/cgroup/memory && cat memory.limit_in_bytes memory.memsw.limit_in_bytes memory.soft_limit_in_bytes memory.swappiness && grep oom_kill_disable memory.oom_control';
    // v2 has no swappiness nor OOM-killer switch: runc refuses them there.
    const v1Only = V2 ? [] : ['--memory-swappiness', '10', '--oom-kill-disable'];
    const out = fx.strata(['run', '--rm', '-m', '64m', '--memory-swap', '96m', '--memory-reservation', '32m', ...v1Only, 'busybox', 'sh', '-c', files]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, V2 ? `${64 * MiB}\n${32 * MiB}\n${32 * MiB}\n` : `${64 * MiB}\n${96 * MiB}\n${32 * MiB}\n10\noom_kill_disable 1\n`);
    // -m alone: as much swap again as memory (Docker's MemorySwap = 2 × Memory).
    const plain = fx.strata(['run', '--rm', '-m', '64m', 'busybox', 'cat', V2 ? '/sys/fs/cgroup/memory.swap.max' : '/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes']);
    assert.equal(plain.stdout, `${(V2 ? 64 : 128) * MiB}\n`);
    assert.equal(fx.strata(['create', '--name', 'memo', '-m', '64m', '--memory-swap', '-1', '--memory-reservation', '32m', '--memory-swappiness', '10', '--oom-kill-disable', 'busybox', 'true']).status, 0);
    const shown = fx.strata(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}}', 'memo']);
    assert.equal(shown.stdout, `${64 * MiB} -1 ${32 * MiB} 10 true\n`);
    assert.equal(fx.strata(['rm', 'memo']).status, 0);
    for (const [args, message] of [
      [['-m', '64m', '--memory-swap', '32m'], 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [['--memory-swap', '128m'], 'You should always set the Memory limit when using Memoryswap limit, see usage'],
      [['-m', '32m', '--memory-reservation', '64m'], 'Minimum memory limit can not be less than memory reservation limit, see usage'],
      [['--memory-swappiness', '101'], 'Invalid value: 101, valid memory swappiness range is 0-100'],
      [['--memory-reservation', 'lots'], 'invalid argument "lots" for "--memory-reservation" flag: invalid size: \'lots\''],
    ] as const) {
      const bad = fx.strata(['run', '--rm', ...args, 'busybox', 'true']);
      assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
    }
    const warned = fx.strata(['run', '--rm', '--oom-kill-disable', 'busybox', 'true']);
    assert.deepEqual([warned.status, warned.stderr], [0, "WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.\n"]);
  });

  it('--cpu-period/--cpu-quota, --cpuset-mems, --oom-score-adj, --domainname, --annotation and --runtime runc, as Docker\'s', () => {
    const files = V2
      ? 'cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpuset.mems'
      : 'cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpuset/cpuset.mems';
    const out = fx.strata(['run', '--rm', '--cpu-period', '50000', '--cpu-quota', '25000', '--cpuset-mems', '0', '--oom-score-adj', '500', '--domainname', 'example.org',
      'busybox', 'sh', '-c', `${files}; cat /proc/self/oom_score_adj /proc/sys/kernel/domainname`]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, `${V2 ? '25000 50000\n0\n' : '50000\n25000\n0\n'}500\nexample.org\n`);
    const id = fx.ok(['run', '-d', '--name', 'annotated', '--annotation', 'org.example/team=infra', '--runtime', 'runc', 'busybox', 'sleep', '300']).trim();
    try {
      assert.equal(fx.strata(['inspect', '-f', '{{json .HostConfig.Annotations}} {{.HostConfig.Runtime}}', 'annotated']).stdout, '{"org.example/team":"infra"} runc\n');
      const bundle = JSON.parse(fs.readFileSync(`${fx.root}/containers/${id}/bundle/config.json`, 'utf8')) as { annotations?: Record<string, string> };
      assert.deepEqual(bundle.annotations, { 'org.example/team': 'infra' }, 'passed through to the OCI runtime');
    } finally {
      fx.strata(['rm', '-f', 'annotated']);
    }
    for (const [args, message] of [
      [['--cpus', '1', '--cpu-period', '50000'], 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
      [['--cpu-quota', '10'], 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
      [['--oom-score-adj', '2000'], 'Invalid value 2000, range for oom score adj is [-1000, 1000]'],
      [['--runtime', 'crun'], 'unknown or invalid runtime name: crun (strata runs containers with runc)'],
      [['--annotation', 'novalue'], 'invalid argument "novalue" for "--annotation" flag: bad format, expected KEY=VALUE'],
    ] as const) {
      const bad = fx.strata(['run', '--rm', ...args, 'busybox', 'true']);
      assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
    }
  });

  it('mounts a --rm container\'s root with overlayfs\'s volatile option (its upper dir goes with it), and no other\'s', () => {
    const rootOptions = (args: string[]) => {
      const r = fx.strata(['run', ...args, 'busybox', 'sh', '-c', 'grep "^overlay / " /proc/mounts']);
      assert.equal(r.status, 0, r.stderr);
      // Newer kernels show the option as fsync=volatile.
      return r.stdout.split(' ')[3]!.split(',').map((o) => (o === 'fsync=volatile' ? 'volatile' : o));
    };
    const [major = 0, minor = 0] = os.release().split('.').map(Number);
    assert.equal(rootOptions(['--rm']).includes('volatile'), major > 5 || (major === 5 && minor >= 10));
    assert.equal(rootOptions(['--name', 'kept']).includes('volatile'), false);
    assert.equal(fx.strata(['rm', 'kept']).status, 0);
  });

  it('-a attaches only the streams named; the others still reach the log', () => {
    const script = ['sh', '-c', 'echo out; echo err >&2'];
    const out = fx.strata(['run', '--rm', '-a', 'stdout', 'busybox', ...script]);
    assert.deepEqual([out.status, out.stdout, out.stderr], [0, 'out\n', '']);
    // Also when the run goes through the container's shim (a published port).
    const viaShim = fx.strata(['run', '--rm', '-a', 'stdout', '-p', '127.0.0.1::80', 'busybox', ...script]);
    assert.deepEqual([viaShim.status, viaShim.stdout, viaShim.stderr], [0, 'out\n', '']);
    const err = fx.strata(['run', '--name', 'attached', '-a', 'STDERR', 'busybox', ...script]);
    assert.deepEqual([err.status, err.stdout, err.stderr], [0, '', 'err\n']);
    const logs = fx.strata(['logs', 'attached']);
    assert.deepEqual([logs.stdout, logs.stderr], ['out\n', 'err\n']);
    assert.equal(fx.strata(['rm', 'attached']).status, 0);
    const input = fx.strata(['run', '--rm', '-a', 'stdin', '-a', 'stdout', 'busybox', 'cat'], { input: 'typed\n' });
    assert.equal(input.stdout, 'typed\n');
    for (const [args, message] of [[['-a', 'bogus'], 'invalid argument "bogus" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'],
      [['-d', '-a', 'stdout'], 'conflicting options: cannot specify both --attach and --detach']] as const) {
      const bad = fx.strata(['run', '--rm', ...args, 'busybox', 'true']);
      assert.deepEqual([bad.status, bad.stderr], [125, `Error: ${message}\n`]);
    }
  });
});
