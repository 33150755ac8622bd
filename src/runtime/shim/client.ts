// The CLI's side of a shim: starting one for a container and waiting for its news.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../errors.js';
import type { ShimNews } from './shim.js';
import { timing, timingOrigin } from '../../timing.js';
import { EARLY_PORTS_ENV, SHIM_LOG } from './state.js';
import { tempName } from '../../store/index.js';
import { LAUNCHER_ENV } from './launched-runc.js';
import { spawnLauncher, type Launcher } from './runc-launcher.js';
import { failpoint } from '../../failpoint.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The shim makes no TLS connection, and Node 20 parses the NODE_EXTRA_CA_CERTS file at every
 * start-up (see bin/strata): the shim starts without it.
 */
function withoutExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return rest;
}

/**
 * The shim's environment: ours without the CA file and without the entries by which a starter
 * hands a shim its early ports and its launcher's fds (only the starter that made them sets
 * them: one left in a user's environment would make a shim take fds it was never given).
 */
function shimEnvironment(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [EARLY_PORTS_ENV]: _ports, [LAUNCHER_ENV]: _launcher, ...rest } = withoutExtraCaCerts(process.env);
  return { ...rest, ...timingOrigin(), ...extra };
}

export interface StartShimOptions {
  /** Called once the shim waits for an attach before starting the container. */
  attach?: () => void;
  /** Called once the shim is told "go": the starter's own work is done, and only waits from then on. */
  onGo?: () => void;
  /**
   * Work done while the shim's Node process starts: writes the shim's configuration (and may
   * prepare the first start, see detached.ts). Resolves with what to do once the shim has
   * given its news (let the namespace's holder go), if anything, and the command line of the
   * prepared first start's runc (runcRunArgs), which a launcher may start before the shim has loaded.
   */
  prepare: () => Promise<{ letGo?: () => void; runtimeArgs?: string[] }>;
  /**
   * Claims the container for the shim (its pid) before anything is written in DIR (start-claim.ts):
   * false when another start has it running already (then nothing is done); UNDO when the start
   * fails before the shim is told to go.
   */
  claim: (shimPid: number) => Promise<{ undo: () => void } | false>;
}

/**
 * A shim spawned before its container exists (`run -d`): its Node process starts while the
 * command resolves the image, creates the record and prepares the start, instead of after. It
 * waits for "go DIR" on stdin; its stderr is a temp file of the state root's tmp/ until
 * startShim() moves it to the container's shim.log (the descriptor follows the rename), swept
 * as a dead process's temp should the command die first.
 */
export interface EarlyShim {
  /** The shim process, its temp log and its launcher if any, for startShim(); once: later calls get undefined. */
  take(): { child: ChildProcess; log: string; launcher?: Launcher } | undefined;
  /** No container for it after all (unless taken): it exits at the end of its stdin, its log is removed. */
  cancel(): void;
}

function spawnShim(argv: string[], stderr: number, env: NodeJS.ProcessEnv = {}, launcher?: Launcher): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, path.join(here, ext === '.ts' ? 'main.ts' : 'start.cjs'), ...argv], {
    detached: true,
    stdio: ['pipe', 'ignore', stderr, 'pipe', ...(launcher?.shimEnds ?? [])],
    // Under tsx, `--import tsx` resolves from the package root.
    cwd: path.join(here, '..', '..'),
    env: shimEnvironment(env),
  });
}

/**
 * Spawns a shim for a container of the state root ROOT that is yet to be created (see EarlyShim).
 * PUBLISH, the `-p` values, it binds while it waits for "go" (early-ports.ts). LAUNCH: with a
 * launcher (runc-launcher.ts), for a run whose first start the command prepares and whose runc then
 * needs no stdin of the shim's nor a terminal (`run -d` without -i or -t).
 */
export function spawnEarlyShim(root: string, publish: string[] = [], options: { launch?: boolean } = {}): EarlyShim {
  const tmp = path.join(root, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  const log = tempName(tmp, '-shim.log');
  const err = fs.openSync(log, 'a');
  let child: ChildProcess;
  // One that could not be spawned is no launcher: the shim then runs runc itself.
  const spawnedLauncher = options.launch ? spawnLauncher(withoutExtraCaCerts(process.env)) : undefined;
  const launcher = spawnedLauncher?.child.pid ? spawnedLauncher : undefined;
  if (spawnedLauncher && !launcher) spawnedLauncher.handedOver();
  try {
    const env = {
      ...(publish.length > 0 ? { [EARLY_PORTS_ENV]: JSON.stringify(publish) } : {}),
      ...(launcher ? { [LAUNCHER_ENV]: String(launcher.child.pid) } : {}),
    };
    child = spawnShim([], err, env, launcher);
  } catch (e) {
    launcher?.cancel();
    throw e;
  } finally {
    fs.closeSync(err);
    launcher?.handedOver();
  }
  timing('shim spawned');
  child.stdin!.on('error', () => undefined);
  let taken = false;
  return {
    take() {
      if (taken) return undefined;
      taken = true;
      return { child, log, launcher };
    },
    cancel() {
      if (taken) return;
      taken = true;
      launcher?.cancel();
      endUnstarted(child);
      fs.rmSync(log, { force: true });
    },
  };
}

/** Lets a shim that was never told "go" exit (it does at the end of its stdin). */
function endUnstarted(child: ChildProcess): void {
  child.stdin!.end();
  child.unref();
  (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
}

/**
 * Starts the shim for the container in DIR and resolves once the container runs; throws the
 * start failure (with the container's 125/126/127) otherwise. The shim is detached: its own
 * session, stdout on /dev/null, stderr to shim.log, stdin a pipe on which it waits for "go"
 * (its configuration written) before it reads its configuration; at an EOF without it (the
 * preparation failed, or this process died) it exits without starting anything. EARLY is a
 * shim spawned before the container was created (spawnEarlyShim), used instead of a new one.
 */
export async function startShim(dir: string, options: StartShimOptions, early?: EarlyShim): Promise<void> {
  let child: ChildProcess;
  // A directory the go line cannot carry (a newline in the state root's path) gets a shim of its own.
  const spawned = dir.includes('\n') ? void early?.cancel() : early?.take();
  if (spawned) {
    child = spawned.child;
  } else {
    let err: number;
    try {
      err = fs.openSync(path.join(dir, SHIM_LOG), 'a');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StrataError(`no such container: "${path.basename(dir)}"`);
      throw e;
    }
    try {
      child = spawnShim([dir], err);
    } finally {
      fs.closeSync(err);
    }
    timing('shim spawned');
    child.stdin!.on('error', () => undefined);
  }
  const launcher = spawned?.launcher;
  let claim: { undo: () => void } | false = false;
  try {
    claim = await options.claim(child.pid!);
  } finally {
    if (!claim) {
      launcher?.cancel();
      endUnstarted(child);
      if (spawned) fs.rmSync(spawned.log, { force: true });
    }
  }
  if (!claim) return;
  let prepared: { letGo?: () => void; runtimeArgs?: string[] };
  try {
    // Its stderr, a temp file until now, becomes the container's shim.log.
    if (spawned) fs.renameSync(spawned.log, path.join(dir, SHIM_LOG));
    prepared = await options.prepare();
  } catch (e) {
    claim.undo();
    launcher?.cancel();
    endUnstarted(child);
    throw e;
  }
  const { letGo, runtimeArgs } = prepared;
  const launch = launcher && runtimeArgs && !runtimeArgs.some((a) => a.includes('\n')) ? runtimeArgs : undefined;
  // A shim spawned early learns its container's directory here; told that the first start was
  // launched before the launcher is told to launch it (runc-launcher.ts: a kill -9 between leaves nothing running).
  child.stdin!.end(`${launch ? 'launched\n' : ''}${spawned ? `go ${dir}` : 'go'}\n`);
  if (launch) {
    failpoint('start.shim-told');
    launcher!.launch(launch);
    timing('runc launched');
  } else {
    launcher?.cancel();
  }
  options.onGo?.();
  try {
    await newsOf(child, dir, options.attach);
  } finally {
    letGo?.();
  }
}

async function newsOf(child: ChildProcess, dir: string, attach: (() => void) | undefined): Promise<void> {
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  // Lines: an optional {"listening":true} (attach now), then the news.
  const text = await new Promise<string>((resolve) => {
    let buf = '';
    pipe.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0 && buf.startsWith('{"listening":true}')) {
        buf = buf.slice(nl + 1);
        attach?.();
      }
    });
    pipe.on('end', () => resolve(buf));
    pipe.on('error', () => resolve(buf));
  });
  child.unref();
  timing('shim news');
  let news: ShimNews;
  try {
    news = JSON.parse(text.trim()) as ShimNews;
  } catch {
    const log = fs.readFileSync(path.join(dir, SHIM_LOG), 'utf8').trim().split('\n').pop() ?? '';
    throw new StrataError(`starting the container's shim: ${log || 'it exited without a word'}`);
  }
  if (!news.ok) throw new StrataError(news.error, news.exitCode);
}
