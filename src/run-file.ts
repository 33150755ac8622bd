// execFile as a promise (as util.promisify gives it: rejected with the error, its stdout and
// stderr on it), with node:child_process required at the first call, not when a module that
// may run a program is loaded: a `promisify(execFile)` at the top of modules every command
// loads had child_process (and net, dgram and stream under it) compiled at every start.
import { execFile, type ExecFileOptions } from 'node:child_process';

export interface RunFileResult {
  stdout: string;
  stderr: string;
}

/** Runs FILE with ARGS (no shell); resolves with its output once it exits 0. */
export function runFile(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<RunFileResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}
