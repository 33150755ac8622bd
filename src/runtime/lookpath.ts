// Finding the container's command before runc does, with Go's exec.LookPath rules (which runc
// applies inside the container), so a missing or non-executable command gets Docker's wording
// and exit code (127 / 126) instead of runc's raw error.
import path from 'node:path';
import { StrataError } from '../errors.js';
import { resolveInRoot, type FsView } from './resolve.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Exit codes Docker uses when the command cannot be run. */
export const EXIT_NOT_FOUND = 127;
export const EXIT_NOT_EXECUTABLE = 126;

export function startError(detail: string, exitCode: number): StrataError {
  return new StrataError(`unable to start container process: ${detail}`, exitCode);
}

type Check = { ok: true } | { ok: false; why: 'missing' | 'directory' | 'denied' };

async function check(view: FsView, file: string): Promise<Check> {
  try {
    const found = await resolveInRoot(view, file, { followLast: true });
    if (!found.stat) return { ok: false, why: 'missing' };
    if (found.stat.isDirectory()) return { ok: false, why: 'directory' };
    if ((found.stat.mode & 0o111) === 0) return { ok: false, why: 'denied' };
    return { ok: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return { ok: false, why: 'missing' };
    throw err;
  }
}

/**
 * Throws the StrataError runc's failure would have become when `args[0]` cannot be executed in
 * the container; resolves when it can (or when the answer is only knowable inside it).
 */
export async function checkExecutable(view: FsView, command: string, env: string[], cwd: string): Promise<void> {
  if (command === '') throw startError('exec: "": executable file not found in $PATH', EXIT_NOT_FOUND);
  if (command.includes('/')) {
    const file = path.posix.resolve(cwd, command);
    const result = await check(view, file);
    if (result.ok) return;
    if (result.why === 'missing') throw startError(`exec: "${command}": stat ${command}: no such file or directory`, EXIT_NOT_FOUND);
    if (result.why === 'directory') throw startError(`exec: "${command}": is a directory`, EXIT_NOT_EXECUTABLE);
    throw startError(`exec: "${command}": permission denied`, EXIT_NOT_EXECUTABLE);
  }
  const pathVar = env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of pathVar.split(':')) {
    const result = await check(view, path.posix.resolve(cwd, dir === '' ? '.' : dir, command));
    if (result.ok) return;
  }
  throw startError(`exec: "${command}": executable file not found in $PATH`, EXIT_NOT_FOUND);
}

/** Maps runc's own error text (its log) to Docker's exit codes, as the docker CLI does. */
export function exitCodeForRuntimeError(message: string): number {
  if (/executable file not found|no such file or directory/.test(message)) return EXIT_NOT_FOUND;
  if (/permission denied|is a directory/.test(message)) return EXIT_NOT_EXECUTABLE;
  return 125;
}
