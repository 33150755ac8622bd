// `system check`: the store verified against itself (store/check.ts), after the runtime's part of
// what killed commands left (runtime's sweepLeftovers: dead builds' containers, volumes a killed
// removal moved aside, --rm containers of killed runs, ...), each of those a finding of the same
// report: removed or mended with `repair`, only named without it.
import { sweepLeftovers } from '../runtime/index.js';
import { checkStore, openStore, type CheckReport, type Finding } from '../store/index.js';

export type { CheckReport, Finding, FindingKind } from '../store/index.js';

export async function checkSystem(root: string, options: { full?: boolean; repair?: boolean } = {}): Promise<CheckReport> {
  const store = await openStore(root);
  const repair = !!options.repair;
  // A build container still running may be writing into a scratch dir: swept first.
  const sweep = await sweepLeftovers(store.root, { dryRun: !repair });
  const report = await checkStore(store, { full: !!options.full, repair });
  const done = repair ? 'removed' : undefined;
  // Each put before the store's findings, as the command has always printed them (the last kind first).
  const left = (subject: string, problem: string, repaired: string | undefined, advice?: string) =>
    report.findings.unshift({ kind: 'leftover', subject, problem, ...(repaired ? { repaired } : {}), ...(advice ? { advice } : {}) } satisfies Finding);
  for (const id of sweep.containers) left(`build container "${id}"`, 'its build is gone', done);
  for (const p of sweep.volumes.dropped) left(`"${p}"`, 'a volume whose removal was killed after it decided to delete it', done);
  for (const p of sweep.volumes.temps) left(`"${p}"`, 'a volume whose creation was killed before it was put in place', done);
  for (const name of sweep.volumes.restored) left(`volume "${name}"`, 'moved aside by a removal that was killed before it decided', repair ? 'put back under its name' : undefined);
  for (const k of sweep.volumes.kept) left(`"${k.path}"`, `volume "${k.name}" moved aside by a removal that was killed; not put back: ${k.why}`, undefined, 'its files are kept there: copy what you need, then delete the directory');
  for (const p of sweep.claimTemps) left(`"${p}"`, 'a temp file of a subnet claim, left by a writer that is gone', done);
  for (const pid of sweep.helpers) left(`process ${pid}`, 'a helper (ssh-agent) of a build that is gone', repair ? 'ended' : undefined);
  for (const id of sweep.autoRemoved) left(`container "${id.slice(0, 12)}"`, 'a --rm container whose run was killed before it removed it', done);
  for (const id of sweep.thawed) left(`container "${id.slice(0, 12)}"`, 'left paused by a commit or cp that is gone', repair ? 'resumed' : undefined);
  return report;
}
