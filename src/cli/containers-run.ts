// `run`, `create` and `start`: a container from an image and the user's flags, then started
// attached to this process (the foreground path: runc's exit code is ours), or handed to a
// detached shim (`-d`, `start` without `-a`).
import fs from 'node:fs';
import { StrataError } from '../errors.js';
import { ContainerStore, openStore, stateRoot, type ContainerRecord, type Image, type ImageStore } from '../store/index.js';
import {
  buildRecord, freshName, inheritMounts, logPath, mountRequestsOf, networkOf, parseUlimits, removeContainer, resolveContainerMounts,
  networkChoice, runAttached, runcRootOf, startDetached, sweepLeftovers, teeToLog, type ContainerContext,
} from '../runtime/index.js';
import { timing } from '../timing.js';
import { envFromFlags, parseMemory, parseRunArgs, runUsage, type RunFlags } from './containers-args.js';

export async function openContext(): Promise<ContainerContext> {
  const root = stateRoot();
  const images: ImageStore = await openStore(root);
  return { root, images, containers: new ContainerStore(root), runcRoot: runcRootOf(root) };
}

function checkSecurityOpt(opt: string): string {
  if (/^seccomp[=:](unconfined|default)$/.test(opt) || /^no-new-privileges(:true|=true)?$/.test(opt)) return opt;
  throw new StrataError(`invalid --security-opt "${opt}": strata supports seccomp=unconfined and no-new-privileges`);
}

function parseLabels(labels: string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])));
}

/**
 * The image to run: the local one, pulled first when missing (or always, with --pull=always),
 * as Docker does. The registry client is loaded only when a pull is needed.
 */
async function imageFor(ctx: ContainerContext, flags: RunFlags, imageRef: string): Promise<Image> {
  const policy = flags.pull ?? 'missing';
  if (!['always', 'missing', 'never'].includes(policy)) throw new StrataError(`invalid pull option "${policy}": must be one of "always", "missing" or "never"`);
  if (policy !== 'always') {
    try {
      return await ctx.images.resolveImage(imageRef);
    } catch (err) {
      // Not under this name: a short-name alias of the registries config may still name a local image (ensureImage).
      if (!(err instanceof StrataError) || !/^no such image/.test(err.message)) throw err;
    }
  }
  const [reg, { PlainTransferProgress }] = await Promise.all([import('../registry/index.js'), import('./transfer-progress.js')]);
  const onPull = () => policy === 'missing' && process.stderr.write(`Unable to find image '${imageRef}' locally\n`);
  // The pull's progress goes to stderr: stdout belongs to the container (or its ID, with -d).
  const progress = flags.quiet ? undefined : new PlainTransferProgress(process.stderr);
  try {
    return await reg.ensureImage(imageRef, { store: await openStore(ctx.root), policy: policy as 'always' | 'missing' | 'never', platform: flags.platform, progress, onPull });
  } finally {
    await reg.closeTransports();
    await (await import('../hash/index.js')).closeHashPool();
  }
}

/** Creates the container a `run`/`create` command line describes. */
export async function createFromArgs(ctx: ContainerContext, flags: RunFlags, imageRef: string, command: string[]): Promise<ContainerRecord> {
  // container:NAME is kept as container:ID, and takes that container's hostname.
  let networkFlag = flags.network;
  let hostname = flags.hostname;
  if (networkFlag?.startsWith('container:')) {
    const other = await ctx.containers.get(networkFlag.slice('container:'.length));
    if (flags.hostname) throw new StrataError('conflicting options: hostname and the network mode');
    networkFlag = `container:${other.Id}`;
    hostname = other.Config.Hostname;
  }
  const network = await networkChoice(ctx.root, {
    network: networkFlag, aliases: flags.networkAlias, ip: flags.ip, extraHosts: flags.addHost, dns: flags.dns, dnsSearch: flags.dnsSearch,
    dnsOptions: flags.dnsOption, publishes: flags.publish.length > 0, hostname: flags.hostname,
  });
  timing('network chosen');
  const memory = flags.memory !== undefined ? parseMemory(flags.memory) : undefined;
  const ulimits = parseUlimits(flags.ulimit);
  const env = envFromFlags(flags.env, flags.envFile);
  const image = await imageFor(ctx, flags, imageRef);
  timing('image resolved');
  const inherited = [];
  for (const from of flags.volumesFrom) {
    const other = await ctx.containers.get(from.replace(/:(ro|rw)$/, ''));
    inherited.push(...inheritMounts(from, mountRequestsOf(other)));
  }
  const requests = resolveContainerMounts({
    root: ctx.root, cwd: process.cwd(), volumes: flags.volume, mounts: flags.mount, inherited,
    imageVolumes: Object.keys(image.config.config.Volumes ?? {}),
  });
  const name = flags.name ?? (await freshName((n) => ctx.containers.nameTaken(n)));
  timing('name chosen');
  const record = buildRecord({
    image, imageRef, name, command, entrypoint: flags.entrypoint, env, workdir: flags.workdir, user: flags.user,
    hostname, tty: flags.tty, openStdin: flags.interactive, autoRemove: flags.rm,
    readonlyRootfs: flags.readOnly, memory, ulimits, network, groupAdd: flags.groupAdd, labels: parseLabels(flags.label),
    securityOpt: flags.securityOpt.map(checkSecurityOpt),
    binds: flags.volume,
    mounts: requests.map((m) => ({
      Type: m.type, Source: m.type === 'bind' ? m.source : '', Destination: m.destination,
      RW: m.type === 'tmpfs' ? true : !m.readonly, ...(m.type === 'volume' ? { Name: m.name } : {}),
    })),
    extra: { mounts: requests, publish: flags.publish, publishAll: flags.publishAll, restart: flags.restart ?? 'no' },
  });
  if (flags.restart && flags.restart !== 'no' && flags.rm) throw new StrataError('conflicting options: cannot specify both --restart and --rm');
  await ctx.containers.create(record);
  return record;
}

function hasControllingTerminal(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** Runs the container attached to our stdio; exits the process with its code when done. */
export async function startAttached(ctx: ContainerContext, record: ContainerRecord, interactive: boolean): Promise<number> {
  // runc relays a foreground pty through our controlling terminal; without one (a pipe, CI)
  // the process runs without a pty rather than failing.
  const terminal = record.Config.Tty && hasControllingTerminal();
  // A container that stays after it exits keeps its output for `logs`; a tty's output is
  // relayed by runc itself and a --rm container's log would go with it, so neither is teed.
  const tee = terminal || record.HostConfig.AutoRemove ? undefined : teeToLog(logPath(ctx.containers.paths(record.Id).dir, record.Id), process);
  try {
    const output = tee ? { stdout: tee.stdout, stderr: tee.stderr } : { stdout: 'inherit' as const, stderr: 'inherit' as const };
    return await runAttached(ctx, record, { stdin: interactive ? 'inherit' : 'null', ...output, terminal });
  } finally {
    tee?.close();
    timing('container exited');
    // The exit code is known: the container's files are unlinked after we exit (see remove()).
    if (record.HostConfig.AutoRemove) await removeContainer(ctx, record, { volumes: true, background: true });
  }
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
  const ctx = await openContext();
  timing('store opened');
  // Earlier `run --rm`s' remains and what killed commands left, removed in libuv's pool while
  // this one sets up and runs.
  void sweepLeftovers(ctx.root).catch(() => undefined);
  const record = await createFromArgs(ctx, flags, image, cmd);
  timing('container created');
  if (command === 'create') {
    process.stdout.write(`${record.Id}\n`);
    return;
  }
  if (flags.detach) {
    try {
      await startDetached(ctx, record);
    } catch (err) {
      if (record.HostConfig.AutoRemove) await removeContainer(ctx, record, { volumes: true }).catch(() => undefined);
      throw err;
    }
    process.stdout.write(`${record.Id}\n`);
    return;
  }
  const publishes = networkOf(record) === 'private' && ((record.Strata.publish as string[]).length > 0 || record.Strata.publishAll);
  if (publishes || (flags.tty && flags.interactive)) {
    // Ports need the forwarder the shim runs, and `-it` may be detached from (Ctrl-P Ctrl-Q)
    // and left running: such an attached run is a shim run we attach to.
    const { runAttachedViaShim } = await import('./lifecycle-attach.js');
    process.exit(await runAttachedViaShim(ctx, record, flags.interactive, flags.detachKeys));
  }
  const code = await startAttached(ctx, record, flags.interactive);
  timing('container exited and cleaned up');
  process.exit(code);
}
