// Test helpers for running the real CLI as a user would, against a private state root.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { teardownRoot } from '../runtime/net/teardown.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const underTsx = import.meta.url.endsWith('.ts');

/**
 * The command (and leading args) that starts the strata CLI: from dist/, its entry start.cjs as
 * bin/strata runs it (so `run` goes through its bundle), or, under tsx, src/'s main.ts.
 */
export function strataCommand(): { command: string; args: string[] } {
  if (underTsx) return { command: process.execPath, args: ['--import', 'tsx', '--', path.join(here, '..', 'cli', 'main.ts')] };
  // "--" as bin/strata: Node 20 would check a later --env-file (a `run` flag) itself.
  return { command: process.execPath, args: ['--', path.join(here, '..', 'cli', 'start.cjs')] };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * The registries config every strata a test starts reads unless the test gives its own: it
 * blocks every registry but loopback ones, so a missing image never sends a test to Docker Hub.
 */
export const OFFLINE = { STRATA_REGISTRIES_CONFIG: path.resolve(here, '..', '..', 'testdata', 'registry', 'offline.json') };

/** Runs `strata ARGS...` to completion. */
export function runStrata(args: string[], options: { root?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const { command, args: lead } = strataCommand();
  const env: NodeJS.ProcessEnv = { ...OFFLINE, ...process.env, ...options.env };
  if (options.root) env.STRATA_ROOT = options.root;
  const result = spawnSync(command, [...lead, ...args], {
    env,
    cwd: options.cwd,
    // spawnSync reads a string input in the output encoding ('buffer'), so hand it bytes.
    input: typeof options.input === 'string' ? Buffer.from(options.input) : options.input,
    encoding: 'buffer',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    status: result.status ?? (result.signal ? 128 : 1),
    stdout: result.stdout?.toString('utf8') ?? '',
    stderr: result.stderr?.toString('utf8') ?? '',
  };
}

/** Starts `strata ARGS...` without waiting (for detached flows and signals). */
export function spawnStrata(args: string[], options: { root?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const { command, args: lead } = strataCommand();
  const env: NodeJS.ProcessEnv = { ...OFFLINE, ...process.env, ...options.env };
  if (options.root) env.STRATA_ROOT = options.root;
  return spawn(command, [...lead, ...args], { env, cwd: options.cwd, stdio: 'pipe' });
}

/**
 * A fresh temporary directory, removed by the returned function, with the kernel objects of
 * any state root in it (network bridges, nftables table, DNS responders).
 */
export function tempDir(prefix = 'strata-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      teardownRoot(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The repository root (for testdata/). */
export const repoRoot = path.resolve(here, '..', '..');
export const testdataDir = path.join(repoRoot, 'testdata');
