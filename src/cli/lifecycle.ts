// Commands on running containers: logs, exec, attach, stop, kill, restart, pause, unpause,
// top, stats, port: their flags and output, over the Containers service (src/engine), which
// talks to the shim, to runc and reads the containers' files and cgroups.
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { Containers } from '../engine/index.js';
import { parseSince } from '../runtime/index.js';
import { PARSER_CONFIGURATION, type RegisterCommands } from './command.js';
import type { StatsRow } from './format/stats.js';
import { formatRows, resolveFormat } from './format/template.js';
import type { ExecArgs } from './lifecycle-exec.js';

// What one command only uses (exec's, attach's, stats' and port's parsing and output) is loaded
// by its handler: every container command loads this file (containers.ts registers it).

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

async function logsCommand(argv: { container: string; follow?: boolean; tail?: string; timestamps?: boolean; details?: boolean; since?: string; until?: string }): Promise<void> {
  const tail = argv.tail === undefined || argv.tail === 'all' ? undefined : Number(argv.tail);
  if (tail !== undefined && !Number.isInteger(tail)) throw new StrataError(`invalid value for "tail": "${argv.tail}"`);
  await new Containers().logs(
    argv.container,
    {
      tail: tail !== undefined && tail < 0 ? undefined : tail,
      timestamps: argv.timestamps,
      details: argv.details,
      sinceNs: argv.since ? parseSince(argv.since) : undefined,
      untilNs: argv.until ? parseSince(argv.until, undefined, 'until') : undefined,
      follow: argv.follow,
    },
    (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text),
  );
}

async function execCommand(argv: ExecArgs): Promise<void> {
  // As `run -it` (and Docker's exec): a terminal's input must come from a terminal.
  if (argv.tty && argv.interactive && !argv.detach && !process.stdin.isTTY) throw new StrataError('the input device is not a TTY');
  // --env-file's entries first, then -e's (the later wins, as Docker's).
  const { envFromFlags } = await import('./containers-args.js');
  const env = [...envFromFlags([], argv.envFile), ...argv.env];
  process.exitCode = await new Containers().exec(argv.container, {
    command: argv.command, env, workdir: argv.workdir, user: argv.user, interactive: argv.interactive, tty: argv.tty, detach: argv.detach,
    privileged: argv.privileged,
  });
}

async function attachCommand(argv: { container: string; 'no-stdin'?: boolean; 'detach-keys'?: string; 'sig-proxy'?: boolean }): Promise<void> {
  const service = new Containers();
  const record = await service.get(argv.container);
  service.requireRunning(record, 'attach');
  // Docker's --sig-proxy (on by default): without a tty, the signals we get go to the
  // container. (With a tty, Ctrl-C is a byte the container's terminal turns into SIGINT.)
  const proxy = argv['sig-proxy'] !== false && !record.Config.Tty;
  const forward = (signal: NodeJS.Signals) => {
    service.forwardSignal(record, signal).catch(() => undefined); // it has just exited
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  if (proxy) for (const s of signals) process.on(s, forward);
  const { attachStdio } = await import('./lifecycle-attach.js');
  const code = await attachStdio(service, record, { stdin: !argv['no-stdin'] && record.Config.OpenStdin, detachKeys: argv['detach-keys'], tty: record.Config.Tty });
  // stdin may hold the event loop open: leave explicitly.
  process.exit(code);
}

async function topCommand(argv: { container: string; psArgs: string[] }): Promise<void> {
  const { titles, processes } = await new Containers().top(argv.container, argv.psArgs);
  printTable(titles, processes);
}

async function statsCommand(argv: { containers: string[]; all?: boolean; format?: string; 'no-stream'?: boolean; 'no-trunc'?: boolean }): Promise<void> {
  const service = new Containers();
  const records = argv.containers.length ? await Promise.all(argv.containers.map((r) => service.get(r))) : await service.store.list();
  const { STATS_HEADINGS, STATS_TABLE, statsRow } = await import('./format/stats.js');
  const format = resolveFormat(argv.format, STATS_TABLE);
  for (;;) {
    const rows = await Promise.all(
      records.map(async (record) => {
        const s = await service.stats(record);
        // Without names, only running containers, unless -a.
        if (!s && argv.containers.length === 0 && !argv.all) return undefined;
        return statsRow(record, s, { noTrunc: !!argv['no-trunc'], ref: argv.containers[records.indexOf(record)] });
      }),
    );
    if (!argv['no-stream']) process.stdout.write('\x1b[2J\x1b[H');
    process.stdout.write(formatRows(format, rows.filter((r): r is StatsRow => r !== undefined), STATS_HEADINGS));
    if (argv['no-stream']) return;
  }
}

async function portCommand(argv: { container: string; port?: string }): Promise<void> {
  const [{ formatPortCommand }, ports] = await Promise.all([import('./format/ports.js'), new Containers().ports(argv.container)]);
  const lines = formatPortCommand(ports, argv.port, argv.container);
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
      .option('details', { type: 'boolean', describe: 'Show extra details provided to logs' })
      .option('since', { type: 'string', describe: 'Show logs since timestamp or relative (e.g. 42m)' })
      .option('until', { type: 'string', describe: 'Show logs before a timestamp or relative (e.g. 42m)' }),
    (a) => logsCommand(a))
    .command('exec', 'Execute a command in a running container', (y) => y.strict(false).help(false).parserConfiguration({ ...PARSER_CONFIGURATION, 'unknown-options-as-args': true }),
      async () => {
        // The raw words, not yargs' `_`: that one turns "010" into 10 and "1e5" into 100000.
        const words = process.argv.slice(2);
        const { parseExecArgs } = await import('./lifecycle-exec.js');
        return execCommand(parseExecArgs(words.slice(words.indexOf('exec') + 1)));
      })
    .command('attach <container>', 'Attach local standard input, output, and error streams to a running container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .option('no-stdin', { type: 'boolean', describe: 'Do not attach STDIN' })
      .option('detach-keys', { type: 'string', describe: 'Override the key sequence for detaching a container' })
      .option('sig-proxy', { type: 'boolean', default: true, describe: 'Proxy all received signals to the process (--sig-proxy=false to not)' }),
    (a) => attachCommand(a))
    .command('stop <containers..>', 'Stop one or more running containers', (y) => many(y)
      .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before killing the container' })
      .option('signal', { alias: 's', type: 'string', describe: 'Signal to send to the container' }),
    (a) => { const c = new Containers(); return eachContainer(a.containers, (r) => c.stop(r, { timeout: a.time, signal: a.signal })); })
    .command('kill <containers..>', 'Kill one or more running containers', (y) => many(y)
      .option('signal', { alias: 's', type: 'string', default: 'KILL', describe: 'Signal to send to the container' }),
    (a) => { const c = new Containers(); return eachContainer(a.containers, (r) => c.kill(r, a.signal)); })
    .command('restart <containers..>', 'Restart one or more containers', (y) => many(y)
      .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait before killing the container' }),
    (a) => { const c = new Containers(); return eachContainer(a.containers, (r) => c.restart(r, { timeout: a.time })); })
    .command('pause <containers..>', 'Pause all processes within one or more containers', many,
      (a) => { const c = new Containers(); return eachContainer(a.containers, (r) => c.pause(r)); })
    .command('unpause <containers..>', 'Unpause all processes within one or more containers', many,
      (a) => { const c = new Containers(); return eachContainer(a.containers, (r) => c.unpause(r)); })
    .command('top <container> [ps OPTIONS]', 'Display the running processes of a container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .strict(false).parserConfiguration({ ...PARSER_CONFIGURATION, 'unknown-options-as-args': true }),
    () => {
      // The raw words: everything after the container is ps's (`top c -o pid,comm`), as Docker's.
      const words = process.argv.slice(2);
      const [container = '', ...psArgs] = words.slice(words.indexOf('top') + 1);
      // top has no flags of its own: one before the container is unknown, not a container's name.
      if (/^--./.test(container)) throw new StrataError(`unknown flag: ${container.replace(/=.*/, '')}`);
      if (/^-[^-]/.test(container)) throw new StrataError(`unknown shorthand flag: '${container[1]}' in ${container}`);
      return topCommand({ container, psArgs });
    })
    .command('stats [containers..]', 'Display a live stream of container resource usage statistics', (y) => y
      .positional('containers', { type: 'string', array: true, default: [] as string[] })
      .option('all', { alias: 'a', type: 'boolean', describe: 'Show all containers (default shows just running)' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' })
      .option('no-stream', { type: 'boolean', describe: 'Disable streaming stats and only pull the first result' })
      .option('no-trunc', { type: 'boolean', describe: 'Do not truncate output' }),
    (a) => statsCommand({ containers: a.containers.map(String), all: a.all, format: a.format, 'no-stream': a['no-stream'], 'no-trunc': a['no-trunc'] }))
    .command('port <container> [port]', 'List port mappings or a specific mapping for the container', (y) => y
      .positional('container', { type: 'string', demandOption: true })
      .positional('port', { type: 'string' }),
    (a) => portCommand(a));
