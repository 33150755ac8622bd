// The entry of the build bundle (scripts/bundle-cli.mjs): `strata build` with a plain command
// line, parsed here without yargs, whose loading and parsing cost a warm build a good part of
// its time. Whatever this parser does not know for sure (help, an unknown or combined flag, a
// value that starts with "-", a boolean given a value, `--`) goes to the full CLI instead
// (buildMain resolves false), so the two never disagree on what a command line means.
import { normalize, runBuild, type BuildArgs } from './build.js';
import { reportAndExit } from './report.js';
import { timing } from '../timing.js';

/** Flags that take a value, by every spelling: the BuildArgs key, and whether it may repeat. */
const VALUED: Record<string, { key: keyof BuildArgs; repeat?: boolean }> = {
  '-t': { key: 'tag', repeat: true },
  '--tag': { key: 'tag', repeat: true },
  '-f': { key: 'file' },
  '--file': { key: 'file' },
  '--build-arg': { key: 'build-arg', repeat: true },
  '--target': { key: 'target' },
  '--no-cache-filter': { key: 'no-cache-filter', repeat: true },
  '--label': { key: 'label', repeat: true },
  '--iidfile': { key: 'iidfile' },
  '--network': { key: 'network' },
  '--progress': { key: 'progress' },
  '--metadata-file': { key: 'metadata-file' },
  '--secret': { key: 'secret', repeat: true },
  '--ssh': { key: 'ssh', repeat: true },
  '-o': { key: 'output', repeat: true },
  '--output': { key: 'output', repeat: true },
  '--platform': { key: 'platform', repeat: true },
  '--cache-from': { key: 'cache-from', repeat: true },
  '--cache-to': { key: 'cache-to', repeat: true },
};

/** Boolean flags (`--load` is accepted and means nothing more: the image is always in the store). */
const BOOLEANS: Record<string, keyof BuildArgs | 'load'> = {
  '--no-cache': 'no-cache',
  '-q': 'quiet',
  '--quiet': 'quiet',
  '--explain': 'explain',
  '--pull': 'pull',
  '--load': 'load',
  '--push': 'push',
};

/** The arguments of a plain `build` line (after the command's name), or undefined: let the full CLI parse it. */
export function parseBuildLine(args: string[]): BuildArgs | undefined {
  const out: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '') return undefined;
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const valued = VALUED[flag];
    if (valued) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      // No value, an empty one, or one yargs could read as a flag: its rules decide.
      if (value === undefined || value === '' || value.startsWith('-')) return undefined;
      if (valued.repeat) out[valued.key] = [...((out[valued.key] as string[] | undefined) ?? []), value];
      else if (valued.key in out) return undefined;
      else out[valued.key] = value;
      continue;
    }
    const key = BOOLEANS[flag];
    // Unknown, combined (-qt), --help, a boolean with a value, `--`: the full CLI's.
    if (!key || eq > 0) return undefined;
    // yargs reads "--push true" as the flag's value: leave such a line to it.
    if (args[i + 1] === 'true' || args[i + 1] === 'false') return undefined;
    out[key] = true;
  }
  if (positionals.length !== 1) return undefined;
  out.context = positionals[0];
  return normalize(out as unknown as BuildArgs);
}

/** Runs `build ...` (argv[0] is the command); false when the full CLI must parse the line. */
export async function buildMain(argv: string[]): Promise<boolean> {
  if (argv[0] !== 'build') return false;
  const args = parseBuildLine(argv.slice(1));
  if (!args) return false;
  timing('build bundle loaded');
  try {
    await runBuild(args);
  } catch (err) {
    reportAndExit(err);
  }
  // Done, its output written (stdout and stderr are synchronous on Linux) and its threads
  // stopped: exit now rather than after Node frees every object, which a warm build notices.
  process.exit();
}
