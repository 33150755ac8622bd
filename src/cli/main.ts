#!/usr/bin/env node
import type { Argv } from 'yargs';
import { baseCli, type RegisterCommands } from './command.js';

type CommandModule = Promise<{ register?: RegisterCommands }>;

/**
 * Every top-level command and the module that defines it. Loading is lazy: only the module of
 * the command being run is imported. The import()s are literal so that esbuild can put them in
 * the CLI's bundle (scripts/bundle-cli.mjs).
 */
const COMMANDS: Record<string, { load: () => CommandModule; describe: string }> = {
  parse: { load: () => import('./parse.js'), describe: 'Parse a Dockerfile and print its instructions' },
  build: { load: () => import('./build.js'), describe: 'Build an image from a Dockerfile' },
  cache: { load: () => import('./cache.js'), describe: 'List, measure and prune the build cache' },
  setup: { load: () => import('./setup.js'), describe: 'Check the host and create the busybox base image' },
  images: { load: () => import('./images.js'), describe: 'List images' },
  image: { load: () => import('./images.js'), describe: 'Manage images' },
  tag: { load: () => import('./images.js'), describe: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE' },
  rmi: { load: () => import('./images.js'), describe: 'Remove one or more images' },
  history: { load: () => import('./images.js'), describe: 'Show the history of an image' },
  inspect: { load: () => import('./inspect.js'), describe: 'Return low-level information on images and containers' },
  import: { load: () => import('./archive.js'), describe: 'Import the contents from a tarball to create an image' },
  save: { load: () => import('./archive.js'), describe: 'Save one or more images to a tar archive' },
  load: { load: () => import('./archive.js'), describe: 'Load an image from a tar archive' },
  run: { load: () => import('./containers.js'), describe: 'Create and run a new container from an image' },
  create: { load: () => import('./containers.js'), describe: 'Create a new container' },
  start: { load: () => import('./containers.js'), describe: 'Start one or more stopped containers' },
  ps: { load: () => import('./containers.js'), describe: 'List containers' },
  container: { load: () => import('./containers.js'), describe: 'Manage containers' },
  rm: { load: () => import('./containers.js'), describe: 'Remove one or more containers' },
  wait: { load: () => import('./containers.js'), describe: 'Block until one or more containers stop, then print their exit codes' },
  diff: { load: () => import('./containers.js'), describe: "Inspect changes to files on a container's filesystem" },
  commit: { load: () => import('./containers.js'), describe: "Create a new image from a container's changes" },
  export: { load: () => import('./containers.js'), describe: "Export a container's filesystem as a tar archive" },
  cp: { load: () => import('./containers.js'), describe: 'Copy files between a container and the local filesystem' },
  rename: { load: () => import('./containers.js'), describe: 'Rename a container' },
  update: { load: () => import('./containers.js'), describe: 'Update configuration of one or more containers' },
  logs: { load: () => import('./lifecycle.js'), describe: 'Fetch the logs of a container' },
  exec: { load: () => import('./lifecycle.js'), describe: 'Execute a command in a running container' },
  attach: { load: () => import('./lifecycle.js'), describe: 'Attach to a running container' },
  stop: { load: () => import('./lifecycle.js'), describe: 'Stop one or more running containers' },
  kill: { load: () => import('./lifecycle.js'), describe: 'Kill one or more running containers' },
  restart: { load: () => import('./lifecycle.js'), describe: 'Restart one or more containers' },
  pause: { load: () => import('./lifecycle.js'), describe: 'Pause all processes within one or more containers' },
  unpause: { load: () => import('./lifecycle.js'), describe: 'Unpause all processes within one or more containers' },
  top: { load: () => import('./lifecycle.js'), describe: 'Display the running processes of a container' },
  stats: { load: () => import('./lifecycle.js'), describe: 'Display a live stream of container resource usage statistics' },
  port: { load: () => import('./lifecycle.js'), describe: 'List port mappings for the container' },
  volume: { load: () => import('./volumes.js'), describe: 'Manage volumes' },
  network: { load: () => import('./networks.js'), describe: 'Manage networks' },
  pull: { load: () => import('./registry.js'), describe: 'Download an image from a registry' },
  push: { load: () => import('./registry.js'), describe: 'Upload an image to a registry' },
  login: { load: () => import('./registry.js'), describe: 'Log in to a registry' },
  manifest: { load: () => import('./registry.js'), describe: 'Inspect image manifests and manifest lists in a registry' },
  logout: { load: () => import('./registry.js'), describe: 'Log out from a registry' },
  system: { load: () => import('./system.js'), describe: 'Check the store (system check)' },
  info: { load: () => import('./system.js'), describe: 'Display system-wide information' },
  version: { load: () => import('./system.js'), describe: 'Show the strata version information' },
  events: { load: () => import('./events.js'), describe: 'Get real time events from strata' },
};

/**
 * Commands that sweep leftovers themselves (build, beside its work), or must see them as they
 * are (`system check` reports them; `--repair` sweeps). Every other command first sweeps what
 * killed strata processes left in the state root (runtime/leftovers.ts).
 */
const OWN_SWEEP = new Set(['parse', 'build', 'system']);

async function sweep(): Promise<void> {
  try {
    const [{ sweepLeftovers }, { stateRoot }] = await Promise.all([import('../runtime/index.js'), import('../store/index.js')]);
    await sweepLeftovers(stateRoot());
  } catch {
    // a sweep that fails leaves things for the next one
  }
}

async function loadModule(load: () => CommandModule): Promise<RegisterCommands | undefined> {
  return (await load()).register;
}

/** yargs's internal methods (not in its types), for the one we override. */
function internals(cli: Argv): { getUsageInstance(): { cacheHelpMessage(): void } } {
  return (cli as unknown as { getInternalMethods(): ReturnType<typeof internals> }).getInternalMethods();
}

/**
 * Docker's other names for commands strata has under one: `image build`, `builder build|prune|du`,
 * and buildx's `buildx build|prune|du` (strata's build is BuildKit's already; buildx's `--load`
 * is what strata does anyway: the image goes into the store).
 */
export function dockerAliases(argv: string[]): string[] {
  const [a, b] = argv;
  if ((a === 'image' || a === 'builder') && b === 'build') return argv.slice(1);
  if (a === 'buildx' && b === 'build') return argv.slice(1).filter((arg) => arg !== '--load' && arg !== '--load=true');
  if ((a === 'builder' || a === 'buildx') && (b === 'prune' || b === 'du')) return ['cache', ...argv.slice(1)];
  return argv;
}

async function main(): Promise<void> {
  let argv = process.argv.slice(2); // yargs's hideBin, without loading yargs
  // Docker's `help [COMMAND...]` is `[COMMAND...] --help`.
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  argv = dockerAliases(argv);
  // --host / STRATA_HOST: the command runs on another machine's strata (cli/remote.ts).
  if (argv[0]?.startsWith('-H') || argv[0]?.startsWith('--host') || process.env.STRATA_HOST) {
    const remote = await import('./remote.js');
    const target = remote.remoteTarget(argv);
    if (target) return void (process.exitCode = await remote.runRemote(target));
  }
  // `run` parses its own flags and does not pay for loading yargs. (The `strata` command enters
  // through start.cjs, which runs `run` from its bundle before this module is ever loaded.)
  if (argv[0] === 'run') return (await import('./run-main.js')).runMain(argv.slice(1));
  if (argv[0] === '--version' || argv[0] === '-v') return (await import('./system.js')).shortVersion();
  const name = argv.find((a) => !a.startsWith('-'));
  const entry = name ? COMMANDS[name] : undefined;
  // Alongside loading the command; done before it runs, so that it sees the swept state (a
  // container a killed commit or cp left frozen is thawed before `ps` lists it).
  const sweeping = entry && !OWN_SWEEP.has(name!) ? sweep() : undefined;
  const loading = entry ? loadModule(entry.load) : undefined;
  loading?.catch(() => undefined); // awaited below, after other awaits: not an unhandled rejection meanwhile
  // A plain command line runs without yargs (plain-args.ts); any other goes on to yargs below.
  if (entry && name === argv[0]) {
    const [register, { parsePlain }] = await Promise.all([loading, import('./plain-args.js')]);
    const plain = register ? parsePlain(register, argv) : undefined;
    if (plain) {
      await sweeping;
      await plain.handler(plain.argv);
      return;
    }
  }
  const [{ default: yargs }, { reportAndExit }] = await Promise.all([import('yargs'), import('./report.js')]);
  let cli: Argv = baseCli(yargs(argv))
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail(async (msg, err, usage) => {
      if (err) throw err;
      // yargs hands its usage instance here (typed as the parser): it holds the failing command's declaration.
      const declaration = (usage as unknown as { getUsage(): Array<[string, string]> }).getUsage()[0]?.[0];
      const { argumentError, unknownFlag } = await import('./usage-errors.js');
      // "--bogus NAME": yargs gave NAME to the flag and misses it as an argument; the flag is the error.
      if (/^Not enough non-option arguments/.test(msg)) {
        const options = (cli as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
        const flag = unknownFlag(argv, new Set([...Object.keys(options.key), ...Object.values(options.alias).flat()]));
        if (flag) msg = `Unknown argument: ${flag.replace(/^--?/, '')}`;
      }
      reportAndExit(new Error(argumentError(msg, declaration, argv)), 125);
    });
  // yargs renders a command's whole help text as soon as its handler has started, to have it at
  // hand for a later showHelp(); strata never shows help after a command has run, and that
  // rendering (string widths, wrapping) costs tens of milliseconds of every command.
  internals(cli).getUsageInstance().cacheHelpMessage = () => {};
  // A flag that takes a value given none is refused, as Docker's ("flag needs an argument").
  const checkValues = async (_args: unknown, y: { getOptions(): { string: string[]; number: string[] } }) => {
    const options = y.getOptions();
    const valued = new Set([...options.string, ...options.number]);
    const { flagWithoutValue } = await import('./usage-errors.js');
    const flag = flagWithoutValue(argv, valued);
    if (flag) reportAndExit(new Error(`flag needs an argument: ${flag}`), 125);
  };
  cli = cli.middleware(checkValues as unknown as Parameters<Argv['middleware']>[0]);
  const register = await loading;
  await sweeping;
  if (register) {
    cli = register(cli);
  } else {
    for (const [command, { describe }] of Object.entries(COMMANDS)) cli = cli.command(command, describe);
    if (name) {
      const why = entry ? `command "${name}" is not available in this build` : `unknown command "${name}" for "strata"`;
      reportAndExit(new Error(why), 125);
    }
    // Docker names a bad global flag before it asks for a command.
    const flag = argv.find((a) => a.startsWith('-') && !['--help', '-h'].includes(a));
    if (flag) reportAndExit(new Error(`unknown flag: ${flag.replace(/=.*/, '')}`), 125);
    cli = cli.demandCommand(1, 'a command is required');
  }
  await cli.parseAsync();
}

// report.js is loaded only here and by the yargs path: `run` reports its own errors (run-main.ts).
main().catch(async (err: unknown) => (await import('./report.js')).reportAndExit(err));
