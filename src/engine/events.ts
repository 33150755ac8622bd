// The Events service: what happened in a state root, without a daemon. Image events come from
// the event log the services append to (src/store/events.ts); container events are read from
// the containers' records (created, last started, last exited), as those records are what a
// daemonless engine keeps. Filters follow Docker's: type, event, image, container, label, network, volume.
import { StrataError } from '../errors.js';
import { ContainerStore, containerRecordEvents, readEvents, stateRoot, type EventRecord } from '../store/index.js';
import { labelMatches } from './filters.js';

export type { EventRecord } from '../store/index.js';

export interface EventQuery {
  /** Nanoseconds since the epoch: only events at or after it. */
  since?: bigint;
  /** Only events before or at it. */
  until?: bigint;
  /** Docker's filters: "type=image", "event=tag", "image=NAME", "container=NAME", "label=K[=V]", "network=NAME", "volume=NAME". */
  filters?: string[];
}

const FILTER_KEYS = ['type', 'event', 'image', 'container', 'label', 'network', 'volume'];

function checkFilters(filters: string[]): void {
  for (const f of filters) {
    const key = f.includes('=') ? f.slice(0, f.indexOf('=')) : f;
    if (!FILTER_KEYS.includes(key)) throw new StrataError(`invalid filter "${key}": strata supports ${FILTER_KEYS.join(', ')}`);
  }
}

function matches(e: EventRecord, filters: string[]): boolean {
  const by = new Map<string, string[]>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    by.set(key, [...(by.get(key) ?? []), eq < 0 ? '' : f.slice(eq + 1)]);
  }
  const any = (key: string, test: (v: string) => boolean) => !by.has(key) || by.get(key)!.some(test);
  const name = e.Actor.Attributes.name ?? '';
  return any('type', (v) => v === e.Type)
    && any('event', (v) => v === e.Action)
    && any('image', (v) => e.Type === 'image' ? e.Actor.ID.startsWith(v) || e.Actor.ID === `sha256:${v}` || name === v || name.split(':')[0] === v : e.Actor.Attributes.image === v)
    && any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || name === v))
    && any('network', (v) => e.Type === 'network' && (e.Actor.ID.startsWith(v) || name === v))
    && any('volume', (v) => e.Type === 'volume' && (e.Actor.ID === v || name === v))
    // Docker puts an object's labels among its event's attributes.
    && any('label', (v) => labelMatches(e.Actor.Attributes, v));
}

export class Events {
  readonly stateRoot: string;

  constructor(o: { stateRoot?: string } = {}) {
    this.stateRoot = o.stateRoot ?? stateRoot();
  }

  /** Container events as the records of existing containers tell them (a removed one's are in the log). */
  async containerEvents(): Promise<EventRecord[]> {
    return (await new ContainerStore(this.stateRoot).list()).flatMap((c) => containerRecordEvents(c));
  }

  /** The events the query selects, oldest first. */
  async list(query: EventQuery = {}): Promise<EventRecord[]> {
    checkFilters(query.filters ?? []);
    const all = [...readEvents(this.stateRoot), ...(await this.containerEvents())];
    return all
      .filter((e) => (query.since === undefined || BigInt(e.timeNano) >= query.since) && (query.until === undefined || BigInt(e.timeNano) <= query.until))
      .filter((e) => matches(e, query.filters ?? []))
      .sort((a, b) => (BigInt(a.timeNano) < BigInt(b.timeNano) ? -1 : BigInt(a.timeNano) > BigInt(b.timeNano) ? 1 : 0));
  }
}
