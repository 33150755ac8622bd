// Creating a container (`create`, `run`): Docker's options as data → the image (pulled when
// missing, as Docker's), the network, mounts and volumes, resource and security settings
// checked, and the record written. The flags' text forms are Docker's (`-p 8080:80`,
// `--device /dev/x:/dev/y:r`, `--restart on-failure:3`...): the checks live here, once, for
// the CLI and for library callers.
import os from 'node:os';
import { StrataError } from '../errors.js';
import type { ProgressSink } from '../registry/index.js';
import {
  buildRecord, checkHealthFlags, checkSecurityOpt, freshName, healthConfigWith, memoryHostConfig, moreHostConfig, parseLogConfig, type MoreFlags, type HealthFlags, inheritMounts, mountRequestsOf, networkChoice, normalizeCapabilities, parseNetworkAttachment, parseCpuShares, parseCpus, parseDevice,
  parsePidsLimit, parseCpuset, dockerMountSpecs, dockerRestartPolicy, parseRestart, parseSignal, parseSysctls, parseTmpfs, parseUlimits, portBindingsOf, prewarmNetns, readSeccompProfiles, resolveContainerMounts, tmpfsOptions, type ContainerContext,
} from '../runtime/index.js';
import { failpoint } from '../failpoint.js';
import { Lease, openStore, type ContainerRecord, type Image } from '../store/index.js';
import { timing } from '../timing.js';
import { checkPullPolicy, ImageResolver } from './image-resolver.js';

/** A new container: Docker's `create` options, the flag values in their text forms. */
export interface CreateContainerOptions {
  /**
   * The container is started right after by this process (`run`, not `create`): its network
   * namespace may be made meanwhile (runtime/net prewarmNetns); `launcher`: by a process that
   * may become its runtime (a foreground run whose output is this process's own).
   */
  prewarmNetwork?: { launcher: boolean };
  /** The image reference as typed (shown by `ps`). */
  image: string;
  /** The command after the image (empty: the image's Cmd). */
  command?: string[];
  name?: string;
  entrypoint?: string;
  /** "KEY=value" entries, already merged from -e and --env-file. */
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  openStdin?: boolean;
  autoRemove?: boolean;
  readOnly?: boolean;
  /** Bytes (`-m`, parsed by the caller). */
  memory?: number;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  /** `--memory-swap`, `--memory-reservation`, `--memory-swappiness` as typed, and `--oom-kill-disable`. */
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  /** `--cpu-period`, `--cpu-quota`, `--cpuset-mems`, `--oom-score-adj`, `--runtime`, `--annotation`s and `--domainname`. */
  more?: Omit<MoreFlags, 'nanoCpus'>;
  domainname?: string;
  /** `--cgroupns host|private` and `--userns host`. */
  cgroupnsMode?: string;
  usernsMode?: string;
  /** `--mac-address`. */
  macAddress?: string;
  /** `--log-driver` and its `--log-opt KEY=VALUE`s. */
  logDriver?: string;
  logOpts?: string[];
  /** `--health-*` and `--no-healthcheck`: over the image's HEALTHCHECK. */
  health?: HealthFlags;
  /** Docker's warnings about the options (the command prints them as "WARNING: …"). */
  onWarning?: (message: string) => void;
  init?: boolean;
  tmpfs?: string[];
  devices?: string[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  ulimits?: string[];
  volumes?: string[];
  mounts?: string[];
  volumesFrom?: string[];
  network?: string;
  /** Networks after the first (`--network` given again, as Docker 25's CLI): user-defined ones, connected from the start. */
  moreNetworks?: string[];
  networkAliases?: string[];
  ip?: string;
  addHosts?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  publish?: string[];
  publishAll?: boolean;
  restart?: string;
  labels?: string[];
  groupAdd?: string[];
  securityOpt?: string[];
  /** `--expose`: ExposedPorts keys ("80/tcp") added to the image's. */
  expose?: string[];
  /** `--stop-signal`, `--stop-timeout` (seconds). */
  stopSignal?: string;
  stopTimeout?: number;
  /** `--shm-size` in bytes (Docker's default 64MiB). */
  shmSize?: number;
  /** `--pid`, `--ipc`, `--uts`: "host" shares the host's namespace. */
  pidMode?: string;
  ipcMode?: string;
  utsMode?: string;
  /** `--sysctl KEY=VALUE`s and `--cpuset-cpus`. */
  sysctls?: string[];
  cpusetCpus?: string;
  /**
   * The image pull: policy (default missing), platform, where its progress goes (made only
   * when a pull happens), what to say when the image is missing locally.
   */
  pull?: { policy?: string; platform?: string; progress?: () => ProgressSink | undefined | Promise<ProgressSink | undefined>; onMissing?: (ref: string) => void };
  /** Relative bind sources resolve against this (default: the process's working directory). */
  cwd?: string;
}

function parseLabels(labels: string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])));
}

/**
 * The image to run: the local one, pulled first when missing (or always, with --pull=always),
 * as Docker does. The registry client is loaded only when a pull is needed.
 */
async function imageFor(ctx: ContainerContext, imageRef: string, pull: CreateContainerOptions['pull'] = {}): Promise<Image> {
  const policy = checkPullPolicy(pull.policy ?? 'missing');
  const resolver = new ImageResolver(ctx.images, () => openStore(ctx.root));
  try {
    return await resolver.resolve(imageRef, {
      policy, platform: pull.platform, progress: pull.progress, status: true, onPull: () => { if (policy === 'missing') pull.onMissing?.(imageRef); },
    });
  } finally {
    await resolver.close();
    if (resolver.usedRegistry) await (await import('../hash/index.js')).closeHashPool();
  }
}

/**
 * Holds `image` for the container being made, from just after it was resolved until its record
 * is written (then the record holds it): a concurrent rmi or prune keeps the image, its config
 * and layers, as for a container (store/leases.ts use()). Checked under the lease's lock, the
 * store lock every removal holds: while the index still names the image, no removal has taken
 * its config or layers (they leave the store in the same locked step as its index entry), and
 * from then on none can. Gone already: the missing image's error.
 */
async function leaseImage(ctx: ContainerContext, lease: Lease, image: Image, ref: string): Promise<void> {
  const gone = await lease.use(image.id, image.config.rootfs.diff_ids, () => ctx.images.findImage(image.id).then(
    () => false,
    (err: unknown) => (err instanceof StrataError && /^no such image/.test(err.message) ? true : Promise.reject(err)),
  ));
  if (gone) throw new StrataError(`no such image: "${ref}"`);
}

/**
 * Docker's PidMode, IpcMode and UTSMode from --pid, --ipc, --uts: the host's namespaces, or
 * (pid, ipc) another container's, kept as container:ID.
 */
async function namespaceModes(ctx: ContainerContext, o: CreateContainerOptions): Promise<{ PidMode: string; IpcMode: string; UTSMode: string; CgroupnsMode?: string; UsernsMode?: string }> {
  // strata remaps no user IDs: --userns host is what it does anyway.
  if (o.usernsMode !== undefined && o.usernsMode !== 'host') throw new StrataError(`invalid --userns "${o.usernsMode}": strata supports host (it remaps no user IDs)`);
  const check = async (flag: 'pid' | 'ipc' | 'uts' | 'cgroupns', value: string | undefined, allowed: string[]) => {
    if (value?.startsWith('container:') && (flag === 'pid' || flag === 'ipc')) {
      const ref = value.slice('container:'.length);
      const other = await ctx.containers.get(ref).catch(() => undefined);
      if (!other) throw new StrataError(`invalid --${flag} "${value}": no such container: ${ref}`);
      return `container:${other.Id}`;
    }
    if (value !== undefined && !allowed.includes(value)) {
      throw new StrataError(`invalid --${flag} "${value}": strata supports ${[...allowed.filter(Boolean), ...(flag === 'pid' || flag === 'ipc' ? ['container:NAME'] : [])].join(', ')}`);
    }
    return value ?? '';
  };
  return {
    PidMode: await check('pid', o.pidMode, ['', 'host']),
    IpcMode: (await check('ipc', o.ipcMode, ['', 'private', 'shareable', 'none', 'host'])) || 'private',
    UTSMode: await check('uts', o.utsMode, ['', 'host']),
    ...(o.cgroupnsMode !== undefined ? { CgroupnsMode: await check('cgroupns', o.cgroupnsMode, ['host', 'private']) } : {}),
    ...(o.usernsMode !== undefined ? { UsernsMode: o.usernsMode } : {}),
  };
}

/** Linux's HOST_NAME_MAX: sethostname refuses a longer name. */
const MAX_HOSTNAME_BYTES = 64;

/** Creates a container; every option is checked before anything is written. */
export async function createContainer(ctx: ContainerContext, o: CreateContainerOptions): Promise<ContainerRecord> {
  const lease = Lease.create(ctx.images.root, 'create');
  try {
    return await createLeased(ctx, o, lease);
  } finally {
    await lease.release();
  }
}

async function createLeased(ctx: ContainerContext, o: CreateContainerOptions, lease: Lease): Promise<ContainerRecord> {
  timing('store opened');
  // container:NAME is kept as container:ID, and takes that container's hostname.
  let networkFlag = o.network;
  let hostname = o.hostname;
  const networkTarget = networkFlag === undefined ? undefined : parseNetworkAttachment(networkFlag).target;
  if (networkTarget?.startsWith('container:')) {
    const other = await ctx.containers.get(networkTarget.slice('container:'.length));
    if (o.hostname) throw new StrataError('conflicting options: hostname and the network mode');
    networkFlag = `container:${other.Id}`;
    hostname = other.Config.Hostname;
  }
  const namespaces = await namespaceModes(ctx, o);
  if (namespaces.UTSMode === 'host' && o.hostname) throw new StrataError('conflicting options: hostname and the UTS mode');
  // Docker's only rule (the daemon's verifyPlatformContainerSettings): the kernel's HOST_NAME_MAX,
  // refused now rather than by runc's sethostname at every start. Any characters are taken, as Docker's.
  if (hostname !== undefined && Buffer.byteLength(hostname) > MAX_HOSTNAME_BYTES) throw new StrataError(`hostname "${hostname}" is too long (maximum ${MAX_HOSTNAME_BYTES} bytes)`);
  // Docker: on the host's network (or UTS namespace) a container takes the host's name.
  if (namespaces.UTSMode === 'host' && !hostname) hostname = os.hostname();
  if (networkFlag === 'host' && !hostname) hostname = os.hostname();
  const asked = o.publish ?? [];
  const network = await networkChoice(ctx.root, {
    network: networkFlag, more: o.moreNetworks ?? [], aliases: o.networkAliases ?? [], ip: o.ip, mac: o.macAddress, extraHosts: o.addHosts ?? [], dns: o.dns ?? [], dnsSearch: o.dnsSearch ?? [],
    dnsOptions: o.dnsOptions ?? [], publishes: asked.length > 0 || !!o.publishAll, hostname: o.hostname,
  });
  // Docker's daemon: on the host's network -p and -P are discarded with a warning (the ports are
  // the host's already); with no network they are discarded too. HostConfig keeps what was asked.
  const noPorts = network.mode === 'host' || network.mode === 'none';
  if (network.mode === 'host' && (asked.length > 0 || o.publishAll)) o.onWarning?.('Published ports are discarded when using host network mode');
  const publish = noPorts ? [] : asked;
  const publishAll = noPorts ? false : o.publishAll ?? false;
  timing('network chosen');
  // The namespace's holder starts now, while the image is resolved and the record written.
  if (o.prewarmNetwork && network.mode !== 'host' && network.mode !== 'none' && !network.mode.startsWith('container:')) prewarmNetns(o.prewarmNetwork);
  const ulimits = parseUlimits(o.ulimits ?? []);
  const resources = {
    nanoCpus: o.cpus !== undefined ? parseCpus(o.cpus, os.cpus().length) : undefined,
    cpuShares: o.cpuShares !== undefined ? parseCpuShares(o.cpuShares) : undefined,
    pidsLimit: o.pidsLimit !== undefined ? parsePidsLimit(o.pidsLimit) : undefined,
  };
  const memoryConfig = memoryHostConfig(
    { memory: o.memory, memorySwap: o.memorySwap, memoryReservation: o.memoryReservation, memorySwappiness: o.memorySwappiness, oomKillDisable: o.oomKillDisable },
    o.onWarning,
  );
  const logConfig = parseLogConfig(o.logDriver, o.logOpts ?? []);
  const more = moreHostConfig({ ...o.more, nanoCpus: resources.nanoCpus });
  if (o.domainname !== undefined && namespaces.UTSMode === 'host') throw new StrataError('conflicting options: domainname and the UTS mode');
  const capAdd = normalizeCapabilities(o.capAdd ?? []);
  const capDrop = normalizeCapabilities(o.capDrop ?? []);
  const devices = (o.devices ?? []).map(parseDevice);
  const tmpfs = parseTmpfs(o.tmpfs ?? []);
  if (o.stopSignal) parseSignal(o.stopSignal); // refused now rather than at `stop`
  const restart = parseRestart(o.restart ?? 'no');
  if (restart.name !== 'no' && o.autoRemove) throw new StrataError('conflicting options: cannot specify both --restart and --rm');
  const portBindings = await portBindingsOf(asked);
  const securityOpt = readSeccompProfiles(o.securityOpt ?? [], o.cwd).map(checkSecurityOpt);
  checkHealthFlags(o.health ?? {});
  const image = await imageFor(ctx, o.image, o.pull);
  timing('image resolved');
  failpoint('container.image-resolved');
  await leaseImage(ctx, lease, image, o.image);
  timing('image leased');
  failpoint('container.image-leased');
  const healthcheck = healthConfigWith(image.config.config?.Healthcheck, o.health ?? {});
  const inherited = [];
  for (const from of o.volumesFrom ?? []) {
    const other = await ctx.containers.get(from.replace(/:(ro|rw)$/, ''));
    inherited.push(...inheritMounts(from, mountRequestsOf(other)));
  }
  const requests = resolveContainerMounts({
    root: ctx.root, cwd: o.cwd ?? process.cwd(), volumes: o.volumes ?? [], mounts: o.mounts ?? [], inherited,
    imageVolumes: Object.keys(image.config.config.Volumes ?? {}),
  });
  const name = o.name ?? (await freshName((n) => ctx.containers.nameTaken(n)));
  timing('name chosen');
  const record = buildRecord({
    image, imageRef: o.image, name, command: o.command ?? [], entrypoint: o.entrypoint, env: o.env ?? [], workdir: o.workdir, user: o.user,
    hostname, tty: o.tty ?? false, openStdin: o.openStdin ?? false, autoRemove: o.autoRemove ?? false,
    readonlyRootfs: o.readOnly ?? false, memory: o.memory, memoryConfig, healthcheck, logConfig, more, domainname: o.domainname, ulimits, network, groupAdd: o.groupAdd ?? [], labels: parseLabels(o.labels ?? []),
    securityOpt, expose: o.expose ?? [], stopSignal: o.stopSignal, stopTimeout: o.stopTimeout, shmSize: o.shmSize, namespaces, sysctls: parseSysctls(o.sysctls ?? [], { hostNetwork: networkFlag === 'host', hostIpc: namespaces.IpcMode === 'host' }), cpusetCpus: parseCpuset(o.cpusetCpus),
    binds: o.volumes ?? [],
    mountSpecs: dockerMountSpecs(o.mounts ?? [], o.cwd ?? process.cwd()),
    mounts: requests.map((m) => ({
      Type: m.type, Source: m.type === 'bind' ? m.source : '', Destination: m.destination,
      RW: m.type === 'tmpfs' ? true : !m.readonly, ...(m.type === 'volume' ? { Name: m.name } : {}),
    })),
    resources, capAdd, capDrop, privileged: o.privileged ?? false, devices, init: o.init ?? false, tmpfs,
    restartPolicy: dockerRestartPolicy(restart), portBindings,
    extra: {
      // --tmpfs mounts are the shim's to make, but not in Mounts (as Docker's inspect)
      mounts: [...requests.filter((m) => !(m.destination in tmpfs)), ...Object.entries(tmpfs).map(([destination, data]) => ({ type: 'tmpfs' as const, destination, options: tmpfsOptions(data) }))],
      publish, publishAll,
    },
  });
  await ctx.containers.create(record);
  return record;
}
