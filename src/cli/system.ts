// `strata system check [--full] [--repair]`: the store verified against itself (the work is
// store/check.ts); one line per finding, then a summary. Exit 0 when nothing damaged is left,
// 1 when something is (repair could not mend it, or was not asked).
import type { Argv } from 'yargs';
import { sweepLeftovers } from '../runtime/index.js';
import { checkStore, openStore, type CheckReport, type Finding } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { humanSize } from './format/human.js';

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
  const store = await openStore();
  // Dead builds' containers and containers a killed commit left frozen (runtime's part of the
  // leftovers) come first: a build container still running may be writing into a scratch dir.
  const sweep = await sweepLeftovers(store.root, { dryRun: !a.repair });
  const report = await checkStore(store, { full: !!a.full, repair: !!a.repair });
  const done = a.repair ? 'removed' : undefined;
  for (const id of sweep.containers) report.findings.unshift({ kind: 'leftover', subject: `build container "${id}"`, problem: 'its build is gone', repaired: done });
  for (const id of sweep.thawed) report.findings.unshift({ kind: 'leftover', subject: `container "${id.slice(0, 12)}"`, problem: 'left paused by a commit that is gone', repaired: a.repair ? 'resumed' : undefined });
  for (const f of report.findings) process.stdout.write(`${formatFinding(f)}\n`);
  process.stdout.write(`${formatSummary(report)}\n`);
  if (report.findings.some((f) => f.kind === 'damage' && !f.repaired)) process.exitCode = 1;
}

export const register: RegisterCommands = (cli: Argv) => cli.command('system', 'Manage strata', (y) => y
  .command('check', 'Verify the store: blobs, layers, images, cache entries, containers, leftovers', (c) => c
    .option('full', { type: 'boolean', describe: 'Hash every blob and rebuild every layer (default: sizes and presence)' })
    .option('repair', { type: 'boolean', describe: 'Re-make what an intact copy allows, drop what points at nothing, sweep leftovers' }),
  (a) => check(a as { full?: boolean; repair?: boolean }))
  .demandCommand(1, 'a subcommand is required'));
