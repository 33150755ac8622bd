// Who owns a temporary thing: the things a command makes for the time it runs (temp files and
// dirs, build scratch, build containers) carry their process's pid and start time in their
// names ("PID.START"), so that a later command can tell the leftovers of a killed process from
// another live process's work in progress: a pid alone may since belong to someone else.
import { readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat after the command name (state first), or undefined when there is no such process. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A zombie (Z) or dead (X) process has exited: only its parent has not reaped it yet. */
const exited = (fields: string[]) => fields[0] === 'Z' || fields[0] === 'X';

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot): tells a reused pid from the
 * owner. Undefined when the process is gone, a zombie included.
 */
export function processStartTime(pid: number): string | undefined {
  const fields = statFields(pid);
  return fields && !exited(fields) ? fields[19] : undefined;
}

/**
 * Whether PID names a process that has not exited. A zombie has: a `strata run` killed with -9
 * whose parent (a program of the user's, busy in a synchronous call) has not reaped it yet holds
 * nothing and will do nothing more, and counting it alive made `rm -f` of its container wait
 * the whole kill timeout (10 s) for a CLI that was gone.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(pid);
  return !fields || !exited(fields);
}

export interface Owner {
  pid: number;
  /** Absent in names written before start times were recorded: then the pid alone decides. */
  start?: string;
}

let mine: string | undefined;

/** This process as an owner: "PID.START". */
export function ownerStamp(): string {
  mine ??= `${process.pid}.${processStartTime(process.pid) ?? '0'}`;
  return mine;
}

/** The owner at the start of `text` ("PID.START" or "PID", then the end or a non-digit). */
export function parseOwner(text: string): Owner | undefined {
  const m = /^(\d+)(?:\.(\d+))?(?!\d)/.exec(text);
  if (!m) return undefined;
  const pid = Number(m[1]);
  return pid > 0 ? { pid, start: m[2] } : undefined;
}

/** True when the owner is this process. */
export function isMe(owner: Owner): boolean {
  return owner.pid === process.pid && (owner.start === undefined || `${owner.pid}.${owner.start}` === ownerStamp());
}

/**
 * True only when the owner has surely exited: its pid is free, or now names a process that
 * started at another time. Never true for this process or for a live owner.
 */
export function ownerGone(owner: Owner): boolean {
  if (isMe(owner)) return false;
  if (!pidAlive(owner.pid)) return true;
  if (owner.start === undefined || owner.start === '0') return false;
  const now = processStartTime(owner.pid);
  return now !== undefined && now !== owner.start;
}
