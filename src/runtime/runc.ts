// The ContainerRunner on runc: one `runc run` (foreground) per container. runc mounts the
// overlay root itself inside the container's mount namespace, relays the terminal for `-t`,
// forwards the signals it receives, and deletes its own state when the process exits, so the
// only other work here is the bundle before and a directory removal after.
import { execFile, spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { StrataError } from '../errors.js';
import { prepareBundle } from './bundle.js';
import { initPid, InterruptPolicy } from './interrupt.js';
import { exitCodeForRuntimeError } from './lookpath.js';
import { timing } from '../timing.js';
import type { ContainerRunner, InputSource, OutputTarget, RunOptions, RunResult, RunSpec } from './types.js';
import { randomBytes } from '../random.js';
import { scratchName } from '../store/index.js';
import { buildContainerId } from './leftovers.js';
import { ContainerWatchdog } from './watchdog.js';

export interface RuncRunnerOptions {
  /** runc's state directory (`runc --root`), e.g. <stateRoot>/runc. */
  runcRoot: string;
  /** The runc binary; "runc" on PATH by default. */
  runc?: string;
  /**
   * Where temporary bundles are made (default: the system's temp dir). Under the state root
   * (e.g. store/leftovers.ts buildScratchDir), the bundle of a killed run is swept by a later command.
   */
  tmpDir?: string;
  /**
   * Containers die with this process (a build's steps): a watchdog deletes the container if this
   * process is killed while it runs (watchdog.ts), and its ID names this process
   * (buildContainerId), so that a later sweep finds it should the watchdog be gone too.
   */
  diesWithCaller?: boolean;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function stdinOption(input: InputSource | undefined): 'inherit' | 'ignore' | 'pipe' {
  if (input === 'inherit') return 'inherit';
  if (input === undefined || input === 'null') return 'ignore';
  return 'pipe';
}

function outputOption(out: OutputTarget | undefined): 'inherit' | 'ignore' | 'pipe' {
  if (out === undefined || out === 'inherit') return 'inherit';
  if (out === 'ignore') return 'ignore';
  return 'pipe';
}

/**
 * runc's stderr is always a pipe (unless ignored): runc prints its fatal start error there, on
 * the container's stderr, and withoutFatalLine must see it also when that is our own (`run --rm`,
 * a tty: nothing teed), or the error would show twice.
 */
const stderrOption = (out: OutputTarget | undefined): 'ignore' | 'pipe' => (out === 'ignore' ? 'ignore' : 'pipe');

/** Connects runc's stdio to the spec's streams; resolves once all of its output is passed on. */
function connectStdio(child: ChildProcess, spec: RunSpec, logFile: string): Promise<void> {
  const input = spec.stdin;
  if (child.stdin && input !== undefined && input !== 'inherit' && input !== 'null') {
    child.stdin.on('error', () => {}); // the container may exit without reading everything
    if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  }
  if (child.stdout && typeof spec.stdout === 'object') child.stdout.pipe(spec.stdout, { end: false });
  if (!child.stderr) return Promise.resolve();
  const filter = withoutFatalLine(logFile);
  const to = typeof spec.stderr === 'object' ? spec.stderr : process.stderr;
  child.stderr.pipe(filter).pipe(to, { end: false });
  // Our own stderr's reader gone (`2> >(head -1)`): what the container still writes there is
  // dropped, as a daemon would; it must not end this process, which removes a --rm container.
  const gone = () => {
    filter.unpipe(to);
    filter.resume();
  };
  if (to === process.stderr) to.once('error', gone);
  return new Promise<void>((resolve) => filter.once('end', resolve).once('error', () => resolve())).then(() => {
    to.off('error', gone);
  });
}

const FATAL_LINE = /^runc (run|create) failed: /;
/** How long a chunk that looks like runc's fatal line is held before it is taken for the container's. */
const FATAL_HOLD_MS = 500;

/**
 * runc's stderr is the container's, and runc prints its fatal start error there too ("runc run
 * failed: ..."), which we report ourselves (once, our way). A chunk that starts so is held: runc
 * exits right after printing it, so when it ends the output, the line its log names as the error
 * is dropped; when more output follows or FATAL_HOLD_MS pass first, it was the container's own
 * and is passed on.
 */
function withoutFatalLine(logFile: string): Transform {
  let held: Buffer | undefined;
  let timer: NodeJS.Timeout | undefined;
  const filter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      clearTimeout(timer);
      const before = held;
      held = FATAL_LINE.test(chunk.toString('latin1')) ? chunk : undefined;
      // Nor while the container prints nothing more: runc would have ended by then.
      if (held) timer = setTimeout(() => (held && filter.push(held), (held = undefined)), FATAL_HOLD_MS);
      const out = held ? before : before ? Buffer.concat([before, chunk]) : chunk;
      done(null, out);
    },
    flush(done) {
      clearTimeout(timer);
      const last = held;
      if (!last) return done();
      void runtimeError(logFile).then((failure) => {
        const text = last.toString();
        const kept = failure === undefined ? text : text.split(/(?<=\n)/).filter((line) => line.replace(/\n$/, '') !== failure).join('');
        done(null, kept ? Buffer.from(kept) : undefined);
      }, () => done(null, last));
    },
  });
  return filter;
}

/** runc's fatal start error from its JSON log, if it failed to start the container. */
async function runtimeError(logFile: string): Promise<string | undefined> {
  const text = await fs.readFile(logFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      // Only runc's own fatal error (it exits right after) says the container did not start;
      // other error lines (a cgroup it could not remove...) come with the container's exit code.
      if ((entry.level === 'error' || entry.level === 'fatal') && /^runc (run|create) failed: /.test(entry.msg ?? '')) return entry.msg;
    } catch {
      // not JSON: runc wrote it before its logger was set up
      if (line.trim()) return line.trim();
    }
  }
  return undefined;
}

/** Turns runc's "runc run failed: unable to start container process: ..." into our wording. */
function describeRuntimeError(msg: string): string {
  return msg.replace(/^runc (run|create) failed: /, '');
}

/**
 * Reports the pid in runc's --pid-file once, when runc has written it (it renames the file into
 * place): told by inotify on the bundle dir rather than by reading the file every few ms while
 * runc starts (a failed read is an exception with its stack, some 17 per start). Polls where
 * inotify cannot be had (no watches left).
 */
function watchPidFile(file: string, onStarted: (pid: number) => void): () => void {
  let done = false;
  const check = () => {
    if (done) return;
    let text: string;
    try {
      text = fsSync.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const pid = Number(text.trim());
    if (!(pid > 0)) return;
    stop();
    onStarted(pid);
  };
  let stop: () => void;
  try {
    const name = path.basename(file);
    const watcher = fsSync.watch(path.dirname(file), (_event, changed) => changed === name && check());
    watcher.on('error', () => undefined);
    stop = () => {
      done = true;
      watcher.close();
    };
  } catch {
    const timer = setInterval(check, 5);
    stop = () => {
      done = true;
      clearInterval(timer);
    };
  }
  check();
  return stop;
}

/**
 * The command line of `runc run` for the bundle in DIR (its log and, with PIDFILE, its --pid-file
 * there), as RuncRunner runs it and as a shim's starter has it launched (shim/runc-launcher.ts).
 */
export function runcRunArgs(runcRoot: string, dir: string, id: string, pidFile: boolean): string[] {
  const args = ['--root', runcRoot, '--log', path.join(dir, 'runc.log'), '--log-format', 'json', 'run', '--bundle', dir];
  if (pidFile) args.push('--pid-file', path.join(dir, 'init.pid'));
  return [...args, id];
}

export class RuncRunner implements ContainerRunner {
  readonly #runc: string;
  constructor(private readonly options: RuncRunnerOptions) {
    this.#runc = options.runc ?? 'runc';
  }

  async run(spec: RunSpec, options: RunOptions = {}): Promise<RunResult> {
    const id = spec.id ?? (this.options.diesWithCaller ? buildContainerId() : randomBytes(32).toString('hex'));
    if (!ID_PATTERN.test(id)) throw new StrataError(`invalid container ID "${id}"`);
    if (options.signal?.aborted) throw new StrataError('container run aborted');
    const ownBundle = spec.bundleDir === undefined;
    const dir = spec.bundleDir ?? (await this.#makeBundleDir());
    const watchdog = this.options.diesWithCaller ? ContainerWatchdog.start(this.#runc, this.options.runcRoot, id) : undefined;
    try {
      if (!(options.prepared && !ownBundle)) await prepareBundle(spec, id, dir);
      timing('bundle written');
      await options.beforeStart;
      if (options.beforeStart) timing('network ready');
      if (options.signal?.aborted) throw new StrataError('container run aborted');
      return await this.#runRunc(spec, id, dir, options, watchdog);
    } finally {
      watchdog?.release();
      if (ownBundle) await fs.rm(dir, { recursive: true, force: true });
      else await Promise.all(['runc.log', 'init.pid'].map((f) => fs.rm(path.join(dir, f), { force: true })));
    }
  }

  async #makeBundleDir(): Promise<string> {
    if (!this.options.tmpDir) return fs.mkdtemp(path.join(os.tmpdir(), 'strata-bundle-'));
    await fs.mkdir(this.options.tmpDir, { recursive: true });
    return fs.mkdtemp(scratchName(this.options.tmpDir, 'bundle-'));
  }

  async #runRunc(spec: RunSpec, id: string, dir: string, options: RunOptions, watchdog: ContainerWatchdog | undefined): Promise<RunResult> {
    const logFile = path.join(dir, 'runc.log');
    const pidFile = path.join(dir, 'init.pid');
    // One a killed run left would be taken for this run's (an adopted run's starter removed it).
    if (options.onStarted && !options.adopted) fsSync.rmSync(pidFile, { force: true });
    const args = runcRunArgs(this.options.runcRoot, dir, id, Boolean(options.onStarted));
    const stdio: StdioOptions = [stdinOption(spec.stdin), outputOption(spec.stdout), stderrOption(spec.stderr)];
    // Output straight to our own stdout (stderr is a pipe, see stderrOption): the namespace's
    // holder may become runc, its stderr pipe then runc's. Not with a net.* sysctl: runc refuses
    // those when the container's network namespace is its own (it takes that for the host's),
    // and the holder's runc runs in it.
    const netSysctl = Object.keys(spec.sysctl ?? {}).some((k) => k.startsWith('net.'));
    const launchable = !spec.terminal && !netSysctl && stdio[0] !== 'pipe' && stdio[1] === 'inherit' && stdio[2] === 'pipe';
    const launched = options.adopted ?? (launchable ? options.launch?.([this.#runc, ...args], stdio[0] === 'inherit' ? 'inherit' : 'null') : undefined);
    // With a terminal, runc must stay in our (foreground) process group to own the tty; without
    // one it gets its own, so a Ctrl-C reaches the container once, through the handler below.
    const child = launched ?? spawn(this.#runc, args, { stdio, detached: !spec.terminal });
    timing(options.adopted ? 'runc adopted' : launched ? 'runc launched' : 'runc spawned');
    if (child.pid !== undefined) watchdog?.runtimeStarted(child.pid);
    // runc may not have created the container yet when the abort comes: keep killing until it is gone.
    let killer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      const kill = () => execFile(this.#runc, ['--root', this.options.runcRoot, 'kill', id, 'KILL'], () => {});
      kill();
      killer ??= setInterval(kill, 100);
    };
    // Ctrl-C or SIGTERM ends a container whose init would ignore it (interrupt.ts); others get it.
    const interrupts = options.forwardSignals ? new InterruptPolicy(() => initPid(this.#runc, this.options.runcRoot, id)) : undefined;
    const forward = (signal: NodeJS.Signals) => (interrupts?.ends(signal) ? onAbort() : child.kill(signal));
    // With a terminal, Ctrl-C reaches the container as a byte through the pty, not as our SIGINT.
    const signals: NodeJS.Signals[] = !options.forwardSignals ? [] : spec.terminal ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    const unwatch = options.onStarted ? watchPidFile(pidFile, options.onStarted) : undefined;
    try {
      const outputDone = connectStdio(child, spec, logFile);
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once('error', (err) => reject(new StrataError(`starting runc: ${err.message}`)));
        if (launched) options.onSpawn?.(child.pid!);
        else child.once('spawn', () => child.pid !== undefined && options.onSpawn?.(child.pid));
        child.once('close', (code, signal) => resolve({ code, signal }));
      });
      await outputDone;
      timing('runc exited');
      if (exit.code === null) {
        // runc itself was killed: the container may still exist.
        this.forceDelete(id);
        return { exitCode: 128 + (os.constants.signals[exit.signal ?? 'SIGKILL'] ?? 9) };
      }
      // An adopted run's status comes from a shell, which says 128+N for a runc killed by N as
      // for a container killed by N: the container may still exist (its deletion harms nothing).
      if (options.adopted && exit.code > 128) this.forceDelete(id);
      // Ended by a signal we received: exit 128 + its number, as the process would have.
      const interrupted = interrupts?.exitCode();
      if (interrupted !== undefined && exit.code !== 0) return { exitCode: interrupted };
      // Killed on abort, possibly before it had started: that is the kill's outcome, not a failure.
      if (options.signal?.aborted && exit.code !== 0) return { exitCode: 137 };
      if (exit.code !== 0) {
        const failure = await runtimeError(logFile);
        if (failure) throw new StrataError(describeRuntimeError(failure), exitCodeForRuntimeError(failure));
      }
      return { exitCode: exit.code };
    } finally {
      unwatch?.();
      if (killer) clearInterval(killer);
      for (const s of signals) process.off(s, forward);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Sends a signal to the container's init process (`runc kill`). */
  kill(id: string, signal = 'KILL'): void {
    spawnSync(this.#runc, ['--root', this.options.runcRoot, 'kill', id, signal], { stdio: 'ignore' });
  }

  /** Removes the container from runc whatever its state (`runc delete -f`). */
  forceDelete(id: string): void {
    spawnSync(this.#runc, ['--root', this.options.runcRoot, 'delete', '-f', id], { stdio: 'ignore' });
  }
}
