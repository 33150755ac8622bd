// The runtime's boundary: what it takes to run one process in a container and what comes back.
// The build engine (RUN steps) and the CLI (`run`, `start`) import these types, never runc.ts.
import type { ChildProcess } from 'node:child_process';

/**
 * How the container sees the network. `private`: a namespace of its own, the one at
 * RunSpec.netns when given (its networks plumbed by the caller, src/runtime/net/), else a new
 * one with only `lo`; `none`: a new one with only `lo`, never with ports; `host`: the host's.
 */
export type NetworkMode = 'host' | 'none' | 'private';

/** The DNS settings of a container: --dns, --dns-search, --dns-option (empty: the host's). */
export interface DnsSettings {
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
}

/** The contents of /etc/hosts and /etc/resolv.conf when the caller (the network) made them. */
export interface EtcTexts {
  hosts: string;
  resolvConf: string;
}

/** The container's root filesystem: an overlay of read-only layers and one writable dir. */
export interface RootfsSpec {
  /** Unpacked layer snapshots (overlay-format whiteouts), bottom → top: the image's first layer first. May be empty (an image with no layers). */
  lowerDirs: string[];
  /** The overlay upper dir: receives every change the container makes. Must exist. */
  upperDir: string;
  /** The overlay work dir: empty, on the same filesystem as upperDir. Must exist. */
  workDir: string;
  /** Mount the root read-only (`--read-only`). */
  readonly?: boolean;
  /**
   * The upper dir is thrown away with the container (`--rm`): overlayfs's `volatile` option, as
   * podman's, so unmounting it does not sync the whole filesystem (spec.ts drops it on a kernel
   * older than 5.10, which lacks it).
   */
  volatile?: boolean;
}

/** An extra mount in the container. Sources are host paths the caller has already resolved (absolute, no symlink to follow later). */
export type MountSpec =
  /** `recursive: false`: a plain bind (a local volume's o=bind), without the mounts under SOURCE; else rbind. */
  | { type: 'bind'; source: string; destination: string; readonly: boolean; recursive?: boolean }
  | { type: 'tmpfs'; destination: string; options?: string[] };

/** One `--device`: a host device node, where it appears in the container, and its cgroup permissions ("rwm"). */
export interface DeviceRequest {
  hostPath: string;
  containerPath: string;
  permissions: string;
}

/** Where a container's output goes: our own stdout/stderr, nowhere, or a stream the caller reads (a build's progress view). */
export type OutputTarget = 'inherit' | 'ignore' | NodeJS.WritableStream;

/** What the container reads: our own stdin (`-i`), /dev/null (the default), or given data/stream. */
export type InputSource = 'inherit' | 'null' | NodeJS.ReadableStream | Buffer | string;

/** One process to run in a fresh container. Plain data: no behaviour, safe to log or serialise (except streams). */
export interface RunSpec {
  /** The runtime's name for the container (runc container ID): [A-Za-z0-9_.-], unique among running ones. Random when absent. */
  id?: string;
  rootfs: RootfsSpec;
  /** argv[0] is looked up in the container's PATH (from `env`) when it has no slash. */
  args: string[];
  /** "KEY=value" entries, the final environment (image Env + user's -e already merged). */
  env: string[];
  /** Absolute working directory in the container; created when missing, as Docker does. */
  cwd: string;
  /** Docker's `-u` syntax: "name", "uid", "name:group", "uid:gid" (empty = root). Resolved against the container's /etc/passwd and /etc/group. */
  user: string;
  /** Extra groups (`--group-add`): names or gids. */
  additionalGroups?: string[];
  /** Defaults to the first 12 characters of the ID. */
  hostname?: string;
  network: NetworkMode;
  /** With `private`: the network namespace to join (a path such as /proc/PID/ns/net). */
  netns?: string;
  /** /etc/hosts and /etc/resolv.conf as the network made them (else generated from the mode). */
  etc?: EtcTexts;
  /** --dns, --dns-search, --dns-option and --add-host, for the generated files. */
  dns?: DnsSettings;
  extraHosts?: string[];
  mounts: MountSpec[];
  /** Give the process a pseudo-terminal (`-t`). With 'inherit' stdio the pty is relayed to ours. */
  terminal?: boolean;
  stdin?: InputSource;
  stdout?: OutputTarget;
  stderr?: OutputTarget;
  /** Memory limit in bytes (`-m`); the cgroup's limit. */
  memoryBytes?: number;
  /** `--memory-swap` (memory + swap; -1 unlimited), `--memory-reservation`, `--memory-swappiness`, `--oom-kill-disable`. */
  memoryMore?: { swap?: number; reservation?: number; swappiness?: number; disableOOMKiller?: boolean };
  /** `--ulimit`s (Docker's HostConfig.Ulimits), over the default rlimits. */
  ulimits?: import('./ulimits.js').Ulimit[];
  /** Docker's default seccomp filter ('default', when the host has the profile) or none (`--security-opt seccomp=unconfined`). */
  seccomp?: 'default' | 'unconfined';
  /** A Docker-format seccomp profile to use instead of the default (`--security-opt seccomp=FILE`). */
  seccompProfile?: object;
  /** CPU limits: `--cpus` as a CFS quota per period (µs), `--cpu-shares` as a weight. */
  cpu?: { quota?: number; period?: number; shares?: number; cpus?: string; mems?: string };
  /** `--sysctl`s: the container's namespaced kernel parameters. */
  sysctl?: Record<string, string>;
  /** `--pids-limit`: the most processes the container's cgroup may hold. */
  pidsLimit?: number;
  /** `--shm-size`: bytes of the container's /dev/shm (64MiB when absent). */
  shmSize?: number;
  /** `--pid/--ipc/--uts host`: the host's namespaces the container shares instead of its own. */
  hostNamespaces?: Array<'pid' | 'ipc' | 'uts'>;
  /** `--cgroupns`: a cgroup namespace of its own (private) or the host's; the host's default (private on v2, host on v1) when absent. */
  cgroupns?: 'host' | 'private';
  /** `--oom-score-adj`, `--annotation`s and `--domainname`. */
  oomScoreAdj?: number;
  annotations?: Record<string, string>;
  domainname?: string;
  /** `--ipc none`: no /dev/shm mounted. */
  noShm?: boolean;
  /** `--pid/--ipc container:NAME`: namespace paths of another container to join. */
  joinNamespaces?: { pid?: string; ipc?: string };
  /** A host directory bound at /dev/shm: a shareable IPC's, or the one of the container or host it joins. */
  shmSource?: string;
  /** The process's capabilities (`--cap-add`/`--cap-drop` applied); Docker's defaults when absent. */
  capabilities?: string[];
  /** `--privileged`: every capability and host device, no seccomp, no masked paths, sysfs and cgroups writable. */
  privileged?: boolean;
  /** `--device`s: host device nodes made in the container's /dev and allowed by its device cgroup. */
  devices?: DeviceRequest[];
  /** Set the no_new_privs bit (`--security-opt no-new-privileges`). Default true: RUN steps of a build. */
  noNewPrivileges?: boolean;
  /** `--security-opt systempaths=unconfined`: no masked or read-only /proc paths. */
  unmaskPaths?: boolean;
  /** `--init`: an init process (catatonit or tini from the host) as PID 1, which reaps zombies and forwards signals. */
  init?: boolean;
  /**
   * Directory for the runtime bundle (config.json) and the generated /etc/hosts, /etc/hostname,
   * /etc/resolv.conf. Kept when given (a container's own dir); a temporary one is used and
   * removed otherwise.
   */
  bundleDir?: string;
}

export interface RunResult {
  /** The process's exit status; 128+N when it was killed by signal N. */
  exitCode: number;
}

export interface RunOptions {
  /** Aborting kills the container (SIGKILL); run() then resolves once everything is cleaned up. */
  signal?: AbortSignal;
  /** Called once the runtime process has been spawned (its pid): the container is starting. */
  onSpawn?: (runtimePid: number) => void;
  /**
   * Relay SIGINT/SIGTERM/SIGHUP that this process receives to the container while it runs
   * (`run` in the foreground). Off by default: a caller like the build engine handles its own
   * signals and stops containers through `signal`.
   */
  forwardSignals?: boolean;
  /** Called with the container's init pid (host view) once it runs: for work that needs its namespaces (port forwarding). */
  onStarted?: (pid: number) => void;
  /** Awaited (after the bundle is written) before runc starts: work done meanwhile, such as the network's plumbing. */
  beforeStart?: Promise<unknown>;
  /** The bundle in spec.bundleDir is written already, for this spec (a shim's first start, see detached.ts). */
  prepared?: boolean;
  /**
   * Starts the runtime's command line ARGV (its stdin /dev/null or ours, its stdout ours, its
   * stderr the returned process's pipe) from a small process this one started before (the network namespace's holder, see
   * runtime/net/endpoints.ts), which becomes the runtime: a fork of this large process saved.
   * Undefined when it cannot; the runtime is then spawned as usual.
   */
  launch?: RuntimeLauncher;
  /**
   * The runtime, started already by another process with runcRunArgs() for this spec (a shim's
   * first start, see shim/runc-launcher.ts): its stdout, stderr and exit seen as a child's.
   */
  adopted?: ChildProcess;
}

export type RuntimeLauncher = (argv: string[], stdin: 'null' | 'inherit') => ChildProcess | undefined;

/**
 * Runs containers to completion. Everything it sets up (mounts, runtime state, bundle) is gone
 * when run() settles, on success, failure or abort. Throws a StrataError when the container
 * cannot be started: exit code 127 when the command is not found, 126 when it cannot be
 * executed, 125 for any other failure of strata or the runtime.
 */
export interface ContainerRunner {
  run(spec: RunSpec, options?: RunOptions): Promise<RunResult>;
}
