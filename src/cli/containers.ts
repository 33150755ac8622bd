// The container commands: run, create, start, ps, rm, wait, diff, commit, export, cp, rename,
// and `container ...` (the same, plus ls, prune, inspect).
import fs from 'node:fs';
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import type { ContainerRecord } from '../store/index.js';
import {
  commitContainer, containerChanges, containerNetworkSettings, currentState, formatChanges, imageConfigOf, killContainer,
  logPath, lowerDirsOf, notePause, pauseContainer, readShimStatus, removeContainer, startDetached, unpauseContainer, waitForExit, withContainerRoot,
  type ContainerContext,
} from '../runtime/index.js';
import { applyChanges } from '../engine/index.js';
import type { RegisterCommands } from './command.js';
import { cp, exportContainer } from './containers-copy.js';
import { openContext, runCommand, startAttached } from './containers-run.js';

type Args = Record<string, unknown> & { _: Array<string | number> };

/** Everything after the command word(s), for run/create whose flags we parse ourselves. */
function rawArgs(argv: Args, words: string[]): string[] {
  const all = argv._.map(String);
  let i = 0;
  for (const w of words) if (all[i] === w) i++;
  return all.slice(i);
}

async function forEach(refs: string[], fn: (ref: string) => Promise<void>): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
    } catch (err) {
      failed = true;
      process.stderr.write(`Error: ${(err as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

async function ps(argv: Args): Promise<void> {
  const ctx = await openContext();
  const { psRow, renderPs } = await import('./format/containers.js');
  const { formatPortsColumn } = await import('./format/ports.js');
  let records = (await ctx.containers.list()).sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  const last = argv.latest ? 1 : Number(argv.last ?? -1);
  const all = argv.all || last > 0;
  const states = new Map(records.map((r) => [r.Id, currentState(ctx, r)]));
  const filters = ((argv.filter as string[] | undefined) ?? []).map(parseFilter);
  // Docker: a status filter also shows stopped containers.
  if (!all && !filters.some((f) => f.key === 'status' || f.key === 'exited')) records = records.filter((r) => states.get(r.Id)!.Running);
  records = records.filter((r) => matchesFilters(r, states.get(r.Id)!, filters));
  if (last > 0) records = records.slice(0, last);
  // As Docker: a container whose image name now means another image (or none) shows its image ID.
  const current = new Map<string, string | undefined>();
  for (const ref of new Set(records.map((r) => r.Config.Image))) {
    current.set(ref, await ctx.images.resolveImage(ref).then((img) => img.id, () => undefined));
  }
  // As docker's CLI: a --format that uses .Size implies -s.
  const sizes = argv.size || /\.Size\b/.test(String(argv.format ?? '')) ? await containerSizes(ctx, records) : undefined;
  const rows = records.map((r) => {
    if (current.get(r.Config.Image) !== r.Image) r = { ...r, Config: { ...r.Config, Image: r.Image } };
    const state = states.get(r.Id)!;
    const bindings = state.Running ? readShimStatus(ctx.containers.paths(r.Id).dir)?.ports ?? [] : [];
    const row = psRow(r, state, { noTrunc: Boolean(argv['no-trunc']), ports: state.Running ? formatPortsColumn(bindings, Object.keys(r.Config.ExposedPorts ?? {})) : '' });
    return sizes ? { ...row, Size: sizes.get(r.Id) } : row;
  });
  process.stdout.write(renderPs(rows, argv.format as string | undefined, Boolean(argv.quiet), Boolean(argv.size)));
}

/** `ps -s`: each container's writable layer (its upper dir) and, virtual, with its image's layers. */
async function containerSizes(ctx: ContainerContext, records: ContainerRecord[]): Promise<Map<string, string>> {
  const { humanSize } = await import('./format/human.js');
  const imageSizes = new Map<string, number>();
  const out = new Map<string, string>();
  for (const r of records) {
    if (!imageSizes.has(r.Image)) {
      imageSizes.set(r.Image, await ctx.images.resolveImage(r.Image).then((img) => img.manifest.layers.reduce((n, l) => n + l.size, 0), () => 0));
    }
    const rw = await treeSize(ctx.containers.paths(r.Id).upper);
    out.set(r.Id, `${humanSize(rw)} (virtual ${humanSize(rw + imageSizes.get(r.Image)!)})`);
  }
  return out;
}

type Filter = { key: string; value: string };
const FILTER_KEYS = ['id', 'name', 'status', 'label', 'ancestor', 'exited'];

function parseFilter(text: string): Filter {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (!FILTER_KEYS.includes(key)) throw new StrataError(`invalid filter "${key}": strata supports ${FILTER_KEYS.join(', ')}`);
  return { key, value: eq < 0 ? '' : text.slice(eq + 1) };
}

/** Docker's rules: the same key ORs its values, different keys AND. */
function matchesFilters(record: ContainerRecord, state: ReturnType<typeof currentState>, filters: Filter[]): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  const test = (key: string, value: string): boolean => {
    switch (key) {
      case 'id': return record.Id.startsWith(value);
      case 'name': return new RegExp(value).test(record.Name.slice(1));
      case 'status': return state.Status === value;
      case 'exited': return state.Status === 'exited' && String(state.ExitCode) === value;
      case 'ancestor': return record.Config.Image === value || record.Image === value || record.Image.slice(7).startsWith(value);
      default: {
        const eq = value.indexOf('=');
        const labels = record.Config.Labels ?? {};
        return eq < 0 ? value in labels : labels[value.slice(0, eq)] === value.slice(eq + 1);
      }
    }
  };
  return [...byKey].every(([key, values]) => values.some((v) => test(key, v)));
}

async function rm(argv: Args): Promise<void> {
  const ctx = await openContext();
  await forEach(argv.containers as string[], async (ref) => {
    const record = await ctx.containers.get(ref);
    const state = currentState(ctx, record);
    if (state.Running) {
      if (!argv.force) {
        throw new StrataError(`cannot remove container "${record.Name.slice(1)}": container is ${state.Status}: stop the container before removing or force remove`);
      }
      await killAndWait(ctx, record);
    }
    await removeContainer(ctx, record, { volumes: Boolean(argv.volumes) });
    process.stdout.write(`${ref}\n`);
  });
}

async function killAndWait(ctx: ContainerContext, record: ContainerRecord): Promise<void> {
  const handle = { id: record.Id, dir: ctx.containers.paths(record.Id).dir, runcRoot: ctx.runcRoot };
  killContainer(handle, 'KILL');
  await waitForExit(handle, 10_000);
}

async function wait(argv: Args): Promise<void> {
  const ctx = await openContext();
  await forEach(argv.containers as string[], async (ref) => {
    const record = await ctx.containers.get(ref);
    const handle = { id: record.Id, dir: ctx.containers.paths(record.Id).dir, runcRoot: ctx.runcRoot };
    await waitForExit(handle);
    process.stdout.write(`${currentState(ctx, record).ExitCode}\n`);
  });
}

async function start(argv: Args): Promise<void> {
  const ctx = await openContext();
  const refs = argv.containers as string[];
  if (argv.attach || argv.interactive) {
    if (refs.length > 1) throw new StrataError('you cannot start and attach multiple containers at once');
    const record = await ctx.containers.get(refs[0]!);
    if (record.Config.Tty && argv.interactive && !process.stdin.isTTY) throw new StrataError('the input device is not a TTY');
    const { attachedStartViaShim } = await import('./lifecycle-attach.js');
    const viaShim = await attachedStartViaShim(ctx, record, Boolean(argv.interactive));
    process.exit(viaShim ?? (await startAttached(ctx, record, Boolean(argv.interactive))));
  }
  await forEach(refs, async (ref) => {
    const record = await ctx.containers.get(ref);
    if (currentState(ctx, record).Running) {
      process.stdout.write(`${ref}\n`);
      return;
    }
    await startDetached(ctx, record);
    process.stdout.write(`${ref}\n`);
  });
}

async function diff(argv: Args): Promise<void> {
  const ctx = await openContext();
  const record = await ctx.containers.get(argv.container as string);
  const changes = await containerChanges(ctx.containers.paths(record.Id).upper, await lowerDirsOf(record, ctx.images));
  process.stdout.write(formatChanges(changes));
}

async function commit(argv: Args): Promise<void> {
  const ctx = await openContext();
  const record = await ctx.containers.get(argv.container as string);
  // Checked before the container is paused and its files packed.
  const config = await applyChanges(imageConfigOf(record), (argv.change as string[] | undefined) ?? []);
  const handle = { id: record.Id, dir: ctx.containers.paths(record.Id).dir, runcRoot: ctx.runcRoot };
  // As Docker: a running container is frozen while its upper dir is packed, for a consistent layer
  // (noted first: if this process is killed, a sweep thaws it).
  const pause = argv.pause !== false && currentState(ctx, record).Status === 'running';
  const forgetPause = pause ? await notePause(ctx.root, record.Id) : undefined;
  if (pause) pauseContainer(handle);
  try {
    const image = await commitContainer(ctx, record, {
      message: argv.message as string | undefined,
      author: argv.author as string | undefined,
      config,
      ref: argv.repository as string | undefined,
    });
    process.stdout.write(`${image.id}\n`);
  } finally {
    if (pause) unpauseContainer(handle);
    await forgetPause?.();
  }
}

async function rename(argv: Args): Promise<void> {
  const ctx = await openContext();
  const record = await ctx.containers.get(argv.container as string);
  const name = String(argv.newName).replace(/^\//, '');
  if (`/${name}` === record.Name) throw new StrataError('Renaming a container with the same name as its current name');
  await ctx.containers.rename(record.Id, name);
}

async function prune(argv: Args): Promise<void> {
  if (!argv.force) {
    process.stderr.write('WARNING! This will remove all stopped containers.\n');
    if (!(await confirm())) return;
  }
  const ctx = await openContext();
  const { humanSize } = await import('./format/human.js');
  const removed: string[] = [];
  let reclaimed = 0;
  for (const record of await ctx.containers.list()) {
    if (currentState(ctx, record).Running) continue;
    reclaimed += await treeSize(ctx.containers.paths(record.Id).upper);
    await removeContainer(ctx, record, { volumes: false });
    removed.push(record.Id);
  }
  await ctx.containers.sweepGraveyards(); // what earlier removals left (see ContainerStore.remove)
  let out = removed.length > 0 ? `Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\n` : '';
  out += `Total reclaimed space: ${humanSize(reclaimed)}\n`;
  process.stdout.write(out);
}

/** Bytes of the regular files under `dir` (a container's upper dir: what removing it frees). */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = `${dir}/${e.name}`;
    if (e.isDirectory()) total += await treeSize(full);
    else if (e.isFile()) total += (await fs.promises.lstat(full)).size;
  }
  return total;
}

async function confirm(): Promise<boolean> {
  process.stderr.write('Are you sure you want to continue? [y/N] ');
  const chunk = await new Promise<string>((resolve) => {
    process.stdin.once('data', (d) => resolve(String(d)));
    process.stdin.once('end', () => resolve(''));
  });
  process.stdin.pause();
  return /^y(es)?$/i.test(chunk.trim());
}

/** `container inspect`: Docker's JSON, the state reconciled with the runtime. */
export async function inspectContainers(refs: string[]): Promise<object[]> {
  const ctx = await openContext();
  const path = await import('node:path');
  const out: object[] = [];
  for (const ref of refs) {
    const record = await ctx.containers.get(ref);
    const { Strata: _strata, State: _stored, NetworkSettings: _net, Id, Created, Path, Args, Image, Name, RestartCount, Driver, Platform, HostConfig, Mounts, Config, ...rest } = record;
    const state = currentState(ctx, record);
    const paths = ctx.containers.paths(record.Id);
    const lowers = await lowerDirsOf(record, ctx.images).catch(() => [] as string[]);
    const bindings = state.Running ? readShimStatus(paths.dir)?.ports ?? [] : [];
    const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
    for (const p of Object.keys(record.Config.ExposedPorts ?? {})) ports[p] = null;
    for (const b of bindings) (ports[`${b.containerPort}/${b.protocol}`] ??= [])!.push({ HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) });
    // Docker's keys, in Docker's order; the files and dirs are where strata keeps them.
    out.push({
      Id, Created, Path, Args, State: state, Image,
      ResolvConfPath: path.join(paths.bundle, 'resolv.conf'), HostnamePath: path.join(paths.bundle, 'hostname'), HostsPath: path.join(paths.bundle, 'hosts'),
      LogPath: logPath(paths.dir, record.Id), Name, RestartCount, Driver, Platform,
      MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null, ...rest,
      HostConfig: { ...HostConfig, Binds: HostConfig.Binds?.length ? HostConfig.Binds : null },
      GraphDriver: {
        Data: { LowerDir: [path.join(paths.bundle, 'init'), ...lowers.reverse()].join(':'), UpperDir: paths.upper, WorkDir: paths.work },
        Name: Driver,
      },
      Mounts, Config,
      NetworkSettings: containerNetworkSettings(ctx.root, record, state.Running ? { pid: state.Pid } : undefined, ports),
    });
  }
  return out;
}

const ps_ = (y: Argv) =>
  y
    // --no-trunc is a flag of its own, and -f takes one value per flag (yargs replaces, not merges, this config)
    .parserConfiguration({ 'boolean-negation': false, 'greedy-arrays': false })
    .option('all', { alias: 'a', type: 'boolean', describe: 'Show all containers (default shows just running)' })
    .option('latest', { alias: 'l', type: 'boolean', describe: 'Show the latest created container (includes all states)' })
    .option('last', { alias: 'n', type: 'number', describe: 'Show n last created containers (includes all states)' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display container IDs' })
    .option('size', { alias: 's', type: 'boolean', describe: 'Display total file sizes' })
    .option('no-trunc', { type: 'boolean', describe: "Don't truncate output" })
    .option('format', { type: 'string', describe: 'Format output using a custom template' })
    .option('filter', { alias: 'f', type: 'string', array: true, describe: 'Filter output based on conditions provided (id, name, status, label, ancestor, exited)' });

const runLike = (command: 'run' | 'create', words: string[]) => ({
  builder: (y: Argv) => y.strict(false).help(false).parserConfiguration({ 'unknown-options-as-args': true }),
  handler: (argv: unknown) => runCommand(command, rawArgs(argv as Args, words)),
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
    .command('diff <container>', "Inspect changes to files or directories on a container's filesystem", (c) => c, (a) => diff(a as Args))
    .command('commit <container> [repository]', "Create a new image from a container's changes", (c) =>
      c.parserConfiguration({ 'greedy-arrays': false })
        .option('message', { alias: 'm', type: 'string', describe: 'Commit message' })
        .option('author', { alias: 'a', type: 'string', describe: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' })
        .option('change', { alias: 'c', type: 'string', array: true, describe: 'Apply Dockerfile instruction to the created image' })
        .option('pause', { alias: 'p', type: 'boolean', default: true, describe: 'Pause container during commit' }), (a) => commit(a as Args))
    .command('export <container>', "Export a container's filesystem as a tar archive", (c) =>
      c.option('output', { alias: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT' }), (a) => exportContainer(a as Args))
    .command('cp <src> <dest>', 'Copy files/folders between a container and the local filesystem', (c) =>
      c.option('follow-link', { alias: 'L', type: 'boolean', describe: 'Always follow symbol link in SRC_PATH' })
        .option('archive', { alias: 'a', type: 'boolean', describe: 'Archive mode (copy all uid/gid information)' }), (a) => cp(a as Args))
    .command('rename <container> <newName>', 'Rename a container', (c) => c, (a) => rename(a as Args));
}

export const register: RegisterCommands = (cli) => {
  cli = containerCommands(cli, []);
  return cli
    .command('ps', 'List containers', ps_, (a) => ps(a as Args))
    .command('container', 'Manage containers', (y) =>
      containerCommands(y, ['container'])
        .command(['ls', 'list', 'ps'], 'List containers', ps_, (a) => ps(a as Args))
        .command('prune', 'Remove all stopped containers', (c) =>
          c.option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' }), (a) => prune(a as Args))
        .command('inspect <containers..>', 'Display detailed information on one or more containers', (c) =>
          c.option('format', { alias: 'f', type: 'string', describe: 'Format output using a custom template' }), async (a) => {
          const found = await inspectContainers((a as Args).containers as string[]);
          const format = (a as Args).format as string | undefined;
          if (!format) return void process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
          const { parseTemplate } = await import('./format/template.js');
          const t = parseTemplate(format);
          process.stdout.write(found.map((o) => `${t.render(o)}\n`).join(''));
        })
        .demandCommand(1, 'a subcommand is required'));
};
