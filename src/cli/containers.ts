// The container commands: run, create, start, ps, rm, wait, diff, commit, export, cp, rename,
// and `container ...` (the same, the running containers' commands of lifecycle.ts, ls, prune,
// inspect), over the Containers service.
import type { Argv } from 'yargs';
import { isNotFound, StrataError } from '../errors.js';
import { formatChanges } from '../runtime/index.js';
import { Containers, Images, type UpdateRequest } from '../engine/index.js';
import { imageCommand } from './image-command.js';
import { PARSER_CONFIGURATION, type RegisterCommands } from './command.js';
import { confirm } from './confirm.js';
import { register as registerLifecycle } from './lifecycle.js';

type Args = Record<string, unknown> & { _: Array<string | number> };

/** Everything after the command word(s), for run/create whose flags we parse ourselves. */
function rawArgs(argv: Args, words: string[]): string[] {
  const all = argv._.map(String);
  let i = 0;
  for (const w of words) if (all[i] === w) i++;
  return all.slice(i);
}

/** FN for each of REFS, each failure said; exit 1 if any failed (with MISSINGOK, a container that does not exist is said, not a failure). */
async function forEach(refs: string[], fn: (ref: string) => Promise<void>, options: { missingOk?: boolean } = {}): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (err) {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      if (!(options.missingOk && isNotFound(err))) failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}

async function ps(argv: Args): Promise<void> {
  const service = new Containers();
  const { psRow, renderPs } = await import('./format/containers.js');
  const { formatPortsColumn } = await import('./format/ports.js');
  const last = argv.latest ? 1 : Number(argv.last ?? -1);
  const entries = await service.list({
    all: Boolean(argv.all), last, filters: (argv.filter as string[] | undefined) ?? [],
    // Docker's daemon leaves out a container it could not load; so does ps, saying so.
    onDamaged: (err) => process.stderr.write(`WARNING: ${err.message}: not listed (\`strata rm\` removes it)\n`),
  });
  // As docker's CLI: a --format that uses .Size implies -s.
  const wantSizes = argv.size || /\.Size\b/.test(String(argv.format ?? ''));
  const sizes = wantSizes ? await service.sizes(entries.map((e) => e.record)) : undefined;
  const { humanSize } = await import('./format/human.js');
  const rows = entries.map(({ record, state, ports, currentImage }) => {
    // As Docker: a container whose image name now means another image (or none) shows its image ID.
    const r = currentImage !== record.Image ? { ...record, Config: { ...record.Config, Image: record.Image } } : record;
    const row = psRow(r, state, { noTrunc: Boolean(argv['no-trunc']), ports: state.Running ? formatPortsColumn(ports, Object.keys(r.Config.ExposedPorts ?? {})) : '' });
    const size = sizes?.get(record.Id);
    return size ? { ...row, Size: `${humanSize(size.rw)} (virtual ${humanSize(size.virtual)})` } : row;
  });
  process.stdout.write(renderPs(rows, argv.format as string | undefined, Boolean(argv.quiet), Boolean(argv.size)));
}

async function rm(argv: Args): Promise<void> {
  const service = new Containers();
  await forEach(argv.containers as string[], async (ref) => {
    await service.remove(ref, { force: Boolean(argv.force), volumes: Boolean(argv.volumes) });
    process.stdout.write(`${ref}\n`);
    // Docker's CLI: with -f, a container that does not exist is said on stderr, not an error.
  }, { missingOk: Boolean(argv.force) });
}

async function update(argv: Args): Promise<void> {
  const text = (key: string) => (argv[key] === undefined ? undefined : String(argv[key]));
  const request: UpdateRequest = {
    cpus: text('cpus'), cpuShares: text('cpu-shares'), cpusetCpus: text('cpuset-cpus'), memory: text('memory'), memorySwap: text('memory-swap'),
    memoryReservation: text('memory-reservation'), pidsLimit: text('pids-limit'), restart: text('restart'),
  };
  const service = new Containers();
  await service.checkUpdate(request);
  await forEach(argv.containers as string[], async (ref) => {
    await service.update(ref, request);
    process.stdout.write(`${ref}\n`);
  });
}

async function wait(argv: Args): Promise<void> {
  const service = new Containers();
  await forEach(argv.containers as string[], async (ref) => {
    process.stdout.write(`${await service.wait(ref)}\n`);
  });
}

async function start(argv: Args): Promise<void> {
  const service = new Containers();
  const refs = argv.containers as string[];
  if (argv.attach || argv.interactive) {
    if (refs.length > 1) throw new StrataError('you cannot start and attach multiple containers at once');
    const record = await service.get(refs[0]!);
    service.refuseStartIfPaused(record);
    if (record.Config.Tty && argv.interactive && !process.stdin.isTTY) throw new StrataError('the input device is not a TTY');
    const { attachedStartViaShim } = await import('./lifecycle-attach.js');
    const viaShim = await attachedStartViaShim(service, record, Boolean(argv.interactive));
    process.exit(viaShim ?? (await (await import('./containers-run.js')).startAttached(service, record, Boolean(argv.interactive))));
  }
  await forEach(refs, async (ref) => {
    await service.start(ref);
    process.stdout.write(`${ref}\n`);
  });
}

/**
 * `diff CONTAINER`, and as podman's: `diff IMAGE` (what its top layer changes) and `diff IMAGE IMAGE`
 * (from the first image's filesystem to the second's). A name that is a container is the container.
 */
async function diff(argv: Args): Promise<void> {
  const first = argv.container as string;
  const other = argv.other as string | undefined;
  if (other === undefined) {
    try {
      process.stdout.write(formatChanges(await new Containers().diff(first)));
      return;
    } catch (err) {
      if (!(err instanceof StrataError) || !/^no such container/.test(err.message)) throw err;
      // Neither a container nor an image: the container's error, as `docker diff` gives it.
      if (!(await imageCommand(async (store) => { await new Images({ store }).get(first); }).then(() => true, () => false))) throw err;
    }
  }
  await imageCommand(async (store) => {
    process.stdout.write(formatChanges(await new Images({ store }).diff(other === undefined ? undefined : first, other ?? first)));
  });
}

async function commit(argv: Args): Promise<void> {
  const image = await new Containers().commit(argv.container as string, {
    message: argv.message as string | undefined,
    author: argv.author as string | undefined,
    changes: (argv.change as string[] | undefined) ?? [],
    ref: argv.repository as string | undefined,
    pause: argv.pause !== false,
  });
  process.stdout.write(`${image.id}\n`);
}

async function rename(argv: Args): Promise<void> {
  // As docker/cli: both names trimmed, and neither may be empty.
  const [from, to] = [String(argv.container).trim(), String(argv.newName).trim()];
  if (!from || !to) throw new StrataError('Neither old nor new names may be empty');
  await new Containers().rename(from, to);
}

async function prune(argv: Args): Promise<void> {
  if (!argv.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return;
  const { humanSize } = await import('./format/human.js');
  const { removed, reclaimed } = await new Containers().prune({ filters: ((argv.filter as string[] | undefined) ?? []).map(String) });
  let out = removed.length > 0 ? `Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n` : '';
  out += `Total reclaimed space: ${humanSize(reclaimed)}\n`;
  process.stdout.write(out);
}

const ps_ = (y: Argv) =>
  y
    // -f takes one value per flag
    .parserConfiguration({ ...PARSER_CONFIGURATION, 'greedy-arrays': false })
    .option('all', { alias: 'a', type: 'boolean', describe: 'Show all containers (default shows just running)' })
    .option('latest', { alias: 'l', type: 'boolean', describe: 'Show the latest created container (includes all states)' })
    .option('last', { alias: 'n', type: 'number', describe: 'Show n last created containers (includes all states)' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display container IDs' })
    .option('size', { alias: 's', type: 'boolean', describe: 'Display total file sizes' })
    .option('no-trunc', { type: 'boolean', describe: "Don't truncate output" })
    .option('format', { type: 'string', describe: 'Format output using a custom template' })
    .option('filter', { alias: 'f', type: 'string', array: true, describe: 'Filter output based on conditions provided (id, name, status, label, ancestor, exited)' });

const runLike = (command: 'run' | 'create', words: string[]) => ({
  builder: (y: Argv) => y.strict(false).help(false).parserConfiguration({ ...PARSER_CONFIGURATION, 'unknown-options-as-args': true }),
  // run and create (`container run`...; plain `strata run` goes through run-main.ts): loaded by them only, as cp and export.
  handler: async (argv: unknown) => (await import('./containers-run.js')).runCommand(command, rawArgs(argv as Args, words)),
});

function containerCommands(y: Argv, prefix: string[]): Argv {
  const run = runLike('run', [...prefix, 'run']);
  const create = runLike('create', [...prefix, 'create']);
  return y
    .command('run', 'Create and run a new container from an image', run.builder, run.handler)
    .command('create', 'Create a new container', create.builder, create.handler)
    .command('start <containers..>', 'Start one or more stopped containers', (c) =>
      c.option('attach', { alias: 'a', type: 'boolean', describe: 'Attach STDOUT/STDERR and forward signals' })
        .option('interactive', { alias: 'i', type: 'boolean', describe: "Attach container's STDIN" }), (a) => start(a as Args))
    .command('rm <containers..>', 'Remove one or more containers', (c) =>
      c.option('force', { alias: 'f', type: 'boolean', describe: 'Force the removal of a running container (uses SIGKILL)' })
        .option('volumes', { alias: 'v', type: 'boolean', describe: 'Remove anonymous volumes associated with the container' }), (a) => rm(a as Args))
    .command('wait <containers..>', 'Block until one or more containers stop, then print their exit codes', (c) => c, (a) => wait(a as Args))
    .command('diff <container> [other]', "Inspect changes to files or directories on a container's filesystem (or between two images)", (c) => c, (a) => diff(a as Args))
    .command('commit <container> [repository]', "Create a new image from a container's changes", (c) =>
      c.parserConfiguration({ ...PARSER_CONFIGURATION, 'greedy-arrays': false })
        .option('message', { alias: 'm', type: 'string', describe: 'Commit message' })
        .option('author', { alias: 'a', type: 'string', describe: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' })
        .option('change', { alias: 'c', type: 'string', array: true, describe: 'Apply Dockerfile instruction to the created image' })
        .option('pause', { alias: 'p', type: 'boolean', default: true, describe: 'Pause container during commit' }), (a) => commit(a as Args))
    .command('export <container>', "Export a container's filesystem as a tar archive", (c) =>
      c.option('output', { alias: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT' }), async (a) => (await import('./containers-copy.js')).exportContainer(a as Args))
    .command('cp <src> <dest>', 'Copy files/folders between a container and the local filesystem', (c) =>
      c.option('follow-link', { alias: 'L', type: 'boolean', describe: 'Always follow symbol link in SRC_PATH' })
        .option('archive', { alias: 'a', type: 'boolean', describe: 'Archive mode (copy all uid/gid information)' }), async (a) => (await import('./containers-copy.js')).cp(a as Args))
    .command('rename <container> <newName>', 'Rename a container', (c) => c, (a) => rename(a as Args))
    .command('update <containers..>', 'Update configuration of one or more containers', (c) =>
      c.option('cpus', { type: 'string', describe: 'Number of CPUs' })
        .option('cpu-shares', { alias: 'c', type: 'string', describe: 'CPU shares (relative weight)' })
        .option('cpuset-cpus', { type: 'string', describe: 'CPUs in which to allow execution (0-3, 0,1)' })
        .option('memory', { alias: 'm', type: 'string', describe: 'Memory limit' })
        .option('memory-swap', { type: 'string', describe: "Swap limit equal to memory plus swap: -1 to enable unlimited swap" })
        .option('memory-reservation', { type: 'string', describe: 'Memory soft limit' })
        .option('pids-limit', { type: 'string', describe: 'Tune container pids limit (set -1 for unlimited)' })
        .option('restart', { type: 'string', describe: 'Restart policy to apply when a container exits' }), (a) => update(a as Args));
}

export const register: RegisterCommands = (cli) => {
  cli = containerCommands(cli, []);
  return cli
    .command('ps', 'List containers', ps_, (a) => ps(a as Args))
    .command('container', 'Manage containers', (y) =>
      // `container logs|exec|attach|stop|kill|restart|pause|unpause|top|stats|port`, as Docker's.
      registerLifecycle(containerCommands(y, ['container']))
        .command(['ls', 'list', 'ps'], 'List containers', ps_, (a) => ps(a as Args))
        .command('prune', 'Remove all stopped containers', (c) =>
          c.option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' })
            .option('filter', { type: 'string', array: true, describe: 'Provide filter values (e.g. "until=24h", "label=KEY=VALUE")' }), (a) => prune(a as Args))
        .command('inspect <containers..>', 'Display detailed information on one or more containers', (c) => c
          .option('format', { alias: 'f', type: 'string', describe: 'Format output using a custom template' })
          .option('size', { alias: 's', type: 'boolean', describe: 'Display total file sizes' }), async (a) => {
          const { inspectImages } = await import('./inspect.js');
          await inspectImages({ names: ((a as Args).containers as string[]).map(String), format: (a as Args).format as string | undefined, type: 'container', size: Boolean((a as Args).size) });
        })
        .demandCommand(1, 'a subcommand is required'));
};
