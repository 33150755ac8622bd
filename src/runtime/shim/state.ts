// What a container's shim is told (shim-config.json, written by the CLI before it starts the
// shim) and what it tells everyone else (shim.json, replaced atomically at every change), both
// in the container's dir. Any strata command reads shim.json through readRuntimeStatus(), which
// reconciles it with the shim's liveness and `runc state` when the shim has died.
import type { HealthPlan, HealthState } from '../health.js';
import type { LogLimits } from '../log-config.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteSync, processStartTime } from '../../store/index.js';
import type { MountRequest } from './mounts.js';
import type { PortBinding, PortRequest } from '../ports.js';
import type { RunSpec } from '../types.js';

export type RestartPolicy = { name: 'no' | 'always' | 'unless-stopped' | 'on-failure'; maximumRetryCount: number };

/** A RunSpec without its streams and mounts: what the shim runs, as plain data. */
export type StoredRunSpec = Omit<RunSpec, 'stdin' | 'stdout' | 'stderr' | 'mounts'>;

export interface ShimConfig {
  id: string;
  /** strata's state root: restarts stop when it is gone. */
  root: string;
  /** runc's --root. */
  runcRoot: string;
  spec: StoredRunSpec;
  mounts: MountRequest[];
  ports: PortRequest[];
  restart: RestartPolicy;
  autoRemove: boolean;
  /** `-i`: the container's stdin is fed by attach clients. */
  interactive: boolean;
  /** Close the container's stdin when the first attached client's stdin ends (`run -i`, `start -ai`). */
  stdinOnce: boolean;
  /** Start the container only once a client has attached (an attached `run`), so it misses no output. */
  waitAttach?: boolean;
  /**
   * The first start's bundle is written and its namespace (spec.netns) plumbed by the process
   * that started the shim, while the shim's Node started (detached.ts); restarts do their own.
   */
  prepared?: boolean;
  /** The json-file log's limits (log-config.ts); null: `--log-driver none`, nothing kept. */
  log?: LogLimits | null;
  /** The container's health check (HEALTHCHECK, --health-*), when it has one. */
  health?: HealthPlan;
  /** Whether the splice relay (ports-relay.ts) can run here, when the starter asked (unset: the shim asks). */
  splice?: boolean;
}

export type RuntimeState = 'created' | 'starting' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';

export interface ShimStatus {
  state: RuntimeState;
  shimPid?: number;
  /** /proc start time of the shim, to tell it from a reused pid. */
  shimStart?: string;
  /** The container's init process on the host. */
  pid?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** Why the last start failed, when it did. */
  error?: string;
  ports: PortBinding[];
  restartCount: number;
  /** `stop`/`kill` asked for the exit (see STOP_MARKER): the restart policy does not apply. */
  stoppedByUser?: boolean;
  /** Docker's State.Health, from the probes of the current (or last) run. */
  health?: HealthState;
  /**
   * Set on a start's claim (start-claim.ts): the status it replaced (null: none, the container was
   * Created). Should the claimant die before runc has the container, that status is put back.
   */
  claimedOver?: ShimStatus | null;
}

export const CONFIG_FILE = 'shim-config.json';
export const STATUS_FILE = 'shim.json';
export const ATTACH_SOCKET = 'attach.sock';
export const SHIM_LOG = 'shim.log';
/** The environment entry that hands a shim spawned early the `-p` values to bind (early-ports.ts). */
export const EARLY_PORTS_ENV = 'STRATA_EARLY_PORTS';
/** Created by `stop`/`kill` (never written by the shim, so no lost update): no restart after this exit. */
export const STOP_MARKER = 'stop-requested';

/**
 * The status fields of a container whose start failed, as Docker leaves it: "Created" when it
 * never ran, else exited with the times of LAST, its last run (its code and error set apart).
 */
export function failedStartState(last: Pick<ShimStatus, 'startedAt' | 'finishedAt'> | undefined): Pick<ShimStatus, 'state' | 'startedAt' | 'finishedAt'> {
  return last?.startedAt ? { state: 'exited', startedAt: last.startedAt, finishedAt: last.finishedAt } : { state: 'created', startedAt: undefined, finishedAt: undefined };
}

/**
 * Created by `restart` before its stop, holding the pid of the shim whose run it stops: that
 * exit is not the end of a --rm container (the shim consumes it).
 */
export const RESTART_MARKER = 'restart-requested';

/** Whether a `restart` stopped the run of the shim SHIMPID (see RESTART_MARKER); the marker goes either way. */
export function takeRestartRequest(dir: string, shimPid: number): boolean {
  const file = path.join(dir, RESTART_MARKER);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  fs.rmSync(file, { force: true });
  return text === String(shimPid);
}

export function stopRequested(dir: string): boolean {
  return fs.existsSync(path.join(dir, STOP_MARKER));
}

export function logPath(dir: string, id: string): string {
  return path.join(dir, `${id}-json.log`);
}

/** Replaces a state file at once (no fsync: it matters while the host runs, a reboot ends the container). */
export function writeJsonAtomic(file: string, value: unknown): void {
  atomicWriteSync(file, `${JSON.stringify(value, null, 2)}\n`, { durable: false });
}

export function readShimConfig(dir: string): ShimConfig | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8')) as ShimConfig;
  } catch {
    return undefined;
  }
}

export function writeShimConfig(dir: string, config: ShimConfig): void {
  writeJsonAtomic(path.join(dir, CONFIG_FILE), config);
}

export function readShimStatus(dir: string): ShimStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, STATUS_FILE), 'utf8')) as ShimStatus;
  } catch {
    return undefined;
  }
}

export function writeShimStatus(dir: string, status: ShimStatus): void {
  writeJsonAtomic(path.join(dir, STATUS_FILE), status);
}

/** Field 22 of /proc/PID/stat: distinguishes a live process from a later one with its pid. */
export { processStartTime };

export function shimAlive(status: ShimStatus): boolean {
  if (!status.shimPid) return false;
  const now = processStartTime(status.shimPid);
  return now !== undefined && (!status.shimStart || now === status.shimStart);
}

/** `runc state ID`: its status and pid, or undefined when runc does not know the container. */
export function runcState(runcRoot: string, id: string): { status: string; pid: number; bundle: string } | undefined {
  const r = spawnSync('runc', ['--root', runcRoot, 'state', id], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  try {
    const s = JSON.parse(r.stdout) as { status: string; pid: number; bundle: string };
    return { status: s.status, pid: s.pid, bundle: s.bundle };
  } catch {
    return undefined;
  }
}

/**
 * What `runc state` says of a container runc has running or paused, read as runc reads it —
 * its state file (the init's pid and start time, the cgroup paths) and the freezer — without
 * starting runc (~25 ms a container on a slow machine, for every `ps`, `inspect`, `exec`).
 * undefined when that cannot tell (no state file, the init gone, a freezer in transition or
 * frozen by a parent): runc is asked then.
 */
export function runcStateFromFiles(runcRoot: string, id: string): { status: 'running' | 'paused'; pid: number } | undefined {
  let state: { init_process_pid?: number; init_process_start?: number; cgroup_paths?: Record<string, string> };
  try {
    state = JSON.parse(fs.readFileSync(path.join(runcRoot, id, 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const pid = state.init_process_pid;
  if (!pid || processStartTime(pid) !== String(state.init_process_start)) return undefined;
  const read = (file: string) => {
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const v1 = state.cgroup_paths?.freezer;
  if (v1) {
    // runc's rule: FROZEN counts as paused only when the cgroup froze itself, not its parent.
    const freezer = read(path.join(v1, 'freezer.state'));
    if (freezer === 'THAWED') return { status: 'running', pid };
    if (freezer === 'FROZEN' && read(path.join(v1, 'freezer.self_freezing')) === '1') return { status: 'paused', pid };
    return undefined;
  }
  const v2 = state.cgroup_paths?.[''];
  if (!v2) return undefined;
  const freeze = read(path.join(v2, 'cgroup.freeze'));
  if (freeze === '0') return { status: 'running', pid };
  if (freeze === '1' && /^frozen 1$/m.test(read(path.join(v2, 'cgroup.events')) ?? '')) return { status: 'paused', pid };
  return undefined;
}

/**
 * The container's state as it really is. When the shim that owned it is gone (killed), the
 * recorded state is corrected from runc: a container runc no longer runs has exited (code 255,
 * unknown, as Docker reports a container whose shim vanished), one it still runs is left
 * running without a shim (stop/kill still work through runc) and its leftover is cleaned up by
 * the next stop.
 */
export function readRuntimeStatus(dir: string, runcRoot: string, id: string): ShimStatus | undefined {
  const status = readShimStatus(dir);
  if (!status) return undefined;
  const live = status.state === 'running' || status.state === 'paused' || status.state === 'starting' || status.state === 'restarting';
  if (!live) return status;
  if (shimAlive(status)) {
    if (status.state === 'running' || status.state === 'paused') {
      const rs = runcStateFromFiles(runcRoot, id) ?? runcState(runcRoot, id);
      // A foreground run's status has no pid (its CLI does not watch for one): runc's.
      if (rs?.status === 'paused') return { ...status, state: 'paused', pid: status.pid ?? rs.pid };
      if (rs?.status === 'running') return { ...status, state: 'running', pid: status.pid ?? rs.pid };
    }
    return status;
  }
  const rs = runcState(runcRoot, id);
  if (rs && (rs.status === 'running' || rs.status === 'paused')) return { ...status, state: rs.status, pid: rs.pid };
  if (!rs && status.claimedOver !== undefined) return revertClaim(dir, status.claimedOver);
  if (rs) spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id], { stdio: 'ignore' });
  const fixed: ShimStatus = { ...status, state: 'exited', exitCode: status.exitCode ?? 255, finishedAt: status.finishedAt ?? new Date().toISOString() };
  try {
    writeShimStatus(dir, fixed);
  } catch {
    // A read-only caller still gets the corrected view.
  }
  return fixed;
}

/**
 * Puts back the status a start's claim replaced (PREVIOUS; null: none, the container was
 * Created): the start failed, or its claimant died before runc had the container (a kill -9 of
 * `run -d` before its shim's "go", say). Nothing ran, so the container is as it was (Docker's
 * stays Created).
 */
export function revertClaim(dir: string, previous: ShimStatus | null): ShimStatus | undefined {
  try {
    if (previous) writeShimStatus(dir, previous);
    else fs.rmSync(path.join(dir, STATUS_FILE), { force: true });
  } catch {
    // A read-only caller still gets the corrected view.
  }
  return previous ?? undefined;
}
