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
