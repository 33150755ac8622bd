// The OCI runtime-spec config.json for one container, with Docker's defaults: its capability
// set, masked and read-only /proc paths, /dev, /dev/shm, mqueue, devpts, sysfs, cgroup mounts.
// The root filesystem is an overlay that runc itself mounts over the empty bundle rootfs (the
// first mount, destination "/"): it lives in the container's mount namespace only, so nothing is
// left mounted on the host when the container ends, however it ends.
import os from 'node:os';
import type { MountSpec, NetworkMode } from './types.js';
import type { ResolvedUser } from './user.js';
import { mergeRlimits, type Rlimit, type Ulimit } from './ulimits.js';

/** Docker's default capabilities (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Docker's masked and read-only paths (moby oci/defaults.go). */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi',
  '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The mount points the runtime itself mounts over (kept in the container's init layer). */
export const SYSTEM_MOUNT_DIRS = ['proc', 'sys', 'dev', 'dev/pts', 'dev/shm', 'dev/mqueue'];
export const ETC_FILES = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'] as const;

export interface SpecInput {
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  hostname: string;
  network: NetworkMode;
  /** A network namespace to join (with `private`). */
  netns?: string;
  terminal: boolean;
  readonlyRoot: boolean;
  /** Overlay options; lowerdir paths relative to the bundle's rootfs dir (runc's working directory when it mounts). */
  overlay: { lowerdir: string; upperdir: string; workdir: string; volatile?: boolean };
  /** Host files bind-mounted over /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etc: { hosts: string; hostname: string; resolvConf: string };
  mounts: MountSpec[];
  memoryBytes?: number;
  /** The other memory settings of linux.resources.memory (types.ts RunSpec.memoryMore). */
  memoryMore?: { swap?: number; reservation?: number; swappiness?: number; disableOOMKiller?: boolean };
  /** cgroup v1 path, e.g. "/strata/<id>". */
  cgroupsPath: string;
  /** The default rlimits (bundle.ts: Docker's). */
  rlimits: Rlimit[];
  /** `--ulimit`s: they replace the defaults of the same type. */
  ulimits?: Ulimit[];
  /** The OCI seccomp filter (Docker's default profile), when one is available. */
  seccomp?: object;
  /** The capability set; Docker's defaults when absent. */
  capabilities?: string[];
  /** `--privileged`: no masked paths, sysfs and cgroups writable, every device allowed. */
  privileged?: boolean;
  /** Device nodes to create (`--device`, or the host's with --privileged), each allowed with its access. */
  devices?: OciDevice[];
  cpu?: { quota?: number; period?: number; shares?: number; cpus?: string; mems?: string };
  oomScoreAdj?: number;
  annotations?: Record<string, string>;
  domainname?: string;
  pidsLimit?: number;
  /** linux.sysctl (`--sysctl`). */
  sysctl?: Record<string, string>;
  /** Bytes of /dev/shm (Docker's 64MiB when absent). */
  shmSize?: number;
  /** `--ipc none`: no /dev/shm. */
  noShm?: boolean;
  /** Another container's namespaces to join (shared-namespaces.ts). */
  joinNamespaces?: { pid?: string; ipc?: string };
  /** A host directory bound at /dev/shm instead of a tmpfs (a shared IPC's, shared-namespaces.ts). */
  shmSource?: string;
  /** Namespaces shared with the host (`--pid/--ipc/--uts host`). */
  hostNamespaces?: Array<'pid' | 'ipc' | 'uts'>;
  /** Default true (build steps); a container's `run` says false unless asked (Docker's default). */
  noNewPrivileges?: boolean;
  unmaskPaths?: boolean;
  /** A cgroup namespace of its own (Docker's default on cgroup v2 hosts). */
  cgroupNamespace?: boolean;
}

/** A runtime-spec linux.devices entry, with the cgroup access it is allowed ("rwm"). */
export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
  access: string;
}

type OciMount = { destination: string; type: string; source: string; options?: string[] };

/** overlayfs's `volatile` mount option came with Linux 5.10. */
function overlayHasVolatile(release = os.release()): boolean {
  const [major = 0, minor = 0] = release.split('.').map((n) => parseInt(n, 10));
  return major > 5 || (major === 5 && minor >= 10);
}

function systemMounts(input: SpecInput): OciMount[] {
  // As Docker's: a privileged container may write sysfs and its cgroups.
  const rw = input.privileged ? 'rw' : 'ro';
  const overlayOpts = [`lowerdir=${input.overlay.lowerdir}`, `upperdir=${input.overlay.upperdir}`, `workdir=${input.overlay.workdir}`];
  if (input.overlay.volatile && overlayHasVolatile()) overlayOpts.push('volatile');
  const mounts: OciMount[] = [
    { destination: '/', type: 'overlay', source: 'overlay', options: overlayOpts },
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', rw] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [rw, 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${input.shmSize ?? 67108864}`] },
  ];
  if (input.noShm) return mounts.filter((m) => m.destination !== '/dev/shm');
  if (input.shmSource) return mounts.map((m) => (m.destination === '/dev/shm' ? { destination: '/dev/shm', type: 'bind', source: input.shmSource!, options: ['rbind', 'rprivate'] } : m));
  return mounts;
}

function etcMounts(input: SpecInput): OciMount[] {
  return [
    { destination: '/etc/resolv.conf', type: 'bind', source: input.etc.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: input.etc.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: input.etc.hosts, options: ['rbind', 'rprivate'] },
  ];
}

/**
 * Docker's order (moby daemon/volumes.go sortMounts): fewer path components first, so a mount
 * is made before those inside it (`-v conf:/etc` before /etc/hosts, which it would hide); for
 * the same depth the given order holds (a user's /etc/hosts over ours).
 */
function byDepth(mounts: OciMount[]): OciMount[] {
  const depth = (m: OciMount) => m.destination.split('/').filter(Boolean).length;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map(({ m }) => m);
}

function userMounts(mounts: MountSpec[]): OciMount[] {
  return mounts.map((m) =>
    m.type === 'bind'
      ? { destination: m.destination, type: 'bind', source: m.source, options: [m.recursive === false ? 'bind' : 'rbind', m.readonly ? 'ro' : 'rw', 'rprivate'] }
      : { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: m.options ?? ['nosuid', 'nodev', 'noexec'] },
  );
}

/** The runtime-spec document (runtime-spec v1.0.2, as runc 1.1 reads it). */
export function buildRuntimeSpec(input: SpecInput): Record<string, unknown> {
  const shared = new Set<string>(input.hostNamespaces ?? []);
  const join: Record<string, string | undefined> = { pid: input.joinNamespaces?.pid, ipc: input.joinNamespaces?.ipc };
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }]
    .filter((n) => !shared.has(n.type))
    .map((n) => (join[n.type] ? { ...n, path: join[n.type] } : n));
  if (input.network === 'private' && input.netns) namespaces.push({ type: 'network', path: input.netns });
  else if (input.network !== 'host') namespaces.push({ type: 'network' });
  if (input.cgroupNamespace) namespaces.push({ type: 'cgroup' });
  const devices = input.devices ?? [];
  const resources: Record<string, unknown> = {
    devices: input.privileged
      ? [{ allow: true, access: 'rwm' }]
      : [{ allow: false, access: 'rwm' }, ...devices.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access }))],
  };
  if (input.memoryBytes !== undefined || input.memoryMore) resources.memory = { ...(input.memoryBytes !== undefined ? { limit: input.memoryBytes } : {}), ...input.memoryMore };
  if (input.cpu && Object.keys(input.cpu).length > 0) resources.cpu = input.cpu;
  if (input.pidsLimit !== undefined) resources.pids = { limit: input.pidsLimit };
  const caps = input.capabilities ?? DEFAULT_CAPABILITIES;
  const confined = !input.privileged && !input.unmaskPaths;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: input.terminal,
      user: { uid: input.user.uid, gid: input.user.gid, additionalGids: input.user.additionalGids },
      args: input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: mergeRlimits(input.rlimits, input.ulimits),
      noNewPrivileges: input.noNewPrivileges ?? true,
      oomScoreAdj: input.oomScoreAdj ?? 0,
    },
    root: { path: 'rootfs', readonly: input.readonlyRoot },
    // runc sets no hostname without a UTS namespace of the container's own.
    ...(shared.has('uts') ? {} : { hostname: input.hostname, ...(input.domainname ? { domainname: input.domainname } : {}) }),
    ...(input.annotations && Object.keys(input.annotations).length ? { annotations: input.annotations } : {}),
    mounts: [...systemMounts(input), ...byDepth([...etcMounts(input), ...userMounts(input.mounts)])],
    linux: {
      cgroupsPath: input.cgroupsPath,
      resources,
      namespaces,
      // runc 1.1 reads the spec's domainname but does not set it: the UTS namespace's sysctl does.
      ...(input.sysctl && Object.keys(input.sysctl).length || (input.domainname && !shared.has('uts'))
        ? { sysctl: { ...(input.domainname && !shared.has('uts') ? { 'kernel.domainname': input.domainname } : {}), ...input.sysctl } } : {}),
      ...(devices.length > 0 ? { devices: devices.map(({ access: _a, ...d }) => d) } : {}),
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
      ...(confined ? { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS } : {}),
    },
  };
}
