// Docker's health checks (HEALTHCHECK, `run --health-*`): what a container's check runs and how
// often, and how each probe's result moves its health (moby's daemon/health.go): "starting"
// until a probe succeeds or Retries probes in a row fail after the start period, then
// "healthy" or "unhealthy"; the last five probes kept with their output (4 KiB at most each).
// The probes themselves are run by the container's shim (shim/health-monitor.ts).
import { formatDuration, parseDuration } from '../duration.js';
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
  // An image check of some kind: only the flags' values can fail here.
  healthConfigWith({ Test: ['NONE'] }, f);
}

/** The container's Config.Healthcheck: the image's, with the flags over it (Docker's merge). */
export function healthConfigWith(image: HealthConfig | undefined, f: HealthFlags): HealthConfig | undefined {
  const given = f.cmd !== undefined || f.interval !== undefined || f.timeout !== undefined || f.startPeriod !== undefined || f.startInterval !== undefined || f.retries !== undefined;
  if (f.none) {
    if (given) throw new StrataError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!given) return image;
  const duration = (text: string | undefined, flag: string) => {
    if (text === undefined) return undefined;
    // Go's ParseDuration takes a sign: "-1s" parses, and Docker's CLI refuses it as negative.
    const negative = text.startsWith('-');
    let ns: number | undefined;
    try {
      ns = parseDuration(negative ? text.slice(1) : text, flag);
    } catch {
      throw new StrataError(`invalid argument "${text}" for "--${flag}" flag: time: invalid duration "${text}"`);
    }
    if (negative && ns) throw new StrataError(`--${flag} cannot be negative`);
    return ns;
  };
  const out: HealthConfig = { ...image };
  if (f.cmd !== undefined) out.Test = ['CMD-SHELL', f.cmd];
  const set = (key: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval', value: number | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('Interval', duration(f.interval, 'health-interval'));
  set('Timeout', duration(f.timeout, 'health-timeout'));
  set('StartPeriod', duration(f.startPeriod, 'health-start-period'));
  set('StartInterval', duration(f.startInterval, 'health-start-interval'));
  if (f.retries !== undefined) {
    if (!/^-?\d+$/.test(f.retries.trim())) throw new StrataError(`invalid argument "${f.retries}" for "--health-retries" flag: strconv.ParseInt: parsing "${f.retries}": invalid syntax`);
    if (Number(f.retries) < 0) throw new StrataError('--health-retries cannot be negative');
    out.Retries = Number(f.retries);
  }
  if (!out.Test || out.Test.length === 0) throw new StrataError('--health-* options need a health check: --health-cmd, or an image with HEALTHCHECK');
  return out;
}
