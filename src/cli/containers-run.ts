// `run`, `create` and `start`: a container from an image and the user's flags, then started
// attached to this process (the foreground path: runc's exit code is ours), or handed to a
// detached shim (`-d`, `start` without `-a`).
import fs from 'node:fs';
import { StrataError } from '../errors.js';
import { ContainerStore, type ContainerRecord } from '../store/containers.js';
import { stateRoot } from '../store/paths.js';
import type { ImageStore } from '../store/types.js';
import { buildRecord, lowerDirsOf, networkOf, runSpecOf } from '../runtime/container.js';
import { mountRequestsOf, portRequestsOf, removeContainer, runAttached, runcRootOf, type ContainerContext } from '../runtime/foreground.js';
import { teeToLog } from '../runtime/logs.js';
import { freshName } from '../runtime/names.js';
import { logPath } from '../runtime/shim/state.js';
import { timing } from '../runtime/timing.js';
import { parseUlimits } from '../runtime/ulimits.js';
import { envFromFlags, parseMemory, parseRunArgs, runUsage, type RunFlags } from './containers-args.js';

export async function openContext(): Promise<ContainerContext> {
  const root = stateRoot();
  const { openStore } = await import('../store/store.js');
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
  const { networkChoice } = await import('../runtime/net/config.js');
  const network = await networkChoice(ctx.root, {
    network: networkFlag, aliases: flags.networkAlias, ip: flags.ip, extraHosts: flags.addHost, dns: flags.dns, dnsSearch: flags.dnsSearch,
    dnsOptions: flags.dnsOption, publishes: flags.publish.length > 0, hostname: flags.hostname,
  });
  timing('network chosen');
  const memory = flags.memory !== undefined ? parseMemory(flags.memory) : undefined;
  const ulimits = parseUlimits(flags.ulimit);
  const env = envFromFlags(flags.env, flags.envFile);
  const image = await ctx.images.resolveImage(imageRef);
  timing('image resolved');
  const { resolveContainerMounts, inheritMounts } = await import('../runtime/shim/mounts.js');
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

/** Starts the container under a detached shim; resolves once it runs. */
export async function startDetached(ctx: ContainerContext, record: ContainerRecord, shimOptions: { attach?: () => void } = {}): Promise<void> {
  const [{ writeShimConfig }, { startShim }] = await Promise.all([import('../runtime/shim/state.js'), import('../runtime/shim/client.js')]);
  const paths = ctx.containers.paths(record.Id);
  const lowerDirs = await lowerDirsOf(record, ctx.images);
  const { mounts: _mounts, stdin: _i, stdout: _o, stderr: _e, ...spec } = runSpecOf(record, paths, lowerDirs, []);
  writeShimConfig(paths.dir, {
    id: record.Id, root: ctx.root, runcRoot: ctx.runcRoot, spec, mounts: mountRequestsOf(record),
    ports: await portRequestsOf(record), restart: parseRestart(String(record.Strata.restart ?? 'no')),
    autoRemove: record.HostConfig.AutoRemove, interactive: record.Config.OpenStdin, stdinOnce: record.Config.StdinOnce,
  });
  await startShim(paths.dir, shimOptions);
}

function parseRestart(text: string): { name: 'no' | 'always' | 'unless-stopped' | 'on-failure'; maximumRetryCount: number } {
  const [name = 'no', count = '0'] = text.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name) || !/^\d+$/.test(count)) throw new StrataError(`invalid restart policy "${text}"`);
  if (name !== 'on-failure' && count !== '0') throw new StrataError(`maximum retry count cannot be used with restart policy "${name}"`);
  return { name: name as 'no', maximumRetryCount: Number(count) };
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
  if (!image) throw new StrataError(`"strata ${command}" requires at least 1 argument: see 'strata ${command} --help'`);
  if (command === 'run' && flags.detach && flags.rm && flags.restart && flags.restart !== 'no') throw new StrataError('conflicting options: cannot specify both --restart and --rm');
  if (command === 'run' && !flags.detach && flags.tty && flags.interactive && !process.stdin.isTTY) throw new StrataError('the input device is not a TTY');
  const ctx = await openContext();
  timing('store opened');
  // Earlier `run --rm`s' remains, unlinked in libuv's pool while this one sets up and runs.
  void ctx.containers.sweepGraveyards();
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
  if (networkOf(record) === 'private' && ((record.Strata.publish as string[]).length > 0 || record.Strata.publishAll)) {
    // Ports need the forwarder the shim runs; an attached run with -p is a shim run we attach to.
    const { runAttachedViaShim } = await import('./lifecycle.js');
    process.exit(await runAttachedViaShim(ctx, record, flags.interactive));
  }
  const code = await startAttached(ctx, record, flags.interactive);
  timing('container exited and cleaned up');
  process.exit(code);
}
