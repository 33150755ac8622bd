#!/usr/bin/env node
import type { Argv } from 'yargs';
import type { RegisterCommands } from './command.js';

/**
 * Every top-level command and the module (relative to this file) that defines it.
 * Loading is lazy: only the module of the command being run is imported.
 */
const COMMANDS: Record<string, { module: string; describe: string }> = {
  parse: { module: './parse.js', describe: 'Parse a Dockerfile and print its instructions' },
  build: { module: './build.js', describe: 'Build an image from a Dockerfile' },
  cache: { module: './cache.js', describe: 'List, measure and prune the build cache' },
  setup: { module: './setup.js', describe: 'Check the host and create the busybox base image' },
  images: { module: './images.js', describe: 'List images' },
  image: { module: './images.js', describe: 'Manage images' },
  tag: { module: './images.js', describe: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE' },
  rmi: { module: './images.js', describe: 'Remove one or more images' },
  history: { module: './images.js', describe: 'Show the history of an image' },
  inspect: { module: './inspect.js', describe: 'Return low-level information on images and containers' },
  import: { module: './archive.js', describe: 'Import the contents from a tarball to create an image' },
  save: { module: './archive.js', describe: 'Save one or more images to a tar archive' },
  load: { module: './archive.js', describe: 'Load an image from a tar archive' },
  run: { module: './containers.js', describe: 'Create and run a new container from an image' },
  create: { module: './containers.js', describe: 'Create a new container' },
  start: { module: './containers.js', describe: 'Start one or more stopped containers' },
  ps: { module: './containers.js', describe: 'List containers' },
  container: { module: './containers.js', describe: 'Manage containers' },
  rm: { module: './containers.js', describe: 'Remove one or more containers' },
  wait: { module: './containers.js', describe: 'Block until one or more containers stop, then print their exit codes' },
  diff: { module: './containers.js', describe: "Inspect changes to files on a container's filesystem" },
  commit: { module: './containers.js', describe: "Create a new image from a container's changes" },
  export: { module: './containers.js', describe: "Export a container's filesystem as a tar archive" },
  cp: { module: './containers.js', describe: 'Copy files between a container and the local filesystem' },
  rename: { module: './containers.js', describe: 'Rename a container' },
  logs: { module: './lifecycle.js', describe: 'Fetch the logs of a container' },
  exec: { module: './lifecycle.js', describe: 'Execute a command in a running container' },
  attach: { module: './lifecycle.js', describe: 'Attach to a running container' },
  stop: { module: './lifecycle.js', describe: 'Stop one or more running containers' },
  kill: { module: './lifecycle.js', describe: 'Kill one or more running containers' },
  restart: { module: './lifecycle.js', describe: 'Restart one or more containers' },
  pause: { module: './lifecycle.js', describe: 'Pause all processes within one or more containers' },
  unpause: { module: './lifecycle.js', describe: 'Unpause all processes within one or more containers' },
  top: { module: './lifecycle.js', describe: 'Display the running processes of a container' },
  stats: { module: './lifecycle.js', describe: 'Display a live stream of container resource usage statistics' },
  port: { module: './lifecycle.js', describe: 'List port mappings for the container' },
  volume: { module: './volumes.js', describe: 'Manage volumes' },
};

async function loadModule(file: string): Promise<RegisterCommands | undefined> {
  try {
    const mod = (await import(file)) as { register?: RegisterCommands };
    return mod.register;
  } catch (err) {
    // A command whose module has not been written yet is listed but not runnable.
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2); // yargs's hideBin, without loading yargs
  // `run` parses its own flags and does not pay for loading yargs. (The `strata` command enters
  // through start.cjs, which runs `run` from its bundle before this module is ever loaded.)
  if (argv[0] === 'run') return (await import('./run-main.js')).runMain(argv.slice(1));
  const [{ default: yargs }, { reportAndExit }] = await Promise.all([import('yargs'), import('./report.js')]);
  let cli: Argv = yargs(argv)
    .scriptName('strata')
    .usage('Usage: strata COMMAND [OPTIONS]')
    .strict()
    // Container and image IDs such as "1e5" or "0123" are names, never numbers (yargs re-parses
    // positionals as options, so both settings are needed); numeric flags declare type: 'number'.
    .parserConfiguration({ 'parse-positional-numbers': false, 'parse-numbers': false })
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      reportAndExit(new Error(msg), 125);
    });
  const name = argv.find((a) => !a.startsWith('-'));
  const entry = name ? COMMANDS[name] : undefined;
  const register = entry ? await loadModule(entry.module) : undefined;
  if (register) {
    cli = register(cli);
  } else {
    for (const [command, { describe }] of Object.entries(COMMANDS)) cli = cli.command(command, describe);
    if (name) {
      const why = entry ? `command "${name}" is not available in this build` : `unknown command "${name}" for "strata"`;
      reportAndExit(new Error(why), 125);
    }
    cli = cli.demandCommand(1, 'a command is required');
  }
  await cli.parseAsync();
}

// report.js is loaded only here and by the yargs path: `run` reports its own errors (run-main.ts).
main().catch(async (err: unknown) => (await import('./report.js')).reportAndExit(err));
