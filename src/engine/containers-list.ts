// Listing containers as `ps` does: newest first, each with its state reconciled with the
// runtime, Docker's filters (the same key ORs its values, different keys AND), running ones
// only unless asked; their sizes (`ps -s`); and `container prune`.
import fs from 'node:fs';
import { StrataError } from '../errors.js';
import { currentState, parseSince, readShimStatus, removeContainer, shmUsers, type ContainerContext, type PortBinding } from '../runtime/index.js';
import type { ContainerRecord, ContainerState } from '../store/index.js';
import { labelMatches, pruneFilter } from './filters.js';
import { LayerSizes } from './image-sizes.js';
import { filterMatches } from '../go-filters.js';

/** One container of a listing: its record, its state now, and its published ports while it runs. */
export interface ContainerListEntry {
  record: ContainerRecord;
  state: ContainerState;
  ports: PortBinding[];
  /** The image ID its image name means now (undefined: no image by that name any more). */
  currentImage?: string;
}

export interface ListOptions {
  /** Stopped ones too (`-a`). */
  all?: boolean;
  /** The N newest, in any state (`-n`; `-l` is 1). */
  last?: number;
  /** Docker's `--filter` texts: id, name, status, label, ancestor, exited, before, since, volume, network, health. */
  filters?: string[];
  /** Told of each container left out because its record is damaged (`rm` removes one). */
  onDamaged?: (error: Error) => void;
}

export type Filter = { key: string; value: string };
export const FILTER_KEYS = ['id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since', 'volume', 'network', 'health'];
const HEALTHS = ['starting', 'healthy', 'unhealthy', 'none'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export function parseFilter(text: string): Filter {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  if (!FILTER_KEYS.includes(key)) throw new StrataError(`invalid filter "${key}": strata supports ${FILTER_KEYS.join(', ')}`);
  if (key === 'status' && !STATUSES.includes(value)) throw new StrataError(`invalid filter "status=${value}": a status is one of ${STATUSES.join(', ')}`);
  if (key === 'health' && !HEALTHS.includes(value)) throw new StrataError(`invalid filter "health=${value}": a health is one of ${HEALTHS.join(', ')}`);
  if (key === 'name') {
    try {
      new RegExp(value);
    } catch {
      throw new StrataError(`invalid filter "name=${value}": not a regular expression`);
    }
  }
  return { key, value };
}

/** What some filters name, looked up once: ancestor images and their layers, before/since containers. */
export interface FilterRefs {
  /** Per ancestor value: the image it names (undefined: none, as Docker, matches nothing). */
  ancestors: Map<string, { id: string; diffIds: string[] } | undefined>;
  /** The layers (diff_ids) of each container's image. */
  imageLayers: Map<string, string[]>;
  /** Per before/since value: the Created time of the container it names. */
  created: Map<string, string>;
}

/** Docker's ancestor: the image or one built on it (its layers start with the ancestor's). */
function descends(image: string, ancestor: { id: string; diffIds: string[] } | undefined, layers: Map<string, string[]>): boolean {
  if (!ancestor) return false;
  if (image === ancestor.id) return true;
  const own = layers.get(image) ?? [];
  return ancestor.diffIds.length > 0 && own.length > ancestor.diffIds.length && ancestor.diffIds.every((d, i) => own[i] === d);
}

/** Docker's rules: the same key ORs its values (but every label must match), different keys AND. */
export function matchesFilters(record: ContainerRecord, state: ContainerState, filters: Filter[], refs: FilterRefs): boolean {
  const byKey = new Map<string, string[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f.value]);
  const test = (key: string, value: string): boolean => {
    switch (key) {
      case 'id': return record.Id.startsWith(value);
      // The daemon's: with the name's leading slash and without (name=^/web$ and name=^web$ alike).
      case 'name': return filterMatches(value, record.Name) || filterMatches(value, record.Name.slice(1));
      case 'status': return state.Status === value;
      case 'exited': return state.Status === 'exited' && String(state.ExitCode) === value;
      case 'health': return value === 'none' ? !state.Health : state.Health?.Status === value;
      case 'ancestor': return record.Config.Image === value || record.Image.slice(7).startsWith(value) || descends(record.Image, refs.ancestors.get(value), refs.imageLayers);
      case 'before': return record.Created < refs.created.get(value)!;
      case 'since': return record.Created > refs.created.get(value)!;
      case 'volume': return record.Mounts.some((m) => m.Name === value || m.Destination === value);
      case 'network': {
        const mode = record.HostConfig.NetworkMode === 'default' ? 'bridge' : record.HostConfig.NetworkMode;
        return mode === value || Object.hasOwn(record.NetworkSettings?.Networks ?? {}, value);
      }
      default:
        return labelMatches(record.Config.Labels, value);
    }
  };
  // Labels as MatchKVList: every one given.
  return [...byKey].every(([key, values]) => (key === 'label' ? values.every((v) => test(key, v)) : values.some((v) => test(key, v))));
}

async function filterRefs(ctx: ContainerContext, filters: Filter[], all: ContainerRecord[]): Promise<FilterRefs> {
  const refs: FilterRefs = { ancestors: new Map(), imageLayers: new Map(), created: new Map() };
  const layersOf = async (ref: string) => ctx.images.resolveImage(ref).then((img) => ({ id: img.id, diffIds: img.config.rootfs?.diff_ids ?? [] }), () => undefined);
  for (const f of filters) {
    if (f.key === 'ancestor') refs.ancestors.set(f.value, await layersOf(f.value));
    if (f.key === 'before' || f.key === 'since') {
      const c = all.find((r) => r.Name === `/${f.value}`) ?? all.find((r) => r.Id.startsWith(f.value));
      if (!c || !f.value) throw new StrataError(`no such container: "${f.value}"`);
      refs.created.set(f.value, c.Created);
    }
  }
  if (refs.ancestors.size) {
    for (const image of new Set(all.map((r) => r.Image))) refs.imageLayers.set(image, (await layersOf(image))?.diffIds ?? []);
  }
  return refs;
}

export async function listContainers(ctx: ContainerContext, options: ListOptions = {}): Promise<ContainerListEntry[]> {
  const filters = (options.filters ?? []).map(parseFilter);
  const readable = await ctx.containers.listReadable();
  for (const err of readable.damaged) options.onDamaged?.(err);
  let records = readable.records.sort((a, b) => (a.Created < b.Created ? 1 : a.Created > b.Created ? -1 : 0));
  const last = options.last ?? -1;
  const all = options.all || last > 0;
  const states = new Map(records.map((r) => [r.Id, currentState(ctx, r)]));
  const refs = await filterRefs(ctx, filters, records);
  // Docker: a status filter also shows stopped containers.
  if (!all && !filters.some((f) => f.key === 'status' || f.key === 'exited')) records = records.filter((r) => states.get(r.Id)!.Running);
  records = records.filter((r) => matchesFilters(r, states.get(r.Id)!, filters, refs));
  if (last > 0) records = records.slice(0, last);
  const current = new Map<string, string | undefined>();
  for (const ref of new Set(records.map((r) => r.Config.Image))) {
    current.set(ref, await ctx.images.resolveImage(ref).then((img) => img.id, () => undefined));
  }
  return records.map((record) => {
    const state = states.get(record.Id)!;
    const ports = state.Running ? readShimStatus(ctx.containers.paths(record.Id).dir)?.ports ?? [] : [];
    return { record, state, ports, currentImage: current.get(record.Config.Image) };
  });
}

/** Bytes of the regular files under `dir` (a container's upper dir: what removing it frees). */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = `${dir}/${e.name}`;
    if (e.isDirectory()) total += await treeSize(full);
    else if (e.isFile()) total += (await fs.promises.lstat(full)).size;
  }
  return total;
}

/** A container's writable layer (its upper dir) and, virtual, that plus its image's layers. */
export interface ContainerSize {
  rw: number;
  virtual: number;
}

/** `ps -s`: the sizes of the given containers. */
export async function containerSizes(ctx: ContainerContext, records: ContainerRecord[]): Promise<Map<string, ContainerSize>> {
  const imageSizes = new Map<string, number>();
  const layerSizes = new LayerSizes(ctx.images);
  const out = new Map<string, ContainerSize>();
  for (const r of records) {
    if (!imageSizes.has(r.Image)) {
      imageSizes.set(r.Image, await ctx.images.resolveImage(r.Image).then((img) => layerSizes.total(img), () => 0));
    }
    const rw = await treeSize(ctx.containers.paths(r.Id).upper);
    out.set(r.Id, { rw, virtual: rw + imageSizes.get(r.Image)! });
  }
  return out;
}

export interface PruneResult {
  /** IDs of the removed containers. */
  removed: string[];
  /** Bytes of their writable layers. */
  reclaimed: number;
}

/**
 * `container prune --filter`: until=TIME (created before it, the logs' --since rules),
 * label=K[=V] and label!=K[=V]; all must hold.
 */
export function containerPruneFilter(filters: string[], nowNs?: bigint): (record: ContainerRecord) => boolean {
  return pruneFilter('container', filters, (text) => parseSince(text, nowNs, 'until'), (r: ContainerRecord) => ({ created: r.Created, labels: r.Config.Labels }));
}

/** Removes every stopped container the filters accept (their anonymous volumes stay, as Docker's). */
export async function pruneContainers(ctx: ContainerContext, filters: string[] = []): Promise<PruneResult> {
  const accept = containerPruneFilter(filters);
  const removed: string[] = [];
  let reclaimed = 0;
  for (const record of await ctx.containers.list()) {
    // A stopped donor whose /dev/shm a running container uses is not for a prune to remove.
    if (currentState(ctx, record).Running || !accept(record) || (await shmUsers(ctx, record)).length > 0) continue;
    const size = await treeSize(ctx.containers.paths(record.Id).upper);
    try {
      await removeContainer(ctx, record, { volumes: false });
    } catch (err) {
      // Started since it was listed (removeContainer's last look): not a stopped container.
      if (err instanceof StrataError && currentState(ctx, record).Running) continue;
      throw err;
    }
    reclaimed += size;
    removed.push(record.Id);
  }
  await ctx.containers.sweepGraveyards(); // what earlier removals left (see ContainerStore.remove)
  return { removed, reclaimed };
}
