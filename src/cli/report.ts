import { isNoSpace, StrataError } from '../errors.js';

/**
 * Prints an error as one line on stderr (a stack trace only with STRATA_DEBUG=1) and exits
 * with the error's code: StrataError carries its own, anything else is strata's fault (125).
 */
export function reportAndExit(err: unknown, code?: number): never {
  // A write to a pipe whose reader went away (`strata export c | head`): end quietly, as docker
  // does (killed by SIGPIPE). Our own children's pipes never reach here raw: their errors are ours.
  const errno = err as NodeJS.ErrnoException | undefined;
  if (errno?.code === 'EPIPE' && errno.syscall === 'write') process.exit(128 + 13);
  const exitCode = code ?? (err instanceof StrataError ? err.exitCode : 125);
  // A full disk that no layer below named: never Node's wording with an internal path.
  const message = !(err instanceof StrataError) && isNoSpace(err) ? 'no space left on device' : err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${message}\n`);
  if (process.env.STRATA_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCode);
}
