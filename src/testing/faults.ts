// Test helpers for crash safety: run the CLI until a failpoint kills it (src/failpoint.ts), then
// look at what it left: the store's integrity, leftovers, processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { strataCommand } from './cli.js';

/** Pids of processes whose command line is exactly `argv`. */
export function processesRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8') === want) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

export interface KillOptions {
  root: string;
  /** NAME or NAME:N (see src/failpoint.ts). */
  point: string;
  /** Kill the CLI's whole process group (it leads a group of its own), not only the CLI. */
  group?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: Buffer;
}

/**
 * Runs `strata ARGS...` in a process group of its own with the failpoint armed, and asserts that
 * it died there (SIGKILL): a point never reached fails the test. Returns what it printed.
 */
export async function runUntilKilled(args: string[], o: KillOptions): Promise<{ stdout: string; stderr: string }> {
  const { command, args: lead } = strataCommand();
  const env = { ...process.env, ...o.env, STRATA_ROOT: o.root, STRATA_FAILPOINT: `${o.point}${o.group ? ':group' : ''}` };
  const child = spawn(command, [...lead, ...args], { env, cwd: o.cwd, detached: true, stdio: [o.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  if (o.input) child.stdin!.end(o.input);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  assert.equal(signal, 'SIGKILL', `strata ${args[0]} was not killed at "${o.point}" (exit ${code}): ${stderr}`);
  return { stdout, stderr };
}
