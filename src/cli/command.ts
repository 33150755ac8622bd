import type { Argv } from 'yargs';

/**
 * A CLI command module. Each file under src/cli/ that defines commands exports
 * `register`, which adds its commands (with their flags and handlers) to yargs.
 * Modules are loaded lazily by main.ts so that `strata run` does not pay for `build`.
 */
export type RegisterCommands = (cli: Argv) => Argv;
