// `run`, `create` and `start -a`: the user's flags as the Containers service's create options,
// then the container started attached to this process (the foreground path: runc's exit code
// is ours), or handed to a detached shim (`-d`).
import fs from 'node:fs';
import { StrataError } from '../errors.js';
import { Containers, type CreateContainerOptions } from '../engine/index.js';
import type { ContainerRecord } from '../store/index.js';
import { timing } from '../timing.js';
import { envFromFlags, parseMemory, parseRunArgs, runUsage, type RunFlags } from './containers-args.js';

/** The service's create options from `run`/`create` flags. */
function createOptions(flags: RunFlags, image: string, command: string[]): CreateContainerOptions {
  const memory = flags.memory !== undefined ? parseMemory(flags.memory) : undefined;
  const env = envFromFlags(flags.env, flags.envFile);
  return {
    image, command, name: flags.name, entrypoint: flags.entrypoint, env, workdir: flags.workdir, user: flags.user, hostname: flags.hostname,
    tty: flags.tty, openStdin: flags.interactive, autoRemove: flags.rm, readOnly: flags.readOnly, memory,
    cpus: flags.cpus, cpuShares: flags.cpuShares, pidsLimit: flags.pidsLimit, init: flags.init, tmpfs: flags.tmpfs, devices: flags.device,
    capAdd: flags.capAdd, capDrop: flags.capDrop, privileged: flags.privileged, ulimits: flags.ulimit,
    volumes: flags.volume, mounts: flags.mount, volumesFrom: flags.volumesFrom,
    network: flags.network, networkAliases: flags.networkAlias, ip: flags.ip, addHosts: flags.addHost, dns: flags.dns, dnsSearch: flags.dnsSearch,
    dnsOptions: flags.dnsOption, publish: flags.publish, publishAll: flags.publishAll, restart: flags.restart, labels: flags.label,
    groupAdd: flags.groupAdd, securityOpt: flags.securityOpt,
    pull: {
      policy: flags.pull, platform: flags.platform,
      // The pull's progress goes to stderr: stdout belongs to the container (or its ID, with -d).
      progress: async () => (flags.quiet ? undefined : new (await import('./transfer-progress.js')).PlainTransferProgress(process.stderr)),
      onMissing: (ref) => process.stderr.write(`Unable to find image '${ref}' locally\n`),
    },
  };
}

function hasControllingTerminal(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** Runs the container attached to our stdio; resolves with its exit code. ONSPAWN: runc was spawned. */
export async function startAttached(service: Containers, record: ContainerRecord, interactive: boolean, onSpawn?: () => void): Promise<number> {
  // runc relays a foreground pty through our controlling terminal; without one (a pipe, CI)
  // the process runs without a pty rather than failing.
  const terminal = record.Config.Tty && hasControllingTerminal();
  return service.runForeground(record, { stdin: interactive ? 'inherit' : 'null', terminal, stdout: process.stdout, stderr: process.stderr, onSpawn });
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
  const service = new Containers();
  // Earlier `run --rm`s' remains and what killed commands left, removed in libuv's pool while
  // this one runs. A foreground run starts it once runc is spawned and this process only waits
  // (its some thirty file operations would otherwise queue in the pool ahead of the record's,
  // the network lock's and the bundle's), and waits for it before exiting.
  let sweeping: Promise<unknown> | undefined;
  const sweep = () => (sweeping ??= service.sweep().catch(() => undefined));
  if (command === 'create' || flags.detach || (flags.tty && flags.interactive)) void sweep();
  const record = await service.create(createOptions(flags, image, cmd));
  timing('container created');
  if (command === 'create') {
    process.stdout.write(`${record.Id}\n`);
    return;
  }
  if (flags.detach) {
    try {
      await service.start(record);
    } catch (err) {
      if (record.HostConfig.AutoRemove) await service.remove(record, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
    process.stdout.write(`${record.Id}\n`);
    timing('detached');
    // Not waiting for the background sweep above (it is safe to cut anywhere, and the next
    // command goes on with it) nor for the namespace's holder to exit: the container runs.
    process.exit(0);
  }
  if (service.publishesPorts(record) || (flags.tty && flags.interactive)) {
    // Ports need the forwarder the shim runs, and `-it` may be detached from (Ctrl-P Ctrl-Q)
    // and left running: such an attached run is a shim run we attach to.
    void sweep();
    const { runAttachedViaShim } = await import('./lifecycle-attach.js');
    process.exit(await runAttachedViaShim(service, record, flags.interactive, flags.detachKeys));
  }
  let code: number;
  try {
    code = await startAttached(service, record, flags.interactive, () => void sweep());
  } finally {
    await sweep();
  }
  timing('container exited and cleaned up');
  process.exit(code);
}
