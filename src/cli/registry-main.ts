// The entry of the registry bundle (scripts/bundle-cli.mjs): `strata pull` and `strata push`
// with a plain command line, parsed here without yargs, whose loading and parsing cost more
// than a whole warm pull. Whatever this parser does not know for sure (help, an unknown or
// combined flag, a flag's value given apart as "true"/"false") goes to the full CLI instead
// (registryMain resolves false), so the two never disagree on what a command line means.
import type { PullArgs, PushArgs } from './registry.js';
import { pullCmd, pushCmd } from './registry.js';
import { timing } from '../timing.js';
import { reportAndExit } from './report.js';

interface Spec {
  /** Flags that take a value (--name VALUE or --name=VALUE); repeatable ones collect a list. */
  valued: Record<string, { key: string; repeat?: boolean }>;
  /** Boolean flags and their short aliases. */
  booleans: Record<string, string>;
}

const SPECS: Record<'pull' | 'push', Spec> = {
  pull: {
    valued: { '--platform': { key: 'platform' } },
    booleans: { '-q': 'quiet', '--quiet': 'quiet', '--tls-verify': 'tls-verify', '-a': 'all-tags', '--all-tags': 'all-tags' },
  },
  push: {
    valued: { '--index-of': { key: 'index-of', repeat: true } },
    booleans: { '-q': 'quiet', '--quiet': 'quiet', '--tls-verify': 'tls-verify', '-a': 'all-tags', '--all-tags': 'all-tags' },
  },
};

/** The flags and the one NAME of a plain command line, or undefined (let the full CLI parse it). */
export function parsePlain(command: 'pull' | 'push', args: string[]): Record<string, unknown> | undefined {
  const spec = SPECS[command];
  const out: Record<string, unknown> = { 'tls-verify': true };
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) {
      names.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const valued = spec.valued[flag];
    if (valued) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('-'))) return undefined;
      if (valued.repeat) out[valued.key] = [...((out[valued.key] as string[] | undefined) ?? []), value];
      else if (valued.key in out) return undefined;
      else out[valued.key] = value;
      continue;
    }
    const key = spec.booleans[flag];
    if (!key) return undefined;
    if (eq > 0) {
      const v = arg.slice(eq + 1);
      if (v !== 'true' && v !== 'false') return undefined;
      out[key] = v === 'true';
    } else {
      // yargs reads "--tls-verify false" as a value: leave such a line to it.
      if (args[i + 1] === 'true' || args[i + 1] === 'false') return undefined;
      out[key] = true;
    }
  }
  if (names.length !== 1) return undefined;
  out.name = names[0];
  return out;
}

/** Runs `pull ...` or `push ...` (argv[0] is the command); false when the full CLI must parse it. */
export async function registryMain(argv: string[]): Promise<boolean> {
  const command = argv[0];
  if (command !== 'pull' && command !== 'push') return false;
  const args = parsePlain(command, argv.slice(1));
  if (!args) return false;
  timing('registry bundle loaded');
  try {
    // As every command of the full CLI (main.ts): what killed strata processes left is swept first.
    const [{ sweepLeftovers }, { stateRoot }] = await Promise.all([import('../runtime/index.js'), import('../store/index.js')]);
    const swept = sweepLeftovers(stateRoot()).catch(() => undefined).then(() => timing('leftovers swept'));
    if (command === 'pull') {
      // Beside the pull's first round trip: the sweep removes only what exited processes left.
      await Promise.all([pullCmd(args as unknown as PullArgs), swept]);
    } else {
      // A push only reads the store's images and layers (it writes its own records atomically):
      // the sweep of dead processes' leftovers runs beside it instead of before it.
      await Promise.all([swept, pushCmd(args as unknown as PushArgs)]);
    }
  } catch (err) {
    reportAndExit(err);
  }
  return true;
}
