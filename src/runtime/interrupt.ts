// Ctrl-C (SIGINT) and SIGTERM to a foreground `run`: the signal goes to the container's process,
// which is the init (pid 1) of its pid namespace, and the kernel drops a signal that pid 1 does
// not catch. A process that would have died of it elsewhere (`sleep`, most programs) would
// then go on running with the terminal stuck. So, as that process would outside a container:
// an init that does not catch the signal is ended at once (exit 128 + the signal's number, 130
// for Ctrl-C); one that catches it gets it and decides; a second one of the same signal ends
// the container whatever it catches.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** Signals a foreground run ends its container on (when its init does not catch them). */
export const ENDING_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGTERM']);

/** True when the process `pid` has a handler for `signal` (SigCgt in /proc/PID/status); undefined when unknown. */
export function catchesSignal(pid: number, signal: NodeJS.Signals): boolean | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (caught === undefined) return undefined;
  return ((BigInt(`0x${caught}`) >> BigInt(os.constants.signals[signal] - 1)) & 1n) === 1n;
}

/** The host pid of a container's init, from `runc state`; undefined when runc does not know it (yet). */
export function initPid(runc: string, runcRoot: string, id: string): number | undefined {
  const r = spawnSync(runc, ['--root', runcRoot, 'state', id], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  try {
    const pid = (JSON.parse(r.stdout) as { pid?: number }).pid;
    return pid && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decides, for each SIGINT/SIGTERM this process receives during a foreground run, whether the
 * container is ended (true) or the signal passed on to it (false). `endedBy` is the signal that
 * ended it, whose number makes the exit code.
 */
export class InterruptPolicy {
  endedBy: NodeJS.Signals | undefined;
  private readonly seen = new Set<NodeJS.Signals>();

  constructor(private readonly initPidOf: () => number | undefined) {}

  ends(signal: NodeJS.Signals): boolean {
    if (!ENDING_SIGNALS.has(signal)) return false;
    const repeated = this.seen.has(signal);
    this.seen.add(signal);
    const pid = this.initPidOf();
    // Not started yet (or gone): ending it is what the user asked.
    const ends = repeated || pid === undefined || catchesSignal(pid, signal) !== true;
    if (ends) this.endedBy ??= signal;
    return ends;
  }

  /** The exit code to report when the container was ended by a signal here (128 + its number). */
  exitCode(): number | undefined {
    return this.endedBy ? 128 + os.constants.signals[this.endedBy] : undefined;
  }
}
