// The state root's event log (events.log): what commands did to images, one JSON object a line,
// appended with O_APPEND in one write, so concurrent commands never interleave a line and a
// kill leaves at most a last line cut short, which readers skip. `strata events` reads it, as
// podman reads its events file without a daemon.
import fs from 'node:fs';
import path from 'node:path';

export interface EventRecord {
  /** "image" or "container". */
  Type: string;
  /** "tag", "untag", "delete", "load", "import", "save", "create", "start", "die"... */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  /** Nanoseconds since the epoch, as a decimal string (Docker's timeNano). */
  timeNano: string;
}

export const eventsFile = (root: string) => path.join(root, 'events.log');

/** Appends one event; never fails the command that reports it (the log is a record, not state). */
export function appendEvent(root: string, event: Omit<EventRecord, 'timeNano'> & { timeNano?: string }): void {
  const record: EventRecord = { ...event, timeNano: event.timeNano ?? (BigInt(Date.now()) * 1_000_000n).toString() };
  try {
    fs.appendFileSync(eventsFile(root), `${JSON.stringify(record)}\n`, { mode: 0o644 });
  } catch {
    // a full disk or a read-only root loses the record, not the command's work
  }
}

/** What a container's record tells of its events (the fields read here, so this file needs no record type). */
export interface ContainerEventSource {
  Id: string;
  Name: string;
  Image: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  Created: string;
  State: { Running: boolean; StartedAt: string; FinishedAt: string; ExitCode: number };
}

const nanos = (iso: string) => (BigInt(Date.parse(iso)) * 1_000_000n).toString();

/** A container's events as its record keeps them: create, the last start, the last exit (die, with its code). */
export function containerRecordEvents(c: ContainerEventSource): EventRecord[] {
  const out: EventRecord[] = [];
  // Docker's attributes: the container's labels, its image and name.
  const attributes = { ...(c.Config?.Labels ?? {}), image: c.Config?.Image ?? c.Image, name: c.Name.replace(/^\//, '') };
  const at = (Action: string, time: string, extra: Record<string, string> = {}) => {
    // Docker's zero time (year 1) is before the epoch: never happened.
    if (time && Date.parse(time) > 0) out.push({ Type: 'container', Action, Actor: { ID: c.Id, Attributes: { ...attributes, ...extra } }, timeNano: nanos(time) });
  };
  at('create', c.Created);
  at('start', c.State.StartedAt);
  if (!c.State.Running) at('die', c.State.FinishedAt, { exitCode: String(c.State.ExitCode) });
  return out;
}

/**
 * Logs a removed container's events: what its record told (which goes with it) and its
 * destroy, so `events` still shows a `run --rm` container's life after it is gone.
 */
export function appendContainerRemoval(root: string, c: ContainerEventSource): void {
  const events = containerRecordEvents(c);
  // Docker's attributes: the container's labels, its image and name.
  const attributes = { ...(c.Config?.Labels ?? {}), image: c.Config?.Image ?? c.Image, name: c.Name.replace(/^\//, '') };
  events.push({ Type: 'container', Action: 'destroy', Actor: { ID: c.Id, Attributes: attributes }, timeNano: (BigInt(Date.now()) * 1_000_000n).toString() });
  try {
    fs.appendFileSync(eventsFile(root), events.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o644 });
  } catch {
    // as appendEvent: the log is a record, not state
  }
}

/** Every well-formed event in the log, oldest first. */
export function readEvents(root: string): EventRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(eventsFile(root), 'utf8');
  } catch {
    return [];
  }
  const out: EventRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as EventRecord;
      if (typeof e.Type === 'string' && typeof e.Action === 'string' && /^\d+$/.test(e.timeNano ?? '')) out.push(e);
    } catch {
      // a line cut short by a kill
    }
  }
  return out;
}
