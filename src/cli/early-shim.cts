// The shim of a `run -d` / `-p` / `-it`, spawned by start.cjs before the run bundle loads, so
// that its Node start overlaps the command's own instead of following it. It waits on its stdin
// for "go DIR" (runtime/shim/client.ts says it once the container in DIR is prepared); at an EOF
// without it (the run failed, or this process died) it exits and removes its log. Until then
// its stderr is a log in the state root's tmp/ named after this process (`.tmp-PID.START-…`,
// what the store's sweep removes once that process is gone), which the run renames into the container's dir.
// STRATA_NO_EARLY_SHIM=1 turns this off (the shim is then spawned once the record is written).
import type childProcess = require('node:child_process');
import fs = require('node:fs');
import os = require('node:os');
import path = require('node:path');

/** The hand-off to the run code: the same shape as runtime/shim/early.ts's EarlyShim. */
interface EarlyShim {
  child: childProcess.ChildProcess;
  log: string;
  news(listen: (text: string) => void, end: () => void): void;
}

const EARLY_SHIM = Symbol.for('strata.earlyShim');

/** The state root as store/paths.ts finds it. */
function stateRoot(): string {
  const env = process.env;
  if (env.STRATA_ROOT) return path.resolve(env.STRATA_ROOT);
  if (process.getuid?.() === 0) return '/var/lib/strata';
  return path.join(env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'strata');
}

/** This process as the store names the owner of a temp entry: "PID.START" (store/owner.ts). */
function ownerStamp(): string {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    return `${process.pid}.${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return String(process.pid);
  }
}

/**
 * Whether `run ARGS` (the arguments after `run`) is likely to start a shim: -d, -p/-P, or -i
 * with -t, as flags or clusters of one-letter flags. Only a guess, cheap on purpose: a wrong
 * yes costs an idle shim that exits with this process, a wrong no the old, later spawn.
 */
export function wantsShim(args: string[]): boolean {
  let interactive = false;
  let tty = false;
  if (args.includes('--help') || args.includes('-h')) return false;
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--detach' || arg === '--publish-all' || arg.startsWith('--publish=') || arg === '--publish') return true;
    if (arg === '--interactive') interactive = true;
    else if (arg === '--tty') tty = true;
    else if (/^-[a-zA-Z]/.test(arg)) {
      // A cluster such as -dit or -p8080:80: boolean letters, maybe one that takes a value last.
      const letters = /^-([dit]*)([pP]?)/.exec(arg)!;
      if (letters[0].length === 1) continue;
      if (letters[1].includes('d') || letters[2]) return true;
      interactive ||= letters[1].includes('i');
      tty ||= letters[1].includes('t');
    }
    if (interactive && tty) return true;
  }
  return false;
}

/** The news pipe read from the spawn on (not later: it may close before the run listens). */
function newsOf(pipe: NodeJS.ReadableStream): EarlyShim['news'] {
  let text = '';
  let ended = false;
  let listener: { listen: (text: string) => void; end: () => void } | undefined;
  pipe.on('data', (d: Buffer) => {
    if (listener) listener.listen(d.toString());
    else text += d.toString();
  });
  const end = () => {
    if (ended) return;
    ended = true;
    listener?.end();
  };
  pipe.on('end', end);
  pipe.on('error', end);
  return (listen, onEnd) => {
    listener = { listen, end: onEnd };
    if (text) listen(text);
    if (ended) onEnd();
  };
}

/** Spawns the waiting shim for `run ARGS` when it will likely need one; leaves it on globalThis. */
export function spawnEarlyShim(args: string[]): void {
  if (process.env.STRATA_NO_EARLY_SHIM === '1' || !wantsShim(args)) return;
  const log = path.join(stateRoot(), 'tmp', `.tmp-${ownerStamp()}-shim.log`);
  let err: number;
  try {
    err = fs.openSync(log, 'a');
  } catch {
    return; // no state root yet: the run will say why, or spawn its shim later
  }
  // Without the CA bundle (see bin/strata) and the failpoint (the command's, not the shim's).
  const { NODE_EXTRA_CA_CERTS: _ca, STRATA_DEFERRED_CA_CERTS: _deferred, STRATA_FAILPOINT: _fp, ...env } = process.env;
  if (env.STRATA_TIMING) env.STRATA_TIMING_ORIGIN ??= String(performance.timeOrigin);
  let child: childProcess.ChildProcess;
  try {
    // Required here: the other commands need not load it first thing.
    const { spawn } = require('node:child_process') as typeof childProcess;
    child = spawn(process.execPath, [...process.execArgv, path.join(__dirname, '..', 'runtime', 'shim', 'start.cjs')], {
      detached: true,
      stdio: ['pipe', 'ignore', err, 'pipe'],
      cwd: path.join(__dirname, '..'),
      env: { ...env, STRATA_SHIM_EARLY_LOG: log },
    });
  } catch {
    fs.rmSync(log, { force: true });
    return;
  } finally {
    fs.closeSync(err);
  }
  const stdin = child.stdin as unknown as NodeJS.WritableStream & { unref(): void };
  const pipe = child.stdio[3] as unknown as NodeJS.ReadableStream & { unref(): void };
  stdin.on('error', () => undefined);
  // Until the run takes it, it keeps nothing alive: a command that ends without it (help, an
  // error) ends as before, and the shim sees its stdin close.
  child.unref();
  stdin.unref();
  pipe.unref();
  const early: EarlyShim = { child, log, news: newsOf(pipe) };
  (globalThis as Record<symbol, unknown>)[EARLY_SHIM] = early;
  if (env.STRATA_TIMING) process.stderr.write(`timing: early shim spawned (pid ${child.pid}) ${performance.now().toFixed(1)} ms\n`);
}
