// From an image and the user's flags to a container record, and from a record to the RunSpec
// that starts it: Docker's rules for Env (image first, the user's replace by key), Entrypoint
// and Cmd (a user --entrypoint drops the image's Cmd), WorkingDir, User, Hostname, Labels.
import { type ImageStore, type Image, inImage, initialState, STORAGE_DRIVER, newContainerId, type ContainerMount, type ContainerRecord, type ContainerRunConfig, type HealthConfig } from '../store/index.js';
import { StrataError } from '../errors.js';
import { DEFAULT_PATH } from './lookpath.js';
import type { MountSpec, NetworkMode, RunSpec } from './types.js';
import type { Ulimit } from './ulimits.js';
import { containerCapabilities, securityOptions, type DeviceMapping } from './host-config.js';
import { memoryResources, type MemoryHostConfig } from './memory-limits.js';
import type { LogConfig } from './log-config.js';
import type { MoreHostConfig } from './more-host-config.js';
import { dnsSettingsOf, runtimeMode, type NetworkChoice } from './net/config.js';

export interface CreateOptions {
  image: Image;
  /** The reference as the user typed it (shown by `ps` IMAGE). */
  imageRef: string;
  name: string;
  /** Command after the image name (may be empty: the image's Cmd then). */
  command: string[];
  /** `--entrypoint`: undefined when not given; '' resets the image's. */
  entrypoint?: string;
  /** The user's -e / --env-file entries, "KEY=value". */
  env: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty: boolean;
  openStdin: boolean;
  autoRemove: boolean;
  readonlyRootfs: boolean;
  memory?: number;
  /** `--log-driver`/`--log-opt` (log-config.ts); Docker's default json-file when absent. */
  logConfig?: LogConfig;
  /** --cpu-period, --cpu-quota, --cpuset-mems, --oom-score-adj, --runtime, --annotation (more-host-config.ts). */
  more?: MoreHostConfig;
  /** --domainname. */
  domainname?: string;
  /** Config.Healthcheck: the image's with the --health-* flags over it (health.ts healthConfigWith). */
  healthcheck?: HealthConfig;
  /** The memory fields as Docker's daemon completes them (memory-limits.ts); Memory alone when absent. */
  memoryConfig?: MemoryHostConfig;
  ulimits?: Ulimit[];
  /** The network settings (net/config.ts networkChoice). */
  network: NetworkChoice;
  groupAdd: string[];
  /** `--security-opt` values, checked (host-config.ts checkSecurityOpt). */
  securityOpt: string[];
  labels: Record<string, string>;
  /** `--expose` ("80/tcp"), `--stop-signal`, `--stop-timeout` (seconds). */
  expose?: string[];
  stopSignal?: string;
  stopTimeout?: number;
  /** `--shm-size` in bytes (default Docker's 64MiB). */
  shmSize?: number;
  /** Docker's PidMode, IpcMode, UTSMode ("host": the host's namespace), CgroupnsMode and UsernsMode when --cgroupns, --userns were given. */
  namespaces?: { PidMode: string; IpcMode: string; UTSMode: string; CgroupnsMode?: string; UsernsMode?: string };
  /** `--sysctl` (checked) and `--cpuset-cpus`. */
  sysctls?: Record<string, string>;
  cpusetCpus?: string;
  /**
   * The -v flags as typed, and every mount resolved. As Docker's CLI, a -v with a source (a host
   * path or a volume name) is a bind (HostConfig.Binds); a bare `-v /path`, an anonymous volume,
   * is a Config.Volumes entry.
   */
  binds: string[];
  mounts: ContainerMount[];
  /** HostConfig.Mounts: the --mount flags as Docker's CLI sends them (docker-host-config.ts dockerMountSpecs). */
  mountSpecs?: Array<Record<string, unknown>>;
  /** Resource limits: --cpus (NanoCpus), --cpu-shares, --pids-limit (null: none). */
  resources?: { nanoCpus?: number; cpuShares?: number; pidsLimit?: number | null };
  /** --cap-add, --cap-drop, --privileged, --device, --init, --tmpfs (destination → options). */
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  devices?: DeviceMapping[];
  init?: boolean;
  tmpfs?: Record<string, string>;
  /** --restart and -p, as Docker's HostConfig shows them. */
  restartPolicy?: { Name: string; MaximumRetryCount: number };
  portBindings?: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  /** Extra strata bookkeeping a caller keeps with the container (e.g. the shim's mount requests). */
  extra?: Record<string, unknown>;
}

/** Docker's ReplaceOrAppendEnvValues: later entries replace earlier ones with the same key. */
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  const keyOf = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
  for (const entry of overrides) {
    const i = out.findIndex((e) => keyOf(e) === keyOf(entry));
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
  return out;
}

/** Entrypoint and Cmd of a new container, as the Docker daemon merges them with the image's. */
export function entrypointAndCmd(image: Image, command: string[], entrypoint: string | undefined): { entrypoint: string[] | null; cmd: string[] | null } {
  const conf = image.config.config;
  if (entrypoint !== undefined) return { entrypoint: entrypoint === '' ? null : [entrypoint], cmd: command.length > 0 ? command : null };
  return { entrypoint: conf.Entrypoint ?? null, cmd: command.length > 0 ? command : conf.Cmd ?? null };
}

export function buildRecord(options: CreateOptions): ContainerRecord {
  const id = newContainerId();
  const conf = options.image.config.config;
  const { entrypoint, cmd } = entrypointAndCmd(options.image, options.command, options.entrypoint);
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new StrataError('no command specified');
  const workdir = options.workdir || conf.WorkingDir || '';
  if (workdir !== '' && !workdir.startsWith('/')) throw new StrataError(`the working directory "${workdir}" is invalid, it needs to be an absolute path`);
  // Docker's key order, so `inspect` reads like Docker's.
  const config: ContainerRunConfig = {
    Hostname: options.hostname || id.slice(0, 12),
    Domainname: options.domainname ?? '',
    User: options.user ?? conf.User ?? '',
    AttachStdin: options.openStdin,
    AttachStdout: true,
    AttachStderr: true,
    ...(conf.ExposedPorts || options.expose?.length
      ? { ExposedPorts: { ...conf.ExposedPorts, ...Object.fromEntries((options.expose ?? []).map((p) => [p, {}])) } } : {}),
    Tty: options.tty,
    OpenStdin: options.openStdin,
    StdinOnce: options.openStdin,
    Env: mergeEnv(conf.Env ?? [], options.env),
    Cmd: cmd,
    ...(options.healthcheck ?? conf.Healthcheck ? { Healthcheck: options.healthcheck ?? conf.Healthcheck } : {}),
    Image: options.imageRef,
    Volumes: configVolumes(conf.Volumes, options.binds),
    WorkingDir: workdir,
    Entrypoint: entrypoint,
    OnBuild: conf.OnBuild ?? null,
    Labels: { ...(conf.Labels ?? {}), ...options.labels },
    ...(options.stopSignal || conf.StopSignal ? { StopSignal: options.stopSignal || conf.StopSignal } : {}),
    ...(options.stopTimeout !== undefined ? { StopTimeout: options.stopTimeout } : {}),
    ...(conf.Shell ? { Shell: conf.Shell } : {}),
  };
  return {
    Id: id,
    Name: `/${options.name}`,
    Created: new Date().toISOString(),
    Path: argv[0]!,
    Args: argv.slice(1),
    State: initialState(),
    Image: options.image.id,
    Config: config,
    HostConfig: {
      Binds: options.binds.filter((b) => b.includes(':')),
      LogConfig: options.logConfig ?? { Type: 'json-file', Config: {} },
      ...options.more,
      Memory: options.memory ?? 0,
      ...options.memoryConfig,
      Ulimits: options.ulimits?.length ? options.ulimits : null,
      NetworkMode: options.network.mode,
      Dns: options.network.dns,
      DnsSearch: options.network.dnsSearch,
      DnsOptions: options.network.dnsOptions,
      ExtraHosts: options.network.extraHosts.length ? options.network.extraHosts : null,
      AutoRemove: options.autoRemove,
      ReadonlyRootfs: options.readonlyRootfs,
      GroupAdd: options.groupAdd,
      SecurityOpt: options.securityOpt,
      RestartPolicy: options.restartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
      PortBindings: options.portBindings ?? {},
      CapAdd: options.capAdd?.length ? options.capAdd : null,
      CapDrop: options.capDrop?.length ? options.capDrop : null,
      Privileged: options.privileged ?? false,
      Devices: options.devices ?? [],
      NanoCpus: options.resources?.nanoCpus ?? 0,
      CpuShares: options.resources?.cpuShares ?? 0,
      PidsLimit: options.resources?.pidsLimit ?? null,
      ShmSize: options.shmSize ?? DEFAULT_SHM_SIZE,
      CpusetCpus: options.cpusetCpus ?? '',
      ...(options.sysctls && Object.keys(options.sysctls).length ? { Sysctls: options.sysctls } : {}),
      ...(options.namespaces ?? { PidMode: '', IpcMode: 'private', UTSMode: '' }),
      Init: options.init ? true : null,
      ...(options.mountSpecs?.length ? { Mounts: options.mountSpecs } : {}),
      ...(options.tmpfs && Object.keys(options.tmpfs).length ? { Tmpfs: options.tmpfs } : {}),
    },
    Mounts: options.mounts,
    NetworkSettings: { Networks: options.network.networks },
    RestartCount: 0,
    Driver: STORAGE_DRIVER,
    Platform: 'linux',
    Strata: { layers: [...options.image.config.rootfs.diff_ids], ...(options.extra ?? {}) },
  };
}

/** Config.Volumes: the image's VOLUMEs and the anonymous volumes of `-v /path` (keyed as typed, as Docker's CLI), or null. */
function configVolumes(image: Record<string, object> | undefined, binds: string[]): Record<string, object> | null {
  const anonymous = binds.filter((b) => !b.includes(':'));
  if (!image && anonymous.length === 0) return null;
  return { ...image, ...Object.fromEntries(anonymous.map((v) => [v, {}])) };
}

export function networkOf(record: ContainerRecord): NetworkMode {
  return runtimeMode(record);
}

function dnsOf(record: ContainerRecord): Pick<RunSpec, 'dns' | 'extraHosts'> {
  const { extraHosts, ...dns } = dnsSettingsOf(record);
  return { dns, extraHosts };
}

/** The environment a started container gets: PATH, HOSTNAME (and TERM with a tty), then its Env. */
export function startEnv(record: ContainerRecord): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${record.Config.Hostname}`];
  if (record.Config.Tty) base.push('TERM=xterm');
  return mergeEnv(base, record.Config.Env ?? []);
}

/** The image layers of a container, bottom → top, as overlay lower dirs. A layer found damaged is named with the container's image. */
export async function lowerDirsOf(record: ContainerRecord, images: ImageStore): Promise<string[]> {
  return Promise.all(record.Strata.layers.map((diffId) => images.layerPath(diffId).catch(inImage(record.Config.Image || record.Image))));
}

/** What to run for a container (stdio left to the caller). */
export function runSpecOf(record: ContainerRecord, paths: { upper: string; work: string; bundle: string }, lowerDirs: string[], mounts: MountSpec[]): RunSpec {
  return {
    id: record.Id,
    rootfs: { lowerDirs, upperDir: paths.upper, workDir: paths.work, readonly: record.HostConfig.ReadonlyRootfs, volatile: record.HostConfig.AutoRemove },
    args: [record.Path, ...record.Args],
    env: startEnv(record),
    cwd: record.Config.WorkingDir || '/',
    user: record.Config.User ?? '',
    additionalGroups: record.HostConfig.GroupAdd,
    hostname: record.Config.Hostname,
    ...(record.Config.Domainname ? { domainname: record.Config.Domainname } : {}),
    network: networkOf(record),
    ...dnsOf(record),
    mounts,
    terminal: record.Config.Tty,
    ...limitsOf(record),
    ulimits: (record.HostConfig.Ulimits as Ulimit[] | null | undefined) ?? undefined,
    ...securityOf(record),
    ...resourcesOf(record),
    bundleDir: paths.bundle,
  };
}

/** The limits `update` may change, as RunSpec fields (each key there, undefined when not set). */
export function limitsOf(record: ContainerRecord): Pick<RunSpec, 'memoryBytes' | 'memoryMore' | 'cpu' | 'pidsLimit'> {
  const { cpu, pidsLimit } = resourcesOf(record);
  return {
    memoryBytes: record.HostConfig.Memory > 0 ? record.HostConfig.Memory : undefined,
    memoryMore: memoryResources(record.HostConfig as Partial<MemoryHostConfig>, { limit: false }),
    cpu,
    pidsLimit,
  };
}

/** Docker's /dev/shm size when --shm-size is not given. */
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** CFS period Docker uses for --cpus (µs). */
const CPU_PERIOD = 100_000;

function resourcesOf(record: ContainerRecord): Pick<RunSpec, 'cpu' | 'pidsLimit' | 'shmSize' | 'hostNamespaces' | 'sysctl' | 'noShm' | 'cgroupns' | 'oomScoreAdj' | 'annotations'> {
  const h = record.HostConfig as {
    NanoCpus?: number; CpuShares?: number; PidsLimit?: number | null; ShmSize?: number; PidMode?: string; IpcMode?: string; UTSMode?: string;
    CpusetCpus?: string; Sysctls?: Record<string, string>; CgroupnsMode?: string;
  } & MoreHostConfig;
  const hostNamespaces = (['pid', 'ipc', 'uts'] as const).filter((ns) => ({ pid: h.PidMode, ipc: h.IpcMode, uts: h.UTSMode })[ns] === 'host');
  const cpu: NonNullable<RunSpec['cpu']> = {};
  if (h.NanoCpus) Object.assign(cpu, { quota: Math.round((h.NanoCpus * CPU_PERIOD) / 1e9), period: CPU_PERIOD });
  if (h.CpuShares) cpu.shares = h.CpuShares;
  if (h.CpusetCpus) cpu.cpus = h.CpusetCpus;
  if (h.CpusetMems) cpu.mems = h.CpusetMems;
  // --cpu-period/--cpu-quota, the pair --cpus is made of (never both with it).
  if (!h.NanoCpus && (h.CpuQuota || h.CpuPeriod)) Object.assign(cpu, { quota: h.CpuQuota || -1, period: h.CpuPeriod || CPU_PERIOD });
  return { ...(Object.keys(cpu).length ? { cpu } : {}), ...(h.PidsLimit ? { pidsLimit: h.PidsLimit } : {}), ...(h.ShmSize ? { shmSize: h.ShmSize } : {}),
    ...(hostNamespaces.length ? { hostNamespaces } : {}), ...(h.Sysctls ? { sysctl: h.Sysctls } : {}), ...(h.IpcMode === 'none' ? { noShm: true } : {}),
    ...(h.CgroupnsMode === 'host' || h.CgroupnsMode === 'private' ? { cgroupns: h.CgroupnsMode } : {}),
    ...(h.OomScoreAdj ? { oomScoreAdj: h.OomScoreAdj } : {}), ...(h.Annotations ? { annotations: h.Annotations } : {}) };
}

/** A record's security settings (older records have none of these keys: Docker's defaults). */
function securityOf(record: ContainerRecord): Pick<RunSpec, 'seccomp' | 'seccompProfile' | 'capabilities' | 'privileged' | 'devices' | 'noNewPrivileges' | 'unmaskPaths' | 'init'> {
  const h = record.HostConfig as { SecurityOpt?: string[]; CapAdd?: string[] | null; CapDrop?: string[] | null; Privileged?: boolean; Devices?: DeviceMapping[]; Init?: boolean | null };
  const sec = securityOptions(h.SecurityOpt ?? []);
  return {
    seccomp: sec.seccomp,
    ...(sec.seccompProfile ? { seccompProfile: sec.seccompProfile } : {}),
    noNewPrivileges: sec.noNewPrivileges,
    unmaskPaths: sec.unmaskPaths,
    capabilities: containerCapabilities({ capAdd: h.CapAdd ?? [], capDrop: h.CapDrop ?? [], privileged: h.Privileged }),
    privileged: h.Privileged ?? false,
    devices: (h.Devices ?? []).map((d) => ({ hostPath: d.PathOnHost, containerPath: d.PathInContainer, permissions: d.CgroupPermissions })),
    init: h.Init === true,
  };
}
