// `strata events`: what happened in the state root (Events service), as Docker prints it:
// "TIME TYPE ACTION ID (attributes)". Past events first (as podman, which has no daemon either,
// reads its events file); then, unless --until or --stream=false, new ones as they come.
import type { Argv } from 'yargs';
import { Events, type EventQuery, type EventRecord } from '../engine/index.js';
import { parseSince } from '../runtime/index.js';
import type { RegisterCommands } from './command.js';
import { goStruct, parseTemplate } from './format/template.js';
import { compareBytes } from '../sort-order.js';

/** RFC 3339 with nanoseconds, UTC: Docker's event time. */
export function eventTime(timeNano: string): string {
  const ns = BigInt(timeNano);
  const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  return `${iso}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** One event as Docker's text line. */
export function eventLine(e: EventRecord): string {
  const attrs = Object.entries(e.Actor.Attributes).sort(([a], [b]) => compareBytes(a, b)).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${eventTime(e.timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ''}`;
}

/** moby's events.Message json tags: its deprecated fields and times are lower case, left out when empty. */
const MESSAGE_JSON = { Status: 'status,omitempty', ID: 'id,omitempty', From: 'from,omitempty', Scope: 'scope,omitempty', Time: 'time,omitempty', TimeNano: 'timeNano,omitempty' };

/**
 * The object a --format template sees: moby's events.Message, fields in its order. The daemon
 * fills the deprecated Status and ID for container and image events, From for containers only.
 */
export function eventObject(e: EventRecord): Record<string, unknown> {
  const ns = BigInt(e.timeNano);
  const legacy = e.Type === 'container' || e.Type === 'image';
  return goStruct({
    Status: legacy ? e.Action : '', ID: legacy ? e.Actor.ID : '', From: e.Type === 'container' ? e.Actor.Attributes.image ?? '' : '',
    Type: e.Type, Action: e.Action, Actor: goStruct({ ...e.Actor }), Scope: 'local', Time: Number(ns / 1_000_000_000n), TimeNano: Number(ns),
  }, MESSAGE_JSON);
}

interface EventsArgs { since?: string; until?: string; filter?: string | string[]; format?: string; stream?: boolean }

async function events(a: EventsArgs): Promise<void> {
  const query: EventQuery = {
    since: a.since ? parseSince(a.since) : undefined,
    until: a.until ? parseSince(a.until, undefined, 'until') : undefined,
    filters: ([] as string[]).concat(a.filter ?? []),
  };
  const template = a.format ? parseTemplate(a.format === 'json' ? '{{json .}}' : a.format) : undefined;
  const show = (e: EventRecord) => process.stdout.write(`${template ? template.render(eventObject(e)) : eventLine(e)}\n`);
  const service = new Events();
  const seen = new Set<string>();
  const key = (e: EventRecord) => `${e.timeNano} ${e.Type} ${e.Action} ${e.Actor.ID} ${JSON.stringify(e.Actor.Attributes)}`;
  const emit = async () => {
    for (const e of await service.list(query)) {
      if (seen.has(key(e))) continue;
      seen.add(key(e));
      show(e);
    }
  };
  await emit();
  if (a.until !== undefined || a.stream === false) return;
  // Follow: the log and the records are read again twice a second, until interrupted.
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    await emit();
  }
}

export const register: RegisterCommands = (cli: Argv) => cli.command('events', 'Get real time events from strata', (y) => y
  .option('since', { type: 'string', describe: 'Show all events created since timestamp' })
  .option('until', { type: 'string', describe: 'Stream events until this timestamp' })
  .option('filter', { alias: 'f', type: 'string', describe: 'Filter output (type=, event=, image=, container=)' })
  .option('format', { type: 'string', describe: 'Format output using a Go template' })
  .option('stream', { type: 'boolean', default: true, describe: 'Keep following new events (false: print the past ones and exit)' }),
(a) => events(a as EventsArgs));
