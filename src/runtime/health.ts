// Docker's health checks (HEALTHCHECK, `run --health-*`): what a container's check runs and how
// often, and how each probe's result moves its health (moby's daemon/health.go): "starting"
// until a probe succeeds or Retries probes in a row fail after the start period, then
// "healthy" or "unhealthy"; the last five probes kept with their output (4 KiB at most each).
// The probes themselves are run by the container's shim (shim/health-monitor.ts).
import { formatDuration, parseGoDuration } from '../duration.js';
import { StrataError } from '../errors.js';
import type { HealthConfig } from '../store/index.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe, as Docker's State.Health.Log shows it. */
export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** Docker's State.Health. */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

/** What the shim runs, when (ms), and how many failures make a container unhealthy. */
export interface HealthPlan {
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  /** The timeout as Go's time.Duration prints it (moby's "Health check exceeded timeout (30s)"), from its nanoseconds. */
  timeoutText: string;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

const NS_PER_MS = 1e6;
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_BYTES = 4096;

/** The check a container runs, or undefined (none, or HEALTHCHECK NONE / --no-healthcheck). */
export function healthPlan(config: HealthConfig | undefined): HealthPlan | undefined {
  const test = config?.Test ?? [];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  const [kind, ...rest] = test;
  const command = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : [];
  if (command.length === 0) return undefined;
  const ms = (ns: number | undefined, fallback: number) => (ns && ns > 0 ? Math.max(1, Math.round(ns / NS_PER_MS)) : fallback);
  const timeoutNs = config?.Timeout && config.Timeout > 0 ? config.Timeout : DEFAULT_TIMEOUT_MS * NS_PER_MS;
  return {
    command,
    intervalMs: ms(config?.Interval, DEFAULT_INTERVAL_MS),
    timeoutMs: ms(config?.Timeout, DEFAULT_TIMEOUT_MS),
    timeoutText: formatDuration(timeoutNs),
    startPeriodMs: ms(config?.StartPeriod, 0),
    startIntervalMs: ms(config?.StartInterval, DEFAULT_START_INTERVAL_MS),
    retries: config?.Retries && config.Retries > 0 ? config.Retries : DEFAULT_RETRIES,
  };
}

/** A fresh start's health: "starting", nothing probed yet. */
export function startingHealth(): HealthState {
  return { Status: 'starting', FailingStreak: 0, Log: [] };
}

/**
 * The health after one probe (moby's handleProbeResult): a success makes it healthy; a failure
 * counts towards Retries unless it came within the start period while still starting.
 */
export function afterProbe(state: HealthState, entry: HealthLogEntry, plan: HealthPlan, sinceStartMs: number): HealthState {
  const Log = [...state.Log, entry].slice(-MAX_LOG_ENTRIES);
  if (entry.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  if (state.Status === 'starting' && sinceStartMs < plan.startPeriodMs) return { ...state, Log };
  const FailingStreak = state.FailingStreak + 1;
  return { Status: FailingStreak >= plan.retries ? 'unhealthy' : state.Status, FailingStreak, Log };
}

/** The flags of `run`/`create` that change the image's check. */
export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
  none?: boolean;
}

/** Checks the flags' own values (none depends on the image): a bad one is refused before an image is pulled. */
export function checkHealthFlags(f: HealthFlags): void {
  containerHealthConfig(f);
}

/** Docker's smallest health check duration other than 0 (moby's container.MinimumDuration, 1ms). */
const MINIMUM_DURATION_NS = NS_PER_MS;
const DURATION_KEYS = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

/** A --health-* duration as Go's flag package parses it (time.ParseDuration: signed, "0" alone needs no unit). */
function flagDuration(text: string | undefined, flag: string): number {
  if (text === undefined) return 0;
  try {
    return parseGoDuration(text);
  } catch (err) {
    throw new StrataError(`invalid argument "${text}" for "--${flag}" flag: ${(err as Error).message}`);
  }
}

/**
 * The container's own Healthcheck from the flags (docker/cli's opts): undefined when no flag sets
 * anything (a zero duration or retry count, or an empty --health-cmd, is "not set"), then what the
 * daemon checks of it (moby's verifyContainerSettings).
 */
function containerHealthConfig(f: HealthFlags): HealthConfig | undefined {
  const values = {
    Interval: flagDuration(f.interval, 'health-interval'),
    Timeout: flagDuration(f.timeout, 'health-timeout'),
    StartPeriod: flagDuration(f.startPeriod, 'health-start-period'),
    StartInterval: flagDuration(f.startInterval, 'health-start-interval'),
  };
  let retries = 0;
  if (f.retries !== undefined) {
    if (!/^[-+]?\d+$/.test(f.retries)) throw new StrataError(`invalid argument "${f.retries}" for "--health-retries" flag: strconv.ParseInt: parsing "${f.retries}": invalid syntax`);
    retries = Number(f.retries);
  }
  const given = !!f.cmd || retries !== 0 || DURATION_KEYS.some((k) => values[k] !== 0);
  if (f.none) {
    if (given) throw new StrataError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!given) return undefined;
  // docker/cli's order of the checks.
  if (values.Interval < 0) throw new StrataError('--health-interval cannot be negative');
  if (values.Timeout < 0) throw new StrataError('--health-timeout cannot be negative');
  if (retries < 0) throw new StrataError('--health-retries cannot be negative');
  if (values.StartPeriod < 0) throw new StrataError('--health-start-period cannot be negative');
  if (values.StartInterval < 0) throw new StrataError('--health-start-interval cannot be negative');
  for (const key of DURATION_KEYS) {
    if (values[key] !== 0 && values[key] < MINIMUM_DURATION_NS) throw new StrataError(`${key} in Healthcheck cannot be less than ${formatDuration(MINIMUM_DURATION_NS)}`);
  }
  const out: HealthConfig = {};
  if (f.cmd) out.Test = ['CMD-SHELL', f.cmd];
  for (const key of DURATION_KEYS) if (values[key] !== 0) out[key] = values[key];
  if (retries !== 0) out.Retries = retries;
  return out;
}

/**
 * The container's Config.Healthcheck: the flags' check merged with the image's as moby's daemon
 * merges them (daemon/commit.go merge): what the container leaves unset (no test, a zero) comes
 * from the image; without an image check the container's stands alone (without a test it probes
 * nothing, as Docker's).
 */
export function healthConfigWith(image: HealthConfig | undefined, f: HealthFlags): HealthConfig | undefined {
  const own = containerHealthConfig(f);
  if (!image) return own;
  if (!own) return image;
  const out: HealthConfig = { ...own };
  if (!out.Test || out.Test.length === 0) {
    if (image.Test) out.Test = image.Test;
  }
  for (const key of DURATION_KEYS) if (!out[key] && image[key]) out[key] = image[key];
  if (!out.Retries && image.Retries) out.Retries = image.Retries;
  return orderedHealthConfig(out);
}

/** HealthConfig's fields in moby's order (how its JSON lists them). */
function orderedHealthConfig(h: HealthConfig): HealthConfig {
  const out: HealthConfig = {};
  if (h.Test) out.Test = h.Test;
  for (const key of DURATION_KEYS) if (h[key] !== undefined) out[key] = h[key];
  if (h.Retries !== undefined) out.Retries = h.Retries;
  return out;
}
