// Commands on running containers: logs, exec, attach, stop, kill, restart, pause, unpause,
// top, stats, port. Detached containers are run by a shim (src/runtime/shim.ts); these
// commands talk to it (attach socket), to runc (signals, exec, freezer) and read its files.
import { spawnSync } from 'node:child_process';
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { attachToShim, parseDetachKeys } from '../runtime/attach.js';
import { containerPids, execInContainer } from '../runtime/exec.js';
import { readLogs, parseSince } from '../runtime/logs.js';
import { formatPortCommand } from '../runtime/ports.js';
import { isLive, killContainer, pauseContainer, stopContainer, unpauseContainer, waitForExit, type ContainerHandle } from '../runtime/shim-control.js';
import { bindingsOf, type DockerPortMap } from '../runtime/shim-record.js';
import { shortSocketPath } from '../runtime/shim-hub.js';
import { ATTACH_SOCKET, logPath, readRuntimeStatus, readShimConfig } from '../runtime/shim-state.js';
import { bytesSize, humanSize, sampleStats, topRows } from '../runtime/shim-stats.js';
import { ContainerStore, type ContainerRecord } from '../store/containers.js';
import { removeContainer, type ContainerContext } from '../runtime/foreground.js';
import { stateRoot } from '../store/paths.js';
import { runcRootOf } from '../runtime/foreground.js';
import type { RegisterCommands } from './command.js';

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

interface ExecArgs { container: string; command: string[]; interactive?: boolean; tty?: boolean; env: string[]; workdir?: string; user?: string; detach?: boolean }

const EXEC_USAGE = `Usage:  strata exec [OPTIONS] CONTAINER COMMAND [ARG...]

Execute a command in a running container

Options:
  -d, --detach               Detached mode: run command in the background
  -e, --env list             Set environment variables
  -i, --interactive          Keep STDIN open even if not attached
  -t, --tty                  Allocate a pseudo-TTY
  -u, --user string          Username or UID (format: "<name|uid>[:<group|gid>]")
  -w, --workdir string       Working directory inside the container
`;

/** exec's flags, up to the container name; everything after it is the command, untouched. */
export function parseExecArgs(words: string[]): ExecArgs {
  const out: ExecArgs = { container: '', command: [], env: [] };
  const valued: Record<string, 'env' | 'workdir' | 'user' | 'detach-keys'> = { e: 'env', env: 'env', w: 'workdir', workdir: 'workdir', u: 'user', user: 'user', 'detach-keys': 'detach-keys' };
  const bools: Record<string, 'interactive' | 'tty' | 'detach'> = { i: 'interactive', interactive: 'interactive', t: 'tty', tty: 'tty', d: 'detach', detach: 'detach' };
  let i = 0;
  const set = (key: string, value: string) => {
    if (key === 'env') out.env.push(value);
    else if (key === 'workdir') out.workdir = value;
    else if (key === 'user') out.user = value;
  };
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--help' || w === '-h') {
      process.stdout.write(EXEC_USAGE);
      process.exit(0);
    }
    if (!w.startsWith('-') || w === '-') break;
    if (w === '--') {
      i++;
      break;
    }
    const long = w.startsWith('--');
    const body = w.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (long || name.length === 1 || eq >= 0) {
      if (valued[name]) {
        const value = eq >= 0 ? body.slice(eq + 1) : words[++i];
        if (value === undefined) throw new StrataError(`flag needs an argument: ${w}`);
        set(valued[name]!, value);
        continue;
      }
      if (bools[name] && eq < 0) {
        out[bools[name]!] = true;
        continue;
      }
      if (long) throw new StrataError(`unknown flag: ${w}`);
    }
    // A cluster of short flags: -it, -itd, -ie VAR (the last may take a value).
    for (let j = 0; j < body.length; j++) {
      const f = body[j]!;
      if (bools[f]) out[bools[f]!] = true;
      else if (valued[f]) {
        const rest = body.slice(j + 1).replace(/^=/, '');
        const value = rest || words[++i];
        if (value === undefined) throw new StrataError(`flag needs an argument: '${f}' in ${w}`);
        set(valued[f]!, value);
        break;
      } else throw new StrataError(`unknown shorthand flag: '${f}' in ${w}`);
    }
  }
  out.container = words[i] ?? '';
  out.command = words.slice(i + 1);
  if (!out.container || out.command.length === 0) throw new StrataError(`"strata exec" requires at least 2 arguments: see 'strata exec --help'`);
  return out;
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

/**
 * Puts our terminal in the mode attach needs. A container with a tty echoes and edits lines
 * itself: raw mode. Without one, keystrokes must still arrive one by one (for the detach keys)
 * and Ctrl-Q must not be eaten as XON, but Enter should stay a newline and typing stay
 * visible: `stty -icanon -ixon`, restored afterwards from `stty -g`.
 */
function terminalMode(containerTty: boolean): { restore: () => void } {
  if (containerTty) {
    process.stdin.setRawMode(true);
    return { restore: () => process.stdin.isTTY && process.stdin.setRawMode(false) };
  }
  const saved = spawnSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' }).stdout.trim();
  spawnSync('stty', ['-icanon', '-ixon', 'min', '1'], { stdio: ['inherit', 'ignore', 'ignore'] });
  let restored = false;
  return {
    restore: () => {
      if (restored || !saved) return;
      restored = true;
      spawnSync('stty', [saved], { stdio: ['inherit', 'ignore', 'ignore'] });
    },
  };
}

/** Attaches our stdio to the container's shim; resolves with the exit code to leave with. */
export async function attachStdio(handle: ContainerHandle, options: { stdin: boolean; detachKeys?: string; tty: boolean }): Promise<number> {
  let keys: Buffer;
  try {
    keys = parseDetachKeys(options.detachKeys ?? 'ctrl-p,ctrl-q');
  } catch (err) {
    throw new StrataError((err as Error).message);
  }
  const sock = shortSocketPath(handle.dir, ATTACH_SOCKET);
  const terminal = options.stdin && process.stdin.isTTY ? terminalMode(options.tty) : undefined;
  try {
    const outcome = await attachToShim({
      socketPath: sock.path,
      stdin: options.stdin ? process.stdin : undefined,
      stdout: process.stdout,
      stderr: process.stderr,
      detachKeys: options.stdin ? keys : undefined,
      size: () => (process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') throw new StrataError(`cannot attach to container "${handle.id.slice(0, 12)}": it is not running under a shim`);
      throw err;
    });
    if (outcome.kind === 'detached') {
      terminal?.restore();
      process.stderr.write('read escape sequence\n');
      return 0;
    }
    if (outcome.kind === 'exited') return outcome.exitCode;
    const status = await waitForExit(handle, 5000);
    return status?.exitCode ?? 0;
  } finally {
    terminal?.restore();
    sock.close();
  }
}

/**
 * `run` without -d for a container that needs its shim (published ports): the shim starts it
 * once we are attached, so no output is missed; Ctrl-C / SIGTERM stop the container, as with
 * an attached Docker run. Resolves with the container's exit code.
 */
export async function runAttachedViaShim(ctx: ContainerContext, record: ContainerRecord, interactive: boolean): Promise<number> {
  const handle = { id: record.Id, dir: ctx.containers.paths(record.Id).dir, runcRoot: ctx.runcRoot };
  const { startDetached } = await import('./containers-run.js');
  let attached: Promise<number> | undefined;
  const forward = (signal: NodeJS.Signals) => spawnSync('runc', ['--root', ctx.runcRoot, 'kill', record.Id, signal], { stdio: 'ignore' });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  try {
    await startDetached(ctx, record, {
      attach: () => {
        attached = attachStdio(handle, { stdin: interactive, tty: record.Config.Tty, detachKeys: 'ctrl-p,ctrl-q' });
      },
    });
    if (!attached) throw new StrataError(`attaching to container "${record.Id.slice(0, 12)}": the shim did not wait for us`);
    return await attached;
  } catch (err) {
    // Not started (a port in use...): --rm still removes it, as Docker does.
    if (record.HostConfig.AutoRemove) await removeContainer(ctx, record, { volumes: true }).catch(() => undefined);
    throw err;
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}

/**
 * `start -a`/`-ai` when the shim has a part in it: a container already running under its shim
 * is attached to, one with published ports is started through the shim. Undefined when the
 * plain attached start (the CLI as the container's parent) applies.
 */
export async function attachedStartViaShim(ctx: ContainerContext, record: ContainerRecord, interactive: boolean): Promise<number | undefined> {
  const handle = { id: record.Id, dir: ctx.containers.paths(record.Id).dir, runcRoot: ctx.runcRoot };
  const status = readRuntimeStatus(handle.dir, handle.runcRoot, handle.id);
  if (isLive(status)) return attachStdio(handle, { stdin: interactive && record.Config.OpenStdin, tty: record.Config.Tty });
  const publishes = ((record.Strata.publish as string[] | undefined) ?? []).length > 0 || !!record.Strata.publishAll;
  if (publishes && record.HostConfig.NetworkMode === 'default') return runAttachedViaShim(ctx, record, interactive);
  return undefined;
}

async function attachCommand(argv: { container: string; stdin?: boolean; 'detach-keys'?: string }): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  requireRunning(record, handle, 'attach');
  process.exitCode = await attachStdio(handle, { stdin: argv.stdin !== false && record.Config.OpenStdin, detachKeys: argv['detach-keys'], tty: record.Config.Tty });
  if (process.exitCode === 0) process.exit(0); // stdin may hold the event loop open
  process.exit(process.exitCode);
}

async function stopOne(c: Ctx, ref: string, timeout: number | undefined, signal: string | undefined): Promise<void> {
  const { record, handle } = await open(c, ref);
  const stopTimeout = (record.Config as { StopTimeout?: number }).StopTimeout;
  await stopContainer(handle, { signal: signal || record.Config.StopSignal || 'SIGTERM', timeoutSec: timeout ?? stopTimeout ?? 10 });
}

async function restartOne(c: Ctx, ref: string, timeout: number | undefined): Promise<void> {
  await stopOne(c, ref, timeout, undefined);
  const { record } = await open(c, ref);
  const { openContext, startDetached } = await import('./containers-run.js');
  await startDetached(await openContext(), record);
}

async function topCommand(argv: { container: string }): Promise<void> {
  const c = ctx();
  const { record, handle } = await open(c, argv.container);
  requireRunning(record, handle, 'top');
  const pids = await containerPids(handle.runcRoot, record.Id);
  printTable(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], topRows(pids));
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
      (a) => {
        const words = a._.map(String);
        return execCommand(parseExecArgs(words.slice(words.indexOf('exec') + 1)));
      })
    .command('attach <container>', 'Attach local standard input, output, and error streams to a running container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .option('stdin', { type: 'boolean', default: true, describe: 'Attach STDIN (--no-stdin to not)' })
      .option('detach-keys', { type: 'string', describe: 'Override the key sequence for detaching a container' }),
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
    .command('top <container> [options..]', 'Display the running processes of a container', (y) => y
      .positional('container', { type: 'string', demandOption: true }),
    (a) => topCommand(a))
    .command('stats [containers..]', 'Display a live stream of container resource usage statistics', (y) => y
      .positional('containers', { type: 'string', array: true, default: [] as string[] })
      .option('stream', { type: 'boolean', default: true, describe: '--no-stream: only pull the first result' })
      .option('trunc', { type: 'boolean', default: true, describe: '--no-trunc: do not truncate output' }),
    (a) => statsCommand({ containers: a.containers.map(String), 'no-stream': a.stream === false, 'no-trunc': a.trunc === false }))
    .command('port <container> [port]', 'List port mappings or a specific mapping for the container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .positional('port', { type: 'string' }),
    (a) => portCommand(a));
