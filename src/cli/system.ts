// `strata system check [--full] [--repair]`: the store verified against itself (the work is the
// System service's check: engine/system-check.ts, store/check.ts); one line per finding, then a
// summary. Exit 0 when nothing damaged is left, 1 when something is (repair could not mend it,
// or was not asked).
import type { Argv } from 'yargs';
import { STRATA_VERSION, System, parseSystemPruneFilters, runcVersion, type CheckReport, type Finding, type SystemPruneResult } from '../engine/index.js';
import type { RegisterCommands } from './command.js';
import { confirm } from './confirm.js';
import { humanSize } from './format/human.js';
import { formatRows, parseTemplate, resolveFormat } from './format/template.js';
import { deleteLine } from './image-remove.js';
import { DF_HEADINGS, DF_TABLE, dfRows, dfVerboseText, infoText, versionInfo, versionText } from './system-views.js';

const LABEL: Record<Finding['kind'], string> = { damage: 'damaged', leftover: 'leftover', note: 'note' };

export function formatFinding(f: Finding): string {
  let line = `${LABEL[f.kind]}: ${f.subject}: ${f.problem}`;
  if (f.repaired) line += ` -> repaired: ${f.repaired}`;
  else if (f.advice) line += ` (${f.advice})`;
  return line;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function formatSummary(r: CheckReport): string {
  const damaged = r.findings.filter((f) => f.kind === 'damage');
  const left = damaged.filter((f) => !f.repaired).length;
  const what = [plural(r.images, 'image'), plural(r.layers, 'layer'), plural(r.blobs, 'blob'), plural(r.cacheEntries, 'cache entry', 'cache entries'), plural(r.containers, 'container')].join(', ');
  const mode = r.full ? `full check (${humanSize(r.bytesRead)} hashed)` : 'fast check (sizes and presence)';
  const verdict = damaged.length === 0 ? 'no damage found' : left === 0 ? `${plural(damaged.length, 'damaged item')}, all repaired` : `${plural(left, 'damaged item')} left${r.repair ? '' : ' (--repair mends what an intact copy allows)'}`;
  return `${mode} of ${what}: ${verdict}`;
}

async function check(a: { full?: boolean; repair?: boolean }): Promise<void> {
  const report = await new System().check({ full: !!a.full, repair: !!a.repair });
  for (const f of report.findings) process.stdout.write(`${formatFinding(f)}\n`);
  process.stdout.write(`${formatSummary(report)}\n`);
  if (report.findings.some((f) => f.kind === 'damage' && !f.repaired)) process.exitCode = 1;
}

async function df(a: { format?: string; verbose?: boolean }): Promise<void> {
  const usage = await new System().usage();
  process.stdout.write(a.verbose ? dfVerboseText(usage, a.format) : formatRows(resolveFormat(a.format, DF_TABLE), dfRows(usage), DF_HEADINGS));
}

/** `info [--format T]`. */
export async function info(a: { format?: string }): Promise<void> {
  const i = await new System().info();
  process.stdout.write(a.format ? `${parseTemplate(resolveFormat(a.format, '{{json .}}')).render(i)}\n` : infoText(i));
}

/** `version [--format T]`. */
export function version(a: { format?: string }): void {
  const v = versionInfo(STRATA_VERSION, runcVersion());
  process.stdout.write(a.format ? `${parseTemplate(resolveFormat(a.format, '{{json .}}')).render(v)}\n` : versionText(v));
}

/** `--version`: one line, as `docker --version`. */
export function shortVersion(): void {
  process.stdout.write(`strata version ${STRATA_VERSION}\n`);
}

export function pruneText(r: SystemPruneResult): string {
  const section = (title: string, lines: string[]) => (lines.length ? `${title}:\n${lines.map((l) => `${l}\n`).join('')}\n` : '');
  return section('Deleted Containers', r.containers) + section('Deleted Networks', r.networks) + section('Deleted Volumes', r.volumes)
    + section('Deleted Images', r.images.map((i) => deleteLine(i, true))) + section('Deleted build cache objects', r.cacheEntries)
    + `Total reclaimed space: ${humanSize(r.reclaimed)}\n`;
}

interface PruneArgs { all?: boolean; volumes?: boolean; force?: boolean; filter?: string[] }

async function prune(a: PruneArgs): Promise<void> {
  const filters = (a.filter ?? []).map(String);
  // Refused before the question, as Docker's.
  parseSystemPruneFilters(filters, !!a.volumes);
  const what = ['all stopped containers', 'all networks not used by at least one container',
    ...(a.volumes ? ['all anonymous volumes not used by at least one container'] : []),
    a.all ? 'all images without at least one container associated to them' : 'all dangling images',
    a.all ? 'all build cache' : 'unused build cache'];
  // docker/cli's list: the label, label! and until filters, sorted.
  const shown = filters.filter((f) => /^(label|label!|until)=/.test(f)).sort();
  const filtered = shown.length ? `\n  Items to be pruned will be filtered with:\n${shown.map((f) => `  - ${f}\n`).join('')}` : '';
  if (!a.force && !(await confirm(`WARNING! This will remove:\n${what.map((w) => `  - ${w}\n`).join('')}${filtered}\nAre you sure you want to continue?`))) return;
  process.stdout.write(pruneText(await new System().prune({ all: !!a.all, volumes: !!a.volumes, filters })));
}

const formatFlag = (c: Argv) => c.option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' });

export const register: RegisterCommands = (cli: Argv) => cli
  .command('info', 'Display system-wide information', formatFlag, (a) => info(a as { format?: string }))
  .command('version', 'Show the strata version information', formatFlag, (a) => version(a as { format?: string }))
  .command('system', 'Manage strata', (y) => y
  .command('check', 'Verify the store: blobs, layers, images, cache entries, containers, leftovers', (c) => c
    .option('full', { type: 'boolean', describe: 'Hash every blob and rebuild every layer (default: sizes and presence)' })
    .option('repair', { type: 'boolean', describe: 'Re-make what an intact copy allows, drop what points at nothing, sweep leftovers' }),
  (a) => check(a as { full?: boolean; repair?: boolean }))
  .command('df', 'Show strata disk usage', (c) => c
    .option('format', { type: 'string', describe: 'Format output using a Go template' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'Show detailed information on space usage' }),
  (a) => df(a as { format?: string; verbose?: boolean }))
  .command('info', 'Display system-wide information', formatFlag, (a) => info(a as { format?: string }))
  .command('prune', 'Remove unused data', (c) => c
    .option('all', { alias: 'a', type: 'boolean', describe: 'Remove all unused images and build cache, not just dangling ones' })
    .option('volumes', { type: 'boolean', describe: 'Prune anonymous volumes' })
    .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' })
    .option('filter', { type: 'string', array: true, describe: 'Provide filter values (e.g. "label=<key>=<value>")' }),
  (a) => prune(a as PruneArgs))
  .demandCommand(1, 'a subcommand is required'));
