// What `stop`, `kill`, `pause`, `unpause` and `wait` do to a container that a shim (or, when
// the shim has died, only runc) runs. Signals go through `runc kill`; the shim sees the exit
// and records it; we wait on shim.json. A container left without a shim is finished here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { StrataError } from '../../errors.js';
import { attachToShim } from '../attach.js';
import { signalByName } from '../signals.js';
import { shortSocketPath } from './hub.js';
import { ATTACH_SOCKET, readRuntimeStatus, RESTART_MARKER, runcState, shimAlive, STOP_MARKER, writeShimStatus, type ShimStatus } from './state.js';

export interface ContainerHandle {
  id: string;
  /** The container's dir (shim.json, shim-config.json, the log). */
  dir: string;
  runcRoot: string;
}

function runc(h: ContainerHandle, args: string[]): { ok: boolean; stderr: string } {
  const r = spawnSync('runc', ['--root', h.runcRoot, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: (r.stderr ?? '').trim() };
}

export function isLive(status: ShimStatus | undefined): boolean {
  return !!status && (status.state === 'running' || status.state === 'paused' || status.state === 'starting' || status.state === 'restarting');
}

/**
 * Normalises a signal ("TERM", "SIGTERM", "15", "SIGRTMIN+3") to runc's form, refusing unknown
 * ones: a standard name as SIGNAME, a real-time one or an alias (SIGIOT, SIGCLD) as its number.
 */
export function parseSignal(text: string): string {
  const upper = text.toUpperCase();
  if (/^\d+$/.test(upper)) {
    const n = Number(upper);
    if (n < 1 || n > 64) throw new StrataError(`invalid signal: "${text}"`);
    return upper;
  }
  const n = signalByName(upper);
  if (n === undefined) throw new StrataError(`invalid signal: "${text}"`);
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return RUNC_NAMES.has(name) ? name : String(n);
}

/** The names runc's kill takes (golang.org/x/sys/unix's signal list: one name per number). */
const RUNC_NAMES = new Set(Object.keys(os.constants.signals).filter((k) => !['SIGIOT', 'SIGPOLL'].includes(k)));

/** Polls shim.json (and runc) until the container is no longer live, or the time is up. */
export async function waitForExit(h: ContainerHandle, timeoutMs = Infinity): Promise<ShimStatus | undefined> {
  return pollStatus(h, timeoutMs, (status) => !isLive(status) || status?.state === 'restarting');
}

/**
 * The exit code of a --rm container that a shim runs, from the exit frame of its attach socket:
 * its status goes with it once it has exited, but the shim removes it only after its attach
 * clients have that frame. Undefined when there is no shim to ask (it has not started, or has
 * already gone) or it closed without a code.
 */
export async function exitCodeFromShim(h: ContainerHandle): Promise<number | undefined> {
  if (!isLive(readRuntimeStatus(h.dir, h.runcRoot, h.id))) return undefined;
  const sock = shortSocketPath(h.dir, ATTACH_SOCKET);
  const discard = () => new Writable({ write: (_chunk, _enc, done) => done() });
  try {
    const outcome = await attachToShim({ socketPath: sock.path, stdout: discard(), stderr: discard() });
    return outcome.kind === 'exited' ? outcome.exitCode : undefined;
  } catch {
    return undefined;
  } finally {
    sock.close();
  }
}

/** Polls until the container is neither running nor restarting (or the time is up). */
function waitUntilStopped(h: ContainerHandle, timeoutMs: number): Promise<ShimStatus | undefined> {
  return pollStatus(h, timeoutMs, (status) => !isLive(status));
}

async function pollStatus(h: ContainerHandle, timeoutMs: number, done: (status: ShimStatus | undefined) => boolean): Promise<ShimStatus | undefined> {
  const until = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    const status = readRuntimeStatus(h.dir, h.runcRoot, h.id);
    if (done(status) || Date.now() >= until) return status;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * The status once a start claimed meanwhile (start-claim.ts) has runc's container or has
 * failed: a signal sent while it is "starting" would reach no process. Bounded: a start that
 * waits for its attach client may stay "starting" long.
 */
async function settledStart(h: ContainerHandle, status: ShimStatus | undefined): Promise<ShimStatus | undefined> {
  if (status?.state !== 'starting') return status;
  return pollStatus(h, 10_000, (s) => s?.state !== 'starting');
}

/** When no shim watches the container (it died), record the exit ourselves. */
function finishOrphan(h: ContainerHandle, exitCode: number): void {
  const status = readRuntimeStatus(h.dir, h.runcRoot, h.id);
  if (!status || shimAlive(status) || !isLive(status)) return;
  runc(h, ['delete', '-f', h.id]);
  writeShimStatus(h.dir, { ...status, state: 'exited', exitCode, pid: undefined, ports: [], finishedAt: new Date().toISOString() });
}

/**
 * Sends SIGNAL to the container's init process. Marks the container as stopped by the user
 * (no restart), unless told not to (a signal merely passed on, as attach's --sig-proxy does).
 * With STOPSIGNAL given (`kill`: the container's own, '' when it has none), a paused container
 * is resumed after the signal, as Docker's daemon does, when the signal is SIGKILL, is that stop
 * signal, or the container has none: it can then act on it.
 */
export async function killContainer(h: ContainerHandle, signal: string, options: { markStopped?: boolean; stopSignal?: string } = {}): Promise<void> {
  // A bad signal is said first, whatever the container's state, as Docker's daemon.
  const sig = parseSignal(signal);
  const seen = readRuntimeStatus(h.dir, h.runcRoot, h.id);
  if (!isLive(seen)) throw new StrataError(`cannot kill container "${h.id.slice(0, 12)}": container is not running`);
  // Marked before the wait: a start's restart policy then sees it, however the start ends.
  if (options.markStopped !== false) fs.writeFileSync(path.join(h.dir, STOP_MARKER), '');
  const settled = await settledStart(h, seen);
  if (!isLive(settled)) return;
  const r = runc(h, ['kill', h.id, sig]);
  if (!r.ok && runcState(h.runcRoot, h.id)) throw new StrataError(`cannot kill container "${h.id.slice(0, 12)}": ${r.stderr}`);
  const stop = options.stopSignal;
  if (settled?.state === 'paused' && stop !== undefined && (!stop || signalNumber(sig) === 9 || signalNumber(sig) === signalNumber(parseSignal(stop)))) {
    runc(h, ['resume', h.id]);
  }
  if (sig === 'SIGKILL' || sig === '9') {
    void waitForExit(h, 2000).then(() => finishOrphan(h, 137));
  }
}

/**
 * Docker's stop: STOPSIGNAL (SIGTERM by default), then SIGKILL after TIMEOUT seconds. A paused
 * container is resumed after the signal so it can act on it. Resolves once it has exited.
 */
export async function stopContainer(h: ContainerHandle, options: { signal?: string; timeoutSec?: number; restart?: boolean } = {}): Promise<void> {
  let status = readRuntimeStatus(h.dir, h.runcRoot, h.id);
  if (!isLive(status)) return;
  // `restart`: its shim keeps a --rm container for the start that follows, as Docker's daemon.
  // The marker names the shim whose run this stops: one left by a restart whose shim was gone
  // meanwhile is not taken by a later shim for its own run.
  if (options.restart && shimAlive(status!)) fs.writeFileSync(path.join(h.dir, RESTART_MARKER), String(status!.shimPid));
  fs.writeFileSync(path.join(h.dir, STOP_MARKER), '');
  status = await settledStart(h, status);
  if (!isLive(status)) return;
  if (status?.state === 'restarting') {
    await waitUntilStopped(h, 5000);
    return;
  }
  // Without its shim nobody reaps the container: its exit code is our best guess, 128 + the
  // last signal we sent, as it would be had the signal ended it.
  const orphan = !!status && !shimAlive(status);
  const timeoutMs = (options.timeoutSec ?? 10) * 1000;
  const signal = parseSignal(options.signal || 'SIGTERM');
  let guess = 128 + signalNumber(signal);
  runc(h, ['kill', h.id, signal]);
  if (status?.state === 'paused') runc(h, ['resume', h.id]);
  status = timeoutMs > 0 ? await waitForExit(h, timeoutMs) : status;
  // It ended by itself just before the signal and its shim began a restart: seeing the stop
  // marker, the shim leaves it exited. `stop` returns once it has.
  if (status?.state === 'restarting') status = await waitUntilStopped(h, 5000);
  if (isLive(status)) {
    guess = 137;
    runc(h, ['kill', '--all', h.id, 'SIGKILL']);
    status = await waitForExit(h, 10_000);
  }
  if (isLive(status)) finishOrphan(h, 137);
  else if (orphan && status) writeShimStatus(h.dir, { ...status, exitCode: guess });
}

function signalNumber(signal: string): number {
  return /^\d+$/.test(signal) ? Number(signal) : (os.constants.signals[signal as NodeJS.Signals] ?? 9);
}

export function pauseContainer(h: ContainerHandle): void {
  const status = readRuntimeStatus(h.dir, h.runcRoot, h.id);
  if (status?.state === 'paused') throw new StrataError(`container "${h.id.slice(0, 12)}" is already paused`);
  if (!isLive(status)) throw new StrataError(`container "${h.id.slice(0, 12)}" is not running`);
  // Between two runs of its restart policy there is no process to freeze (runc's own error otherwise).
  if (status?.state === 'restarting') throw new StrataError(`container "${h.id.slice(0, 12)}" is restarting, wait until the container is running`);
  const r = runc(h, ['pause', h.id]);
  if (!r.ok) throw new StrataError(`pausing container "${h.id.slice(0, 12)}": ${r.stderr}`);
}

export function unpauseContainer(h: ContainerHandle): void {
  const status = readRuntimeStatus(h.dir, h.runcRoot, h.id);
  if (status?.state !== 'paused') throw new StrataError(`container "${h.id.slice(0, 12)}" is not paused`);
  const r = runc(h, ['resume', h.id]);
  if (!r.ok) throw new StrataError(`unpausing container "${h.id.slice(0, 12)}": ${r.stderr}`);
}
