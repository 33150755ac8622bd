// The shim's side of the runtime's launcher (runc-launcher.ts): the run its starter had the launcher
// start, seen as the child process runc.ts expects (its stdout, its stderr, 'close' with its
// exit status), from the fds 4-6 the shim was spawned with.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { StrataError } from '../../errors.js';

/** The shim's environment entry naming the launcher's pid when it was spawned with its fds (4-6). */
export const LAUNCHER_ENV = 'STRATA_SHIM_LAUNCHER';
const FIRST_FD = 4;

export interface LaunchedFds {
  /** The launcher's pid (runc's parent). */
  pid: number;
  stdout: net.Socket;
  stderr: net.Socket;
  status: net.Socket;
}

/**
 * Takes the launcher's fds when this shim was spawned with them (LAUNCHER_ENV), as sockets, so
 * that no other file of this process takes their numbers; undefined otherwise.
 */
export function takeLauncherFds(): LaunchedFds | undefined {
  const pid = Number(process.env[LAUNCHER_ENV]);
  delete process.env[LAUNCHER_ENV];
  if (!(pid > 0)) return undefined;
  const [stdout, stderr, status] = [0, 1, 2].map((i) => new net.Socket({ fd: FIRST_FD + i, readable: true, writable: false }));
  // Nothing is read until the run is adopted (or the fds dropped).
  for (const s of [stdout, stderr, status]) {
    s.pause();
    s.on('error', () => undefined);
  }
  return { pid, stdout: stdout!, stderr: stderr!, status: status! };
}

/** Closes the launcher's fds (its run was not ours to adopt); the launcher then ends. */
export function dropLauncherFds(fds: LaunchedFds | undefined): void {
  if (!fds) return;
  for (const s of [fds.stdout, fds.stderr, fds.status]) s.destroy();
}

/**
 * The launched run as a child process for runc.ts: stdout and stderr, and 'close' (code, signal)
 * once both have ended and the status said the exit code. No "launching" line: the starter
 * ended before it had the launcher run anything ('error'). "launching" without a status: the
 * launcher was killed meanwhile, the code is unknown and is taken for a kill (code null).
 */
export function launchedChild(fds: LaunchedFds): ChildProcess {
  const child = new EventEmitter() as ChildProcess & EventEmitter;
  Object.assign(child, { pid: fds.pid, stdin: null, stdout: fds.stdout, stderr: fds.stderr, stdio: [null, fds.stdout, fds.stderr], kill: () => false });
  let status = '';
  fds.status.setEncoding('latin1');
  fds.status.on('data', (d: string) => (status += d));
  const ended = (s: net.Socket) => new Promise<void>((resolve) => (s.readableEnded || s.destroyed ? resolve() : s.once('close', () => resolve())));
  fds.status.resume();
  void Promise.all([ended(fds.status), ended(fds.stdout), ended(fds.stderr)]).then(() => {
    const [launching, code] = status.split('\n');
    if (launching !== 'launching') {
      child.emit('error', new StrataError('the container was not started: its starter ended first'));
      return;
    }
    const exit = /^\d+$/.test(code ?? '') ? Number(code) : null;
    child.emit('close', exit, exit === null ? 'SIGKILL' : null);
  });
  return child;
}
