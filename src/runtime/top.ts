// `top CONTAINER [ps OPTIONS]` as Docker's daemon does it: without options, `ps -ef`'s columns
// for the container's processes (read from /proc, shim/stats.ts); with options, the host's `ps`
// run with them and `-q PIDS` (again without -q when ps refuses the mix, as for `f`), its rows
// kept when their PID column is one of the container's.
import { spawnSync } from 'node:child_process';
import { StrataError } from '../errors.js';
import { topRows } from './shim/stats.js';

export interface TopResult {
  titles: string[];
  processes: string[][];
}

const DEFAULT_TITLES = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];

/** Docker's validatePSArgs: a column may be renamed (pid=X) but nothing else may be named PID. */
function validate(args: string[]): void {
  for (const m of ` ${args.join(' ')}`.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw new StrataError(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/** Docker's parsePSOutput: the titles, then rows whose PID is one of PIDS (the last column keeps its spaces). */
export function parsePsOutput(output: string, pids: number[]): TopResult {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new StrataError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < titles.length) continue;
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (wanted.has(Number(row[pidIndex]))) processes.push(row);
  }
  return { titles, processes };
}

/** The container's processes (host PIDS) as `top` shows them, with ps options or without. */
export function topProcesses(pids: number[], psArgs: string[] = []): TopResult {
  if (psArgs.length === 0) return { titles: DEFAULT_TITLES, processes: topRows(pids) };
  validate(psArgs);
  const run = (args: string[]) => spawnSync('ps', args, { encoding: 'utf8' });
  let result = run([...psArgs, '-q', pids.join(',')]);
  if (result.status !== 0) result = run(psArgs);
  if (result.error) throw new StrataError(`running ps: ${result.error.message}`);
  if (result.status !== 0) throw new StrataError(`ps: ${(result.stderr ?? '').trim().split('\n')[0] || `exit status ${result.status}`}`);
  return parsePsOutput(result.stdout, pids);
}
