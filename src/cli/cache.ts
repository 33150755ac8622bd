// `strata cache ls | du | prune`: the build cache as users see it. Entries live in the cache
// index (src/store/cache-index.ts); their layers are blobs of the store, freed by prune once
// no image, container or remaining entry uses them.
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { CacheIndex, type CacheEntry, ContainerStore, stateRoot, openStore } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { humanSize, timeAgo } from './format/human.js';
import { alignTable } from './format/table.js';

const out = (s: string) => process.stdout.write(s);

/** "10GB", "512MiB", "1.5g", "1000" -> bytes (decimal and binary units, as Docker's units.RAMInBytes / FromHumanSize). */
export function parseSize(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?)(b?)$/i.exec(text.trim());
  if (!m) throw new StrataError(`invalid size: "${text}"`);
  const power = ' kmgtp'.indexOf(m[2].toLowerCase() || ' ');
  const base = m[3] ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** Math.max(0, power));
}

/** "24h", "90m", "2h30m", "45s" -> milliseconds. */
export function parseUntil(text: string): number {
  let total = 0;
  let rest = text.trim();
  if (!rest) throw new StrataError(`invalid duration: "${text}"`);
  while (rest) {
    const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/.exec(rest);
    if (!m) throw new StrataError(`invalid duration: "${text}"`);
    total += Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms']!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

export interface PruneOptions {
  all: boolean;
  keepStorage?: number;
  /** Only entries not used for this long (ms). */
  until?: number;
  /** Layers some image uses (entries for them are internal-only otherwise). */
  imageLayers: Set<string>;
  now?: number;
}

/**
 * Which entries to remove: without --all only those whose layer no image uses; with
 * --filter until=D only those unused for D; with --keep-storage, least recently used first
 * until what is left fits.
 */
export function selectPrunable(entries: CacheEntry[], o: PruneOptions): CacheEntry[] {
  const now = o.now ?? Date.now();
  let candidates = entries.filter((e) => o.all || !e.layer || !o.imageLayers.has(e.layer));
  if (o.until !== undefined) candidates = candidates.filter((e) => now - Date.parse(e.lastUsed) >= o.until!);
  if (o.keepStorage === undefined) return candidates;
  let total = entries.reduce((n, e) => n + e.size, 0);
  const chosen: CacheEntry[] = [];
  for (const e of [...candidates].sort((a, b) => a.lastUsed.localeCompare(b.lastUsed))) {
    if (total <= o.keepStorage) break;
    chosen.push(e);
    total -= e.size;
  }
  return chosen;
}

async function list(): Promise<void> {
  const entries = (await new CacheIndex(stateRoot()).entries()).sort((a, b) => b.lastUsed.localeCompare(a.lastUsed));
  const rows = ['CACHE KEY\tSTAGE\tSTEP\tSIZE\tCREATED\tLAST USED\tHITS'];
  for (const e of entries) {
    const step = e.step.length > 40 ? `${e.step.slice(0, 39)}…` : e.step;
    rows.push([e.key.slice(0, 12), e.stage, step, humanSize(e.size), timeAgo(e.created), timeAgo(e.lastUsed), String(e.hits)].join('\t'));
  }
  out(alignTable(`${rows.join('\n')}\n`));
}

async function du(): Promise<void> {
  const entries = await new CacheIndex(stateRoot()).entries();
  // Entries can share a layer (same content, different keys): count each layer once.
  const layers = new Map<string, number>();
  for (const e of entries) if (e.layer) layers.set(e.layer, e.size);
  const total = [...layers.values()].reduce((n, s) => n + s, 0);
  out(alignTable(`ENTRIES\tLAYERS\tSIZE\n${entries.length}\t${layers.size}\t${humanSize(total)}\n`));
}

async function prune(a: { all?: boolean; 'keep-storage'?: string; filter?: string | string[] }): Promise<void> {
  const root = stateRoot();
  const store = await openStore(root);
  const index = new CacheIndex(root);
  let until: number | undefined;
  for (const f of [a.filter ?? []].flat()) {
    const [k, v = ''] = f.split('=', 2);
    if (k !== 'until') throw new StrataError(`invalid filter "${k}": only until=DURATION is supported`);
    until = parseUntil(v);
  }
  const imageLayers = new Set((await store.listImages()).flatMap((i) => i.config.rootfs.diff_ids));
  const doomed = selectPrunable(await index.entries(), { all: !!a.all, until, keepStorage: a['keep-storage'] ? parseSize(a['keep-storage']) : undefined, imageLayers });
  const removed = await index.remove(doomed.map((e) => e.key));
  const keep = new Set<string>((await index.entries()).map((e) => e.layer).filter((l): l is string => !!l));
  for (const c of await new ContainerStore(root).list()) for (const l of c.Strata?.layers ?? []) keep.add(l);
  const freed = await store.collectGarbage({ keepLayers: keep });
  for (const e of removed) out(`Deleted: ${e.key}\n`);
  out(`Total reclaimed space: ${humanSize(freed)}\n`);
}

export const register: RegisterCommands = (cli: Argv) =>
  cli.command('cache', 'List, measure and prune the build cache', (y) => y
    .command(['ls', 'list'], 'List build cache entries', (c) => c, () => list())
    .command('du', 'Show the disk usage of the build cache', (c) => c, () => du())
    .command('prune', 'Remove build cache entries', (c) => c
      .option('all', { alias: 'a', type: 'boolean', describe: 'Remove all entries, not just those no image uses' })
      .option('keep-storage', { type: 'string', describe: 'Amount of disk space to keep for cache' })
      .option('filter', { type: 'string', describe: 'Filter entries: until=24h' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' }),
    (argv) => prune(argv as { all?: boolean; 'keep-storage'?: string; filter?: string | string[] }))
    .demandCommand(1, 'a subcommand is required: ls, du or prune'));
