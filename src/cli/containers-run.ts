// `run`, `create` and `start -a`: the user's flags as the Containers service's create options,
// then the container started attached to this process (the foreground path: runc's exit code
// is ours), or handed to a detached shim (`-d`).
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { StrataError, systemCause } from '../errors.js';
import { Containers, type CreateContainerOptions } from '../engine/index.js';
import { familiarName, formatReference, parseReference, type ContainerRecord } from '../store/index.js';
import { timing } from '../timing.js';
import { envFromFlags, exposedPorts, labelsFromFlags, parseMemory, parseRunArgs, parseShmSize, runUsage, type RunFlags } from './containers-args.js';

/** The service's create options from `run`/`create` flags. */
function createOptions(flags: RunFlags, image: string, command: string[]): CreateContainerOptions {
  const memory = flags.memory !== undefined ? parseMemory(flags.memory) : undefined;
  const env = envFromFlags(flags.env, flags.envFile);
  const stopTimeout = flags.stopTimeout === undefined ? undefined : Number(flags.stopTimeout);
  if (stopTimeout !== undefined && !Number.isInteger(stopTimeout)) throw new StrataError(`invalid argument "${flags.stopTimeout}" for "--stop-timeout" flag: not an integer`);
  return {
    image, command, name: flags.name, entrypoint: flags.entrypoint, env, workdir: flags.workdir, user: flags.user, hostname: flags.hostname,
    tty: flags.tty, openStdin: flags.interactive, autoRemove: flags.rm, readOnly: flags.readOnly, memory,
    cpus: flags.cpus, cpuShares: flags.cpuShares, pidsLimit: flags.pidsLimit, init: flags.init, tmpfs: flags.tmpfs, devices: flags.device,
    capAdd: flags.capAdd, capDrop: flags.capDrop, privileged: flags.privileged, ulimits: flags.ulimit,
    volumes: flags.volume, mounts: flags.mount, volumesFrom: flags.volumesFrom,
    network: flags.network[0], moreNetworks: flags.network.slice(1), networkAliases: flags.networkAlias, ip: flags.ip, addHosts: flags.addHost, dns: flags.dns, dnsSearch: flags.dnsSearch,
    dnsOptions: flags.dnsOption, publish: flags.publish, publishAll: flags.publishAll, restart: flags.restart, labels: labelsFromFlags(flags.label, flags.labelFile),
    groupAdd: flags.groupAdd, securityOpt: flags.securityOpt, expose: exposedPorts(flags.expose), stopSignal: flags.stopSignal, stopTimeout,
    shmSize: flags.shmSize === undefined ? undefined : parseShmSize(flags.shmSize), pidMode: flags.pid, ipcMode: flags.ipc, utsMode: flags.uts,
    sysctls: flags.sysctl, cpusetCpus: flags.cpusetCpus,
    memorySwap: flags.memorySwap, memoryReservation: flags.memoryReservation, memorySwappiness: flags.memorySwappiness, oomKillDisable: flags.oomKillDisable,
    logDriver: flags.logDriver, logOpts: flags.logOpt, macAddress: flags.macAddress, cgroupnsMode: flags.cgroupns, usernsMode: flags.userns,
    more: { cpuPeriod: flags.cpuPeriod, cpuQuota: flags.cpuQuota, cpusetMems: flags.cpusetMems, oomScoreAdj: flags.oomScoreAdj, runtime: flags.runtime, annotations: flags.annotation },
    domainname: flags.domainname,
    health: {
      cmd: flags.healthCmd, interval: flags.healthInterval, timeout: flags.healthTimeout, retries: flags.healthRetries,
      startPeriod: flags.healthStartPeriod, startInterval: flags.healthStartInterval, none: flags.noHealthcheck,
    },
    onWarning: (message) => process.stderr.write(`WARNING: ${message}\n`),
    pull: {
      policy: flags.pull, platform: flags.platform,
      // The pull's progress goes to stderr: stdout belongs to the container (or its ID, with -d).
      progress: async () => (flags.quiet ? undefined : new (await import('./transfer-progress.js')).PlainTransferProgress(process.stderr)),
      onMissing: (ref) => process.stderr.write(`Unable to find image '${withDefaultTag(ref)}' locally\n`),
    },
  };
}

/** The name as Docker's CLI says it: familiar, ":latest" when it has neither tag nor digest. */
function withDefaultTag(ref: string): string {
  try {
    return familiarName(formatReference(parseReference(ref)));
  } catch {
    return ref;
  }
}

function hasControllingTerminal(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** `-a STREAM`s, checked: which of stdin, stdout, stderr (lower case) the user attached. */
export function attachedStreams(attach: string[]): Set<string> | undefined {
  if (attach.length === 0) return undefined;
  const streams = new Set(attach.map((a) => a.toLowerCase()));
  for (const s of streams) {
    if (!['stdin', 'stdout', 'stderr'].includes(s)) throw new StrataError(`invalid argument "${s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  }
  return streams;
}

/** Where a stream the user did not attach (`-a`) goes: only to the container's log. */
const logOnly = () => new Writable({ write: (_chunk, _enc, done) => done() });

/**
 * Runs the container attached to our stdio (only the `-a` streams ATTACH, when given); resolves
 * with its exit code. ONSPAWN: runc was spawned.
 */
export async function startAttached(service: Containers, record: ContainerRecord, interactive: boolean, onSpawn?: () => void, attach?: Set<string>): Promise<number> {
  // runc relays a foreground pty through our controlling terminal; without one (a pipe, CI)
  // the process runs without a pty rather than failing.
  const terminal = record.Config.Tty && hasControllingTerminal();
  return service.runForeground(record, {
    stdin: interactive ? 'inherit' : 'null', terminal, onSpawn,
    stdout: !attach || attach.has('stdout') ? undefined : logOnly(), stderr: !attach || attach.has('stderr') ? undefined : logOnly(),
  });
}

/** `strata run` / `strata create` with their raw arguments (everything after the command name). */
export async function runCommand(command: 'run' | 'create', argv: string[]): Promise<void> {
  timing('loaded');
  const { flags, image, command: cmd } = parseRunArgs(argv);
  if (flags.help) {
    process.stdout.write(runUsage(command));
    return;
  }
  if (!image) throw new StrataError(`"strata ${command}" requires at least 1 argument: IMAGE is missing\nUsage: strata ${command} [OPTIONS] IMAGE [COMMAND] [ARG...]`);
  if (command === 'run' && flags.detach && flags.rm && flags.restart && flags.restart !== 'no') throw new StrataError('conflicting options: cannot specify both --restart and --rm');
  if (command === 'run' && !flags.detach && flags.tty && flags.interactive && !process.stdin.isTTY) throw new StrataError('the input device is not a TTY');
  const attach = attachedStreams(flags.attach);
  if (attach && flags.detach) throw new StrataError('conflicting options: cannot specify both --attach and --detach');
  // -a stdin reads our stdin, as -i does.
  if (attach?.has('stdin')) flags.interactive = true;
  // Docker refuses a --cidfile that exists: another container may own it.
  if (flags.cidfile && fs.existsSync(flags.cidfile)) throw new StrataError(`container ID file found, make sure the other container isn't running or delete ${flags.cidfile}`);
  const service = new Containers();
  // Earlier `run --rm`s' remains and what killed commands left, removed in libuv's pool while
  // this one runs. A foreground run starts it once runc is spawned and this process only waits
  // (its some thirty file operations would otherwise queue in the pool ahead of the record's,
  // the network lock's and the bundle's), and waits for it before exiting.
  let sweeping: Promise<unknown> | undefined;
  const sweep = () => (sweeping ??= service.sweep().catch(() => undefined));
  // Docker writes the ID once the container exists; a file it cannot write undoes the create.
  const writeCidfile = async (record: ContainerRecord): Promise<void> => {
    if (!flags.cidfile) return;
    try {
      fs.writeFileSync(flags.cidfile, record.Id, { flag: 'wx' });
    } catch (err) {
      await service.remove(record, { force: true, volumes: true }).catch(() => undefined);
      // Go's words, as Docker's: "open /x/cid: no such file or directory" (not Node's "ENOENT: ..., open '/x/cid'").
      const e = err as NodeJS.ErrnoException;
      throw new StrataError(`failed to write the container ID to the file: ${e.syscall && e.path ? `${e.syscall} ${e.path}: ` : ''}${systemCause(err)}`);
    }
  };
  // A run whose network this process plumbs (a detached one's first start, a foreground run
  // without a shim): its namespace is made while the container is created.
  // One whose output is ours alone (--rm: not teed to a log; no tty; no -a) may have runc
  // started by its namespace's holder (RunOptions.launch).
  const prewarm = command === 'run' && (flags.detach || (!flags.publish?.length && !flags.publishAll && !(flags.tty && flags.interactive) && flags.sigProxy));
  const prewarmNetwork = prewarm ? { launcher: !flags.detach && !!flags.rm && !flags.tty && !attach } : undefined;
  if (command === 'run' && flags.detach) {
    // The sweep once the shim is told to go, while this process only waits for its news.
    const record = await service.runDetached({ ...createOptions(flags, image, cmd), prewarmNetwork }, { created: writeCidfile, onGo: () => void sweep() });
    process.stdout.write(`${record.Id}\n`);
    timing('detached');
    // Not waiting for the background sweep (it is safe to cut anywhere, and the next
    // command goes on with it) nor for the namespace's holder to exit: the container runs.
    process.exit(0);
  }
  if (command === 'create' || (flags.tty && flags.interactive)) void sweep();
  const record = await service.create({ ...createOptions(flags, image, cmd), prewarmNetwork });
  timing('container created');
  await writeCidfile(record);
  if (command === 'create') {
    process.stdout.write(`${record.Id}\n`);
    return;
  }
  if (service.publishesPorts(record) || (flags.tty && flags.interactive) || !flags.sigProxy) {
    // Ports need the forwarder the shim runs, `-it` may be detached from (Ctrl-P Ctrl-Q) and
    // left running, and with --sig-proxy=false a Ctrl-C ends this process, not the container
    // (Docker's): such an attached run is a shim run we attach to.
    void sweep();
    const { runAttachedViaShim } = await import('./lifecycle-attach.js');
    process.exit(await runAttachedViaShim(service, record, flags.interactive, flags.detachKeys, flags.sigProxy, attach));
  }
  let code: number;
  try {
    code = await startAttached(service, record, flags.interactive, () => void sweep(), attach);
  } finally {
    await sweep();
  }
  timing('container exited and cleaned up');
  process.exit(code);
}
