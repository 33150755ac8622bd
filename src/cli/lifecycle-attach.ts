// Attaching the CLI's stdio to a container's shim: `attach`, `start -a` of a running container,
// and `run`/`start -a` without -d for containers that need their shim: published ports, and an
// interactive terminal (`-it`), which the user may leave with the detach keys, as Docker's, so
// the container must already be held by something that outlives this process. The streams are
// the Containers service's (attach); the terminal's mode is ours.
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { StrataError } from '../errors.js';
import type { Containers } from '../engine/index.js';
import type { ContainerRecord } from '../store/index.js';

/** A stream that drops what it is given (an output `run -a` did not name). */
const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

/**
 * Puts our terminal in the mode attach needs. A container with a tty echoes and edits lines
 * itself: raw mode. Without one, keystrokes must still arrive one by one (for the detach keys)
 * and Ctrl-Q must not be eaten as XON, but Enter should stay a newline and typing stay
 * visible: `stty -icanon -ixon`, restored afterwards from `stty -g`.
 */
function terminalMode(containerTty: boolean): { restore: () => void } {
  if (containerTty) {
    process.stdin.setRawMode(true);
    return { restore: () => process.stdin.isTTY && process.stdin.setRawMode(false) };
  }
  const saved = spawnSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8' }).stdout.trim();
  spawnSync('stty', ['-icanon', '-ixon', 'min', '1'], { stdio: ['inherit', 'ignore', 'ignore'] });
  let restored = false;
  return {
    restore: () => {
      if (restored || !saved) return;
      restored = true;
      spawnSync('stty', [saved], { stdio: ['inherit', 'ignore', 'ignore'] });
    },
  };
}

/** Attaches our stdio to the container's shim; resolves with the exit code to leave with. */
export async function attachStdio(service: Containers, record: ContainerRecord, options: { stdin: boolean; detachKeys?: string; tty: boolean; streams?: Set<string> }): Promise<number> {
  const terminal = options.stdin && process.stdin.isTTY ? terminalMode(options.tty) : undefined;
  // `run -a STREAM`: the streams not named reach only the container's log.
  const shown = (name: 'stdout' | 'stderr') => (!options.streams || options.streams.has(name) ? process[name] : discard());
  try {
    const outcome = await service.attach(record, {
      stdin: options.stdin ? process.stdin : undefined,
      stdout: shown('stdout'),
      stderr: shown('stderr'),
      detachKeys: options.detachKeys,
      size: () => (process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined),
    });
    if (outcome.kind === 'detached') {
      terminal?.restore();
      process.stderr.write('read escape sequence\n');
      return 0;
    }
    return outcome.exitCode;
  } finally {
    terminal?.restore();
  }
}

/** Whether an attached run or start goes through the container's shim (see runAttachedViaShim). */
export function needsShim(record: ContainerRecord, interactive: boolean): boolean {
  const publishes = ((record.Strata.publish as string[] | undefined) ?? []).length > 0 || !!record.Strata.publishAll;
  if (publishes && record.HostConfig.NetworkMode === 'default') return true;
  // Ctrl-P Ctrl-Q leaves an `-it` container running: the CLI cannot be its parent.
  return record.Config.Tty && interactive && process.stdin.isTTY === true;
}

/**
 * `run` without -d for a container that needs its shim (published ports, `-it`,
 * --sig-proxy=false): the shim starts it once we are attached, so no output is missed; Ctrl-C /
 * SIGTERM stop the container, as with an attached Docker run, unless SIGPROXY is false: then
 * they end this process only (Node's default action, as the Docker client's) and the container
 * runs on; the detach keys leave it running. Resolves with the container's exit code (0 when
 * detached).
 */
export async function runAttachedViaShim(service: Containers, record: ContainerRecord, interactive: boolean, detachKeys = 'ctrl-p,ctrl-q', sigProxy = true, streams?: Set<string>): Promise<number> {
  let attached: Promise<number> | undefined;
  const forward = (signal: NodeJS.Signals) => spawnSync('runc', ['--root', service.runcRoot, 'kill', record.Id, signal], { stdio: 'ignore' });
  const signals: NodeJS.Signals[] = sigProxy ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : [];
  for (const s of signals) process.on(s, forward);
  try {
    await service.start(record, {
      attach: () => {
        attached = attachStdio(service, record, { stdin: interactive, tty: record.Config.Tty, detachKeys, streams });
      },
    });
    if (!attached) throw new StrataError(`attaching to container "${record.Id.slice(0, 12)}": the shim did not wait for us`);
    return await attached;
  } catch (err) {
    // Not started (a port in use...): --rm still removes it, as Docker does.
    if (record.HostConfig.AutoRemove) await service.remove(record, { force: true, volumes: true }).catch(() => undefined);
    throw err;
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}

/**
 * `start -a`/`-ai` when the shim has a part in it: a container already running under its shim
 * is attached to, one with published ports is started through the shim. Undefined when the
 * plain attached start (the CLI as the container's parent) applies.
 */
export async function attachedStartViaShim(service: Containers, record: ContainerRecord, interactive: boolean): Promise<number | undefined> {
  if (service.isRunning(record)) return attachStdio(service, record, { stdin: interactive && record.Config.OpenStdin, tty: record.Config.Tty });
  if (needsShim(record, interactive)) return runAttachedViaShim(service, record, interactive);
  return undefined;
}
