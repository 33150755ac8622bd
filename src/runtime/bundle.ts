// Preparing a runc bundle for a RunSpec: user and command resolved against the image's files,
// the init layer, short links to the layer dirs (the overlay mount data is limited to one page,
// so lowerdir lists "../l/0:../l/1..." instead of long store paths), /etc files, config.json.
import fsSync from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { writeEtcFiles, writeInitLayer } from './etc.js';
import { checkExecutable, DEFAULT_PATH } from './lookpath.js';
import { isUnified } from './cgroups.js';
import { hostDevices, hostInit, INIT_PATH, resolveDevices } from './devices.js';
import { defaultSeccomp, translateProfile } from './seccomp.js';
import { buildRuntimeSpec, DEFAULT_CAPABILITIES } from './spec.js';
import type { RunSpec } from './types.js';
import { distinctLayers, UnionView } from './union.js';
import { resolveInRoot } from './resolve.js';
import { resolveUser } from './user.js';
import { RLIM_INFINITY, specJson, type Rlimit } from './ulimits.js';

/** overlayfs stacks at most 500 layers (OVL_MAX_STACK); the init layer takes one. */
export const MAX_LAYERS = 499;

export interface PreparedBundle {
  dir: string;
  config: Record<string, unknown>;
}

let rlimitsCache: Rlimit[] | undefined;

/**
 * The rlimits every container gets, whatever soft limits the shell that ran strata set: Docker's
 * containers inherit containerd's, started by systemd with LimitNOFILE, LimitNPROC and
 * LimitCORE=infinity (nofile capped at fs.nr_open, 1048576 by default), soft = hard. Here the
 * ceiling is our own hard limit (raising past it needs CAP_SYS_RESOURCE), nofile at most
 * 1048576 as systemd's cap. `--ulimit` replaces them by name (ulimits.ts).
 */
async function defaultRlimits(): Promise<Rlimit[]> {
  if (rlimitsCache) return rlimitsCache;
  // Synchronous: one small procfs read, cheaper than a trip through libuv's thread pool.
  let text = '';
  try {
    text = fsSync.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    // no procfs: the defaults below
  }
  const hard = (label: string, cap?: number): Rlimit['hard'] => {
    const m = new RegExp(`^${label}\\s+(\\d+|unlimited)\\s+(\\d+|unlimited)`, 'm').exec(text);
    const value = !m || m[2] === 'unlimited' ? RLIM_INFINITY : Number(m[2]);
    return cap !== undefined && (value === RLIM_INFINITY || value > cap) ? cap : value;
  };
  const both = (type: string, value: Rlimit['hard']): Rlimit => ({ type, hard: value, soft: value });
  rlimitsCache = [both('RLIMIT_NOFILE', hard('Max open files', 1048576)), both('RLIMIT_NPROC', hard('Max processes')), both('RLIMIT_CORE', hard('Max core file size'))];
  return rlimitsCache;
}

/** Promise.all that lets every task finish before failing, so no write races the caller's cleanup. */
async function settleAll<T extends readonly unknown[]>(tasks: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function withDefaultPath(env: string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? env : [`PATH=${DEFAULT_PATH}`, ...env];
}

/** Whether the command's lookup (its path, or a PATH dir) reaches into one of the container's mounts. */
function commandMayBeUnderMount(spec: RunSpec, env: string[]): boolean {
  const command = spec.args[0] ?? '';
  const dirs = command.includes('/')
    ? [path.posix.resolve(spec.cwd, command)]
    : (env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH).split(':').map((d) => path.posix.resolve(spec.cwd, d || '.'));
  return spec.mounts.some((m) => dirs.some((d) => d === m.destination || d.startsWith(`${m.destination.replace(/\/$/, '')}/`)));
}

interface MountPoint {
  destination: string;
  /** A bind mount's source; undefined for tmpfs. */
  source?: string;
  /** The source is not a directory: its mount point is a file. */
  file: boolean;
  /** A tmpfs's mode= (octal): the mode of a mount point the image lacks (see writeInitLayer). */
  mode?: number;
}

/** The mode= of a tmpfs's options, as a number (mode=1770 is octal, as mount(8) reads it). */
function tmpfsMode(options: string[] | undefined): number | undefined {
  const m = /^mode=([0-7]+)$/.exec([...(options ?? [])].reverse().find((o) => o.startsWith('mode=')) ?? '');
  return m ? parseInt(m[1]!, 8) & 0o7777 : undefined;
}

/**
 * A file bind-mounted onto a directory of the image, or a directory onto a file, fails in runc
 * with "not a directory" (and runc prints its own line too): said once, in the user's terms.
 */
async function checkMountKinds(view: UnionView, mounts: MountPoint[]): Promise<void> {
  for (const m of mounts) {
    if (m.source === undefined) continue;
    const found = await resolveInRoot(view, m.destination, { followLast: true }).catch(() => undefined);
    if (!found?.stat || found.stat.isDirectory() !== m.file) continue;
    throw new StrataError(m.file
      ? `invalid mount "${m.source}:${m.destination}": cannot mount a file onto the directory "${m.destination}" of the image`
      : `invalid mount "${m.source}:${m.destination}": cannot mount a directory onto the file "${m.destination}" of the image`);
  }
}

/** Writes the bundle for `spec` into `dir` (created if needed) and returns its config. */
export async function prepareBundle(spec: RunSpec, id: string, dir: string): Promise<PreparedBundle> {
  const { upperDir, workDir } = spec.rootfs;
  const lowerDirs = distinctLayers(spec.rootfs.lowerDirs);
  if (lowerDirs.length > MAX_LAYERS) throw new StrataError(`too many layers: ${lowerDirs.length} (overlayfs stacks at most ${MAX_LAYERS})`);
  if (!path.posix.isAbsolute(spec.cwd)) throw new StrataError(`the working directory "${spec.cwd}" is invalid, it needs to be an absolute path`);
  const view = UnionView.of(lowerDirs, upperDir);
  const env = withDefaultPath(spec.env);
  const hostname = spec.hostname ?? id.slice(0, 12);
  const linkDir = path.join(dir, 'l');
  const initDir = path.join(dir, 'init');
  // Synchronous file work on purpose (see union.ts): it is a few dozen cheap syscalls.
  fsSync.rmSync(linkDir, { recursive: true, force: true });
  fsSync.mkdirSync(linkDir, { recursive: true });
  fsSync.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  lowerDirs.forEach((layer, i) => fsSync.symlinkSync(layer, path.join(linkDir, String(i))));
  const etc = writeEtcFiles(dir, hostname, spec.network, spec.etc, spec.dns, spec.extraHosts);
  // --init: the host's init, bind-mounted where Docker puts its own, runs the command as its child.
  const mounts = spec.init ? [...spec.mounts, { type: 'bind' as const, source: hostInit(), destination: INIT_PATH, readonly: true }] : spec.mounts;
  // One node per path: a --device given with --privileged replaces the host's node there.
  const devices = [...new Map([...(spec.privileged ? hostDevices() : []), ...resolveDevices(spec.devices ?? [])].map((d) => [d.path, d])).values()];
  const mountPoints: MountPoint[] = mounts.map((m) => m.type === 'bind'
    ? { destination: m.destination, source: m.source, file: !fsSync.statSync(m.source, { throwIfNoEntry: false })?.isDirectory() }
    : { destination: m.destination, file: false, mode: tmpfsMode(m.options) });
  await checkMountKinds(view, mountPoints);
  writeInitLayer(initDir, view, mountPoints);
  const [user, rlimits] = await settleAll([
    resolveUser(view, spec.user, spec.additionalGroups),
    defaultRlimits(),
    checkExecutable(view, spec.args[0] ?? '', env, spec.cwd).catch((err: unknown) => {
      // A command under a mount is only visible inside the container: there, runc decides.
      if (!commandMayBeUnderMount(spec, env)) throw err;
    }),
  ]);
  // lowerdir lists the top first; runc mounts from the bundle's rootfs dir as its working directory.
  const lowers = ['../init', ...lowerDirs.map((_, i) => `../l/${i}`).reverse()];
  const caps = spec.capabilities ?? DEFAULT_CAPABILITIES;
  // A volatile overlay leaves work/incompat/volatile behind, and the kernel refuses to mount it
  // again until it goes: a --rm container started again (`restart`) has run clean to its unmount.
  if (spec.rootfs.volatile) fsSync.rmSync(path.join(workDir, 'work', 'incompat'), { recursive: true, force: true });
  const config = buildRuntimeSpec({
    args: spec.init ? [INIT_PATH, '--', ...spec.args] : spec.args,
    env,
    cwd: spec.cwd,
    user,
    hostname,
    network: spec.network,
    netns: spec.netns,
    terminal: spec.terminal ?? false,
    readonlyRoot: spec.rootfs.readonly ?? false,
    overlay: { lowerdir: lowers.join(':'), upperdir: path.resolve(upperDir), workdir: path.resolve(workDir), volatile: spec.rootfs.volatile },
    etc,
    mounts,
    memoryBytes: spec.memoryBytes,
    memoryMore: spec.memoryMore,
    cpu: spec.cpu,
    pidsLimit: spec.pidsLimit,
    shmSize: spec.shmSize,
    hostNamespaces: spec.hostNamespaces,
    joinNamespaces: spec.joinNamespaces,
    noShm: spec.noShm,
    shmSource: spec.shmSource,
    oomScoreAdj: spec.oomScoreAdj,
    annotations: spec.annotations,
    domainname: spec.domainname,
    sysctl: spec.sysctl,
    capabilities: caps,
    privileged: spec.privileged,
    devices,
    noNewPrivileges: spec.noNewPrivileges,
    unmaskPaths: spec.unmaskPaths,
    cgroupNamespace: spec.cgroupns ? spec.cgroupns === 'private' : isUnified(),
    ulimits: spec.ulimits,
    cgroupsPath: `/strata/${id}`,
    rlimits,
    seccomp: spec.seccomp === 'unconfined' || spec.privileged ? undefined
      : spec.seccompProfile ? translateProfile(spec.seccompProfile as Parameters<typeof translateProfile>[0], caps) : defaultSeccomp(caps),
  });
  fsSync.writeFileSync(path.join(dir, 'config.json'), specJson(config));
  return { dir, config };
}
