// `strata cache ls | du | prune`: the build cache as users see it, over the BuildCache service
// (src/engine/build-cache.ts): entries, their layers' disk use, and a prune that frees the
// layers no image, container or remaining entry uses.
import type { Argv } from 'yargs';
import { LocalBuildCache, parseCacheSpec, pruneSharedCache } from '../engine/index.js';
import { StrataError } from '../errors.js';
import { stateRoot } from '../store/index.js';
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

async function list(): Promise<void> {
  const entries = await new LocalBuildCache(stateRoot()).list();
  const rows = ['CACHE KEY\tSTAGE\tSTEP\tSIZE\tCREATED\tLAST USED\tHITS'];
  for (const e of entries) {
    const step = e.step.length > 40 ? `${e.step.slice(0, 39)}…` : e.step;
    rows.push([e.key.slice(0, 12), e.stage, step, humanSize(e.size), timeAgo(e.created), timeAgo(e.lastUsed), String(e.hits)].join('\t'));
  }
  out(alignTable(`${rows.join('\n')}\n`));
}

async function du(): Promise<void> {
  const u = await new LocalBuildCache(stateRoot()).usage();
  out(alignTable(`ENTRIES\tLAYERS\tSIZE\n${u.entries}\t${u.layers}\t${humanSize(u.bytes)}\n`));
}

interface PruneArgs { all?: boolean; 'keep-storage'?: string; filter?: string | string[]; 'older-than'?: string; cache?: string }

async function prune(a: PruneArgs): Promise<void> {
  if (a.cache !== undefined || a['older-than'] !== undefined) return pruneRemote(a);
  let until: number | undefined;
  for (const f of [a.filter ?? []].flat()) {
    const [k, v = ''] = f.split('=', 2);
    if (k !== 'until') throw new StrataError(`invalid filter "${k}": only until=DURATION is supported`);
    until = parseUntil(v);
  }
  const keepStorage = a['keep-storage'] ? parseSize(a['keep-storage']) : undefined;
  const { removed, reclaimed } = await new LocalBuildCache(stateRoot()).prune({ all: !!a.all, until, keepStorage });
  for (const e of removed) out(`Deleted: ${e.key}\n`);
  out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
}

/** A registry repository's (or an OCI layout's) entries built longer ago than --older-than. */
async function pruneRemote(a: PruneArgs): Promise<void> {
  if (!a.cache || !a['older-than']) throw new StrataError('prune of a shared cache needs both --older-than DURATION and the cache (REGISTRY/REPOSITORY or type=local,dest=DIR)');
  const { removed, kept } = await pruneSharedCache(parseCacheSpec(a.cache, 'to'), parseUntil(a['older-than']));
  for (const e of removed) out(`Deleted: ${e.key} (${e.manifestDigest})\n`);
  out(`Total: ${removed.length} entries deleted, ${kept} kept\n`);
}

export const register: RegisterCommands = (cli: Argv) =>
  cli.command('cache', 'List, measure and prune the build cache', (y) => y
    .command(['ls', 'list'], 'List build cache entries', (c) => c, () => list())
    .command('du', 'Show the disk usage of the build cache', (c) => c, () => du())
    .command('prune [cache]', 'Remove build cache entries (of the state root, or of a shared cache: REGISTRY/REPOSITORY)', (c) => c
      .positional('cache', { type: 'string', describe: 'A shared cache: REGISTRY/REPOSITORY (with :TAG, still every entry of the repository: its tags share them), or type=local,dest=DIR' })
      .option('older-than', { type: 'string', describe: 'Shared cache: delete entries built longer ago than this (24h, 7d)' })
      .option('all', { alias: 'a', type: 'boolean', describe: 'Remove all entries, not just those no image uses' })
      .option('keep-storage', { type: 'string', describe: 'Amount of disk space to keep for cache' })
      .option('filter', { type: 'string', describe: 'Filter entries: until=24h' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' }),
    (argv) => prune(argv as PruneArgs))
    .demandCommand(1, 'a subcommand is required: ls, du or prune'));
