import type { Argv } from 'yargs';

/**
 * A CLI command module. Each file under src/cli/ that defines commands exports
 * `register`, which adds its commands (with their flags and handlers) to yargs.
 * Modules are loaded lazily by main.ts so that `strata run` does not pay for `build`.
 */
export type RegisterCommands = (cli: Argv) => Argv;

/**
 * yargs's parser settings for every command. Container and image IDs such as "1e5" or "0123"
 * are names, never numbers (yargs re-parses positionals as options, so both number settings are
 * needed; numeric flags declare type: 'number'). No boolean negation: Docker's `--no-trunc`,
 * `--no-stream`, `--no-prune`... are flags of their own (declared as such), and any other
 * `--no-X` is an unknown flag, as Docker says.
 */
export const PARSER_CONFIGURATION = { 'parse-positional-numbers': false, 'parse-numbers': false, 'boolean-negation': false } as const;

/** The settings of strata's yargs before any command is registered (main.ts; plain-args.test.ts holds plain-args.ts to them). */
export function baseCli(cli: Argv): Argv {
  return cli
    .scriptName('strata')
    .usage('Usage: strata COMMAND [OPTIONS]')
    .strict()
    // IDs are never numbers; no `--no-X` negation of booleans (above).
    .parserConfiguration(PARSER_CONFIGURATION)
    .help()
    .alias('help', 'h')
    .version(false);
}
