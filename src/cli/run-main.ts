// The entry of the `run` bundle (scripts/bundle-cli.mjs): `strata run` with its own error
// report, since the bundle carries its own copy of StrataError.
import { StrataError } from '../errors.js';
import { runCommand } from './containers-run.js';
import { reportAndExit } from './report.js';

/** The exit code an error asks for, also for a StrataError of the unbundled modules (-p, -d paths). */
export function exitCodeOf(err: unknown): number | undefined {
  if (err instanceof StrataError) return err.exitCode;
  const code = (err as { exitCode?: unknown } | undefined)?.exitCode;
  return err instanceof Error && err.name === 'StrataError' && typeof code === 'number' ? code : undefined;
}

export async function runMain(argv: string[]): Promise<void> {
  try {
    await runCommand('run', argv);
  } catch (err) {
    reportAndExit(err, exitCodeOf(err));
  }
}
