// Commands on running containers: logs, exec, attach, stop, kill, restart, pause, unpause,
// top, stats, port. Detached containers are run by a shim (src/runtime/shim/shim.ts); these
// commands talk to it (attach socket), to runc (signals, exec, freezer) and read its files.
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import {
  bindingsOf, bytesSize, containerPids, execInContainer, humanSize, isLive, killContainer, logPath, parseSince, pauseContainer, readLogs,
  readRuntimeStatus, readShimConfig, runcRootOf, sampleStats, startDetached, stopContainer, topProcesses, unpauseContainer,
  type ContainerHandle, type DockerPortMap,
} from '../runtime/index.js';
import { ContainerStore, type ContainerRecord, stateRoot } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { openContext } from './containers-run.js';
import { formatPortCommand } from './format/ports.js';
import { attachStdio } from './lifecycle-attach.js';
import { parseExecArgs, type ExecArgs } from './lifecycle-exec.js';

// Used by the container commands (run, start -a).
export { attachedStartViaShim, attachStdio, runAttachedViaShim } from './lifecycle-attach.js';

interface Ctx {
  root: string;
  containers: ContainerStore;
}

function ctx(): Ctx {
  const root = stateRoot();
  return { root, containers: new ContainerStore(root) };
}

async function open(c: Ctx, ref: string): Promise<{ record: ContainerRecord; handle: ContainerHandle }> {
  const record = await c.containers.get(ref);
  return { record, handle: { id: record.Id, dir: c.containers.paths(record.Id).dir, runcRoot: runcRootOf(c.root) } };
}

function requireRunning(record: ContainerRecord, handle: ContainerHandle, what: string): number {
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
  if (status?.state === 'paused') throw new StrataError(`container "${record.Id.slice(0, 12)}" is paused, unpause the container before ${what}`);
  if (!isLive(status) || !status?.pid) throw new StrataError(`container "${record.Id.slice(0, 12)}" is not running`);
  return status.pid;
}

/** Runs ACTION on every named container, prints each name as Docker does, and fails at the end if any failed. */
async function eachContainer(refs: string[], action: (ref: string) => Promise<void>): Promise<void> {
  let failed = 0;
  for (const ref of refs) {
    try {
      await action(ref);
      process.stdout.write(`${ref}\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`Error: ${(err as Error).message}\n`);
    }
  }
  if (failed) process.exit(1);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

async function logsCommand(argv: { container: string; follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string }): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  const tail = argv.tail === undefined || argv.tail === 'all' ? undefined : Number(argv.tail);
  if (tail !== undefined && !Number.isInteger(tail)) throw new StrataError(`invalid value for "tail": "${argv.tail}"`);
  await readLogs(
    logPath(handle.dir, record.Id),
    {
      tail: tail !== undefined && tail < 0 ? undefined : tail,
      timestamps: argv.timestamps,
      sinceNs: argv.since ? parseSince(argv.since) : undefined,
      untilNs: argv.until ? parseSince(argv.until) : undefined,
      follow: argv.follow ? () => isLive(readRuntimeStatus(handle.dir, handle.runcRoot, handle.id)) : undefined,
    },
    (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text),
  );
}

async function execCommand(argv: ExecArgs): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  requireRunning(record, handle, 'exec');
  const config = readShimConfig(handle.dir);
  const code = await execInContainer({
    id: record.Id,
    runcRoot: handle.runcRoot,
    args: argv.command,
    env: argv.env,
    cwd: argv.workdir,
    user: argv.user,
    additionalGroups: record.HostConfig.GroupAdd,
    rootfs: config ? { lowerDirs: config.spec.rootfs.lowerDirs, upperDir: config.spec.rootfs.upperDir } : undefined,
    containerEnv: config?.spec.env,
    containerCwd: config?.spec.cwd,
    mountPoints: config?.mounts.map((m) => m.destination),
    interactive: argv.interactive,
    tty: argv.tty,
    detach: argv.detach,
  });
  process.exitCode = code;
}

async function attachCommand(argv: { container: string; stdin?: boolean; 'detach-keys'?: string; 'sig-proxy'?: boolean }): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  requireRunning(record, handle, 'attach');
  // Docker's --sig-proxy (on by default): without a tty, the signals we get go to the
  // container. (With a tty, Ctrl-C is a byte the container's terminal turns into SIGINT.)
  const proxy = argv['sig-proxy'] !== false && !record.Config.Tty;
  const forward = (signal: NodeJS.Signals) => {
    try {
      killContainer(handle, signal, { markStopped: false });
    } catch {
      // it has just exited
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  if (proxy) for (const s of signals) process.on(s, forward);
  const code = await attachStdio(handle, { stdin: argv.stdin !== false && record.Config.OpenStdin, detachKeys: argv['detach-keys'], tty: record.Config.Tty });
  // stdin may hold the event loop open: leave explicitly.
  process.exit(code);
}

async function stopOne(c: Ctx, ref: string, timeout: number | undefined, signal: string | undefined): Promise<void> {
  const { record, handle } = await open(c, ref);
  const stopTimeout = (record.Config as { StopTimeout?: number }).StopTimeout;
  await stopContainer(handle, { signal: signal || record.Config.StopSignal || 'SIGTERM', timeoutSec: timeout ?? stopTimeout ?? 10 });
}

async function restartOne(c: Ctx, ref: string, timeout: number | undefined): Promise<void> {
  await stopOne(c, ref, timeout, undefined);
  const { record } = await open(c, ref);
  await startDetached(await openContext(), record);
}

async function topCommand(argv: { container: string; psArgs: string[] }): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  requireRunning(record, handle, 'top');
  const pids = await containerPids(handle.runcRoot, record.Id);
  const { titles, processes } = topProcesses(pids, argv.psArgs);
  printTable(titles, processes);
}

async function statsCommand(argv: { containers: string[]; 'no-stream'?: boolean; 'no-trunc'?: boolean }): Promise<void> {
  const c = ctx();
  const records = argv.containers.length ? await Promise.all(argv.containers.map((r) => c.containers.get(r))) : await c.containers.list();
  const header = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'];
  for (;;) {
    const rows = await Promise.all(
      records.map(async (record) => {
        const handle = { id: record.Id, dir: c.containers.paths(record.Id).dir, runcRoot: runcRootOf(c.root) };
        const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
        const id = argv['no-trunc'] ? record.Id : record.Id.slice(0, 12);
        const name = record.Name.replace(/^\//, '');
        if (!isLive(status) || !status?.pid) {
          if (argv.containers.length === 0) return undefined;
          return [id, name, '0.00%', '0B / 0B', '0.00%', '0B / 0B', '0B / 0B', '0'];
        }
        const s = await sampleStats(status.pid);
        return [id, name, `${s.cpuPercent.toFixed(2)}%`, `${bytesSize(s.memUsage)} / ${bytesSize(s.memLimit)}`, `${((s.memUsage / s.memLimit) * 100).toFixed(2)}%`,
          `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`, `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`, String(s.pids)];
      }),
    );
    if (!argv['no-stream']) process.stdout.write('\x1b[2J\x1b[H');
    printTable(header, rows.filter((r): r is string[] => r !== undefined));
    if (argv['no-stream']) return;
  }
}

async function portCommand(argv: { container: string; port?: string }): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
  const bindings = isLive(status) ? status!.ports : bindingsOf((record as { NetworkSettings?: { Ports?: DockerPortMap } }).NetworkSettings?.Ports);
  const lines = formatPortCommand(bindings, argv.port);
  if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
}

const many = (y: Argv) => y.positional('containers', { type: 'string', array: true, demandOption: true });

export const register: RegisterCommands = (cli) =>
  cli
    .command('logs <container>', 'Fetch the logs of a container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .option('follow', { alias: 'f', type: 'boolean', describe: 'Follow log output' })
      .option('tail', { alias: 'n', type: 'string', describe: 'Number of lines to show from the end of the logs ("all")' })
      .option('timestamps', { alias: 't', type: 'boolean', describe: 'Show timestamps' })
      .option('since', { type: 'string', describe: 'Show logs since timestamp or relative (e.g. 42m)' })
      .option('until', { type: 'string', describe: 'Show logs before a timestamp or relative (e.g. 42m)' }),
    (a) => logsCommand(a))
    .command('exec', 'Execute a command in a running container', (y) => y.strict(false).help(false).parserConfiguration({ 'unknown-options-as-args': true }),
      () => {
        // The raw words, not yargs' `_`: that one turns "010" into 10 and "1e5" into 100000.
        const words = process.argv.slice(2);
        return execCommand(parseExecArgs(words.slice(words.indexOf('exec') + 1)));
      })
    .command('attach <container>', 'Attach local standard input, output, and error streams to a running container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .option('stdin', { type: 'boolean', default: true, describe: 'Attach STDIN (--no-stdin to not)' })
      .option('detach-keys', { type: 'string', describe: 'Override the key sequence for detaching a container' })
      .option('sig-proxy', { type: 'boolean', default: true, describe: 'Proxy all received signals to the process (--sig-proxy=false to not)' }),
    (a) => attachCommand(a))
    .command('stop <containers..>', 'Stop one or more running containers', (y) => many(y)
      .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before killing the container' })
      .option('signal', { alias: 's', type: 'string', describe: 'Signal to send to the container' }),
    (a) => { const c = ctx(); return eachContainer(a.containers, (r) => stopOne(c, r, a.time, a.signal)); })
    .command('kill <containers..>', 'Kill one or more running containers', (y) => many(y)
      .option('signal', { alias: 's', type: 'string', default: 'KILL', describe: 'Signal to send to the container' }),
    (a) => { const c = ctx(); return eachContainer(a.containers, async (r) => killContainer((await open(c, r)).handle, a.signal)); })
    .command('restart <containers..>', 'Restart one or more containers', (y) => many(y)
      .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before killing the container' }),
    (a) => { const c = ctx(); return eachContainer(a.containers, (r) => restartOne(c, r, a.time)); })
    .command('pause <containers..>', 'Pause all processes within one or more containers', many,
      (a) => { const c = ctx(); return eachContainer(a.containers, async (r) => pauseContainer((await open(c, r)).handle)); })
    .command('unpause <containers..>', 'Unpause all processes within one or more containers', many,
      (a) => { const c = ctx(); return eachContainer(a.containers, async (r) => unpauseContainer((await open(c, r)).handle)); })
    .command('top <container> [ps OPTIONS]', 'Display the running processes of a container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .strict(false).parserConfiguration({ 'unknown-options-as-args': true }),
    () => {
      // The raw words: everything after the container is ps's (`top c -o pid,comm`), as Docker's.
      const words = process.argv.slice(2);
      const [container = '', ...psArgs] = words.slice(words.indexOf('top') + 1);
      return topCommand({ container, psArgs });
    })
    .command('stats [containers..]', 'Display a live stream of container resource usage statistics', (y) => y
      .positional('containers', { type: 'string', array: true, default: [] as string[] })
      .option('stream', { type: 'boolean', default: true, describe: '--no-stream: only pull the first result' })
      .option('trunc', { type: 'boolean', default: true, describe: '--no-trunc: do not truncate output' }),
    (a) => statsCommand({ containers: a.containers.map(String), 'no-stream': a.stream === false, 'no-trunc': a.trunc === false }))
    .command('port <container> [port]', 'List port mappings or a specific mapping for the container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .positional('port', { type: 'string' }),
    (a) => portCommand(a));
