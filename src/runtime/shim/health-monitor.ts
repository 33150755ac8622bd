// The probes of a running container's health check, run by its shim: each `runc exec` of the
// check's command (as the container's user, with its environment), killed at the timeout,
// its output kept (4 KiB); the health written through the shim's status after each probe.
// One probe at a time, the next one an interval after the last ended, as Docker's monitor.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterProbe, MAX_OUTPUT_BYTES, startingHealth, type HealthLogEntry, type HealthPlan, type HealthState } from '../health.js';

export interface HealthTarget {
  runcRoot: string;
  id: string;
  /** The container's directory: runc writes the probe's pid there (probe.pid). */
  dir: string;
  /** Takes each new health (the shim saves it in its status). */
  onHealth: (health: HealthState) => void;
}

const PROBE_PID_FILE = 'probe.pid';
/** How long a timed-out probe's pid is awaited from runc before runc is killed alone. */
const PID_FILE_WAIT_MS = 10_000;

/** PID and its descendants, children before parents (read from /proc). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number, depth: number) => {
    if (depth < 64) for (const c of children.get(p) ?? []) walk(c, depth + 1);
    out.push(p);
  };
  walk(pid, 0);
  return out;
}

function inCgroupOf(pid: number, id: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${id}`);
  } catch {
    return false;
  }
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private probe: ChildProcess | undefined;
  private stopped = false;
  private health = startingHealth();
  private readonly startedAt = Date.now();

  constructor(
    private readonly plan: HealthPlan,
    private readonly target: HealthTarget,
  ) {
    target.onHealth(this.health);
    this.schedule();
  }

  /** Stops probing (the container exited); a probe under way is killed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.probe?.kill('SIGKILL');
    // Docker's monitor leaves "unhealthy" when it stops (moby's CloseMonitorChannel, "for
    // compatibility"): an exited container is never shown, or filtered, as healthy.
    this.health = { ...this.health, Status: 'unhealthy' };
    this.target.onHealth(this.health);
  }

  private schedule(): void {
    if (this.stopped) return;
    // Within the start period, while still starting, the start interval applies.
    const starting = this.health.Status === 'starting' && Date.now() - this.startedAt < this.plan.startPeriodMs;
    this.timer = setTimeout(() => void this.runProbe(), starting ? Math.min(this.plan.startIntervalMs, this.plan.intervalMs) : this.plan.intervalMs);
    this.timer.unref();
  }

  private async runProbe(): Promise<void> {
    const start = new Date();
    const entry = await this.exec(start);
    if (this.stopped) return;
    this.health = afterProbe(this.health, entry, this.plan, start.getTime() - this.startedAt);
    this.target.onHealth(this.health);
    this.schedule();
  }

  /**
   * Kills a timed-out probe: the process runc started in the container and what it started
   * (runc passes SIGKILL on to nothing; a child left holding the output pipe would keep the probe
   * from ending), then runc. A loaded machine may reach the timeout before runc has written the
   * probe's pid: killing runc then would leave the probe running in the container, unseen, so
   * its pid is awaited (until DEADLINE; runc killed alone after it).
   */
  private killProbe(child: ChildProcess, pidFile: string, deadline: number): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    let pid = NaN;
    try {
      pid = Number(fs.readFileSync(pidFile, 'utf8').trim() || NaN);
    } catch {
      // not written yet
    }
    if (!Number.isInteger(pid) && Date.now() < deadline) {
      setTimeout(() => this.killProbe(child, pidFile, deadline), 20).unref();
      return;
    }
    if (Number.isInteger(pid) && pid > 1) this.killTree(pid);
    child.kill('SIGKILL');
  }

  /**
   * Kills PID and its descendants of this container's cgroup (never a reused pid of someone
   * else's). Stopped first, round after round until no new one appears: a process seen without
   * children may fork between the look at /proc and its kill, and that child would live on.
   */
  private killTree(pid: number): void {
    const stopped = new Set<number>();
    const signal = (p: number, sig: NodeJS.Signals) => {
      try {
        process.kill(p, sig);
      } catch {
        // gone meanwhile
      }
    };
    for (let round = 0; round < 32; round++) {
      const fresh = processTree(pid).filter((p) => !stopped.has(p) && inCgroupOf(p, this.target.id));
      if (fresh.length === 0) break;
      for (const p of fresh) {
        signal(p, 'SIGSTOP');
        stopped.add(p);
      }
    }
    for (const p of stopped) signal(p, 'SIGKILL');
  }

  private exec(start: Date): Promise<HealthLogEntry> {
    return new Promise((resolve) => {
      const pidFile = path.join(this.target.dir, PROBE_PID_FILE);
      fs.rmSync(pidFile, { force: true });
      const args = ['--root', this.target.runcRoot, 'exec', '--pid-file', pidFile, this.target.id, ...this.plan.command];
      const child = spawn('runc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.probe = child;
      const chunks: Buffer[] = [];
      let kept = 0;
      const keep = (chunk: Buffer) => {
        if (kept >= MAX_OUTPUT_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_OUTPUT_BYTES - kept));
        kept += Math.min(chunk.length, MAX_OUTPUT_BYTES - kept);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let timedOut = false;
      const timeout = setTimeout(() => {
        timedOut = true;
        this.killProbe(child, pidFile, Date.now() + PID_FILE_WAIT_MS);
      }, this.plan.timeoutMs);
      const done = (exitCode: number, output: string) => {
        clearTimeout(timeout);
        this.probe = undefined;
        resolve({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output });
      };
      child.on('error', (err) => done(-1, `starting the health check: ${err.message}`));
      child.on('close', (code) => {
        if (timedOut) return done(-1, `Health check exceeded timeout (${this.plan.timeoutText})`);
        done(code ?? -1, Buffer.concat(chunks).toString('utf8'));
      });
    });
  }
}
