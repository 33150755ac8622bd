// The per-container supervisor. `run -d` (and `start` of a stopped container) spawns it
// detached, in its own session, with stdin a pipe on which its starter says "go" (client.ts),
// stdout on /dev/null, stderr to shim.log and a pipe on fd 3 for one line of news ("started"
// or why not). The first start may come prepared by the starter (ShimConfig.prepared: bundle
// written, namespace plumbed). It then owns the container: runs it with `runc run` in the
// foreground (so runc's exit status is the container's), writes its output to the json-file
// log and to attached clients, forwards the published ports, records the state in shim.json,
// applies the restart policy while the state root exists, and removes the container for --rm.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { StrataError } from '../../errors.js';
import { FRAME } from '../attach.js';
import { JsonLogWriter, NO_LOG, type LogWriter } from '../logs.js';
import { PortForwarder } from '../ports-forward.js';
import { bindHostPorts } from '../ports.js';
import { claimEarlyPorts, type EarlyPorts } from './early-ports.js';
import { launchedChild, type LaunchedFds } from './launched-runc.js';
import { checkSpliceRelay } from '../ports-relay.js';
import { RuncRunner } from '../runc.js';
import { networkForRun, preparedNetwork, type RunNetwork } from '../net-run.js';
import { ContainerStore, type ContainerRecord } from '../../store/index.js';
import { AttachHub } from './hub.js';
import { HealthMonitor } from './health-monitor.js';
import { restartSpec } from './restart-spec.js';
import { restartPolicyOf } from '../restart-policy.js';
import { applyRecordLimits } from '../live-limits.js';
import { ptyRuncWrapper, resizeRuncPty } from './pty.js';
import { populateVolumes, toMountSpecs, volumesOf } from './mounts.js';
import {
  ATTACH_SOCKET,
  failedStartState,
  logPath,
  processStartTime,
  readShimConfig,
  readShimStatus,
  stopRequested,
  takeRestartRequest,
  writeShimStatus,
  type RestartPolicy,
  type ShimConfig,
  type ShimStatus,
} from './state.js';
import type { RunSpec } from '../types.js';
import { timing } from '../../timing.js';

/** The shim's one message to whoever started it. */
export type ShimNews = { ok: true } | { ok: false; error: string; exitCode: number };
/** Sent before the news when the shim waits for a client to attach (ShimConfig.waitAttach). */
export type ShimProgress = { listening: true };

export interface ShimHooks {
  /** Reports the first start (or its failure) to the starting CLI. */
  news: (news: ShimNews) => void;
  /** Deletes the container (for --rm) once it has exited for good. */
  removeContainer: (config: ShimConfig, anonymousVolumes: string[]) => Promise<void>;
  /**
   * Called after every change of shim.json (mirrors it into the container's record); UNDERLOCK,
   * when given, acts on the record in that write, under the container's lock.
   */
  onStatus?: (status: ShimStatus, underLock?: (record: ContainerRecord) => void) => void;
  /** Tells the starting CLI the attach socket is ready (with waitAttach). */
  progress?: (progress: ShimProgress) => void;
  /** The published ports bound before "go" (early-ports.ts), taken if they are the configuration's. */
  earlyPorts?: EarlyPorts;
  /** The first start's runc, launched by our starter (runc-launcher.ts): adopted by the first run. */
  launched?: LaunchedFds;
}

/** How long an attached start waits for its client before running the container anyway. */
const ATTACH_WAIT_MS = 10_000;

/** Docker's restart decision: whether to run again after an exit with CODE. */
export function shouldRestart(config: ShimConfig, status: ShimStatus, exitCode: number, rootExists: boolean): boolean {
  if (!rootExists || status.stoppedByUser) return false;
  const { name, maximumRetryCount } = config.restart;
  if (name === 'always' || name === 'unless-stopped') return true;
  if (name === 'on-failure') return exitCode !== 0 && (maximumRetryCount === 0 || status.restartCount < maximumRetryCount);
  return false;
}

/** The policy the record names now (`update --restart` may change it while the container runs); else the one it started with. */
async function currentRestartPolicy(config: ShimConfig): Promise<RestartPolicy> {
  try {
    return restartPolicyOf(await new ContainerStore(config.root).get(config.id));
  } catch {
    // removed meanwhile (then no restart follows anyway), or unreadable: the policy it started with
    return config.restart;
  }
}

class Shim {
  private status: ShimStatus;
  private readonly hub = new AttachHub();
  private readonly log: LogWriter;
  private forwarder: PortForwarder | undefined;
  private reported = false;
  private runtimePid: number | undefined;
  /** The terminal size a client last asked for (an `-it` run's client sends it before the container starts). */
  private ptySize: { rows: number; cols: number } | undefined;
  private startFailed = false;
  private healthMonitor: HealthMonitor | undefined;
  private preparedStart: boolean;
  /** The first start's runc, launched already (ShimHooks.launched), until the first run adopts it. */
  private launched: LaunchedFds | undefined;
  /** The forwarder's attach into that run's namespace, begun before the run is adopted. */
  private launchedForwarding: Promise<void> | undefined;
  /** The times of the run before this start (a container started again), kept if it fails. */
  private readonly lastRun: Pick<ShimStatus, 'startedAt' | 'finishedAt'> | undefined;

  constructor(
    private readonly dir: string,
    private readonly config: ShimConfig,
    private readonly hooks: ShimHooks,
  ) {
    this.preparedStart = config.prepared === true;
    this.launched = hooks.launched;
    const previous = readShimStatus(dir);
    this.status = { state: 'starting', shimPid: process.pid, shimStart: processStartTime(process.pid), ports: [], restartCount: previous?.restartCount ?? 0 };
    // The start's claim (start-claim.ts) holds the status it claimed over.
    const before = previous && previous.claimedOver !== undefined ? previous.claimedOver : previous;
    this.lastRun = before ? { startedAt: before.startedAt, finishedAt: before.finishedAt } : undefined;
    // With -t, runc runs under a pty of its own (shim/pty.ts), resized on the clients' behalf.
    if (config.spec.terminal) {
      this.hub.onResize = (rows, cols) => {
        this.ptySize = { rows, cols };
        if (this.runtimePid) resizeRuncPty(this.runtimePid, rows, cols);
      };
    }
    // A configuration from before --log-driver has no `log`: json-file, unbounded.
    this.log = config.log === null ? NO_LOG : new JsonLogWriter(logPath(dir, config.id), config.log);
  }

  private save(patch: Partial<ShimStatus>, underLock?: (record: ContainerRecord) => void): void {
    this.status = { ...this.status, ...patch, stoppedByUser: stopRequested(this.dir) };
    try {
      writeShimStatus(this.dir, this.status);
    } catch (err) {
      // `rm -f` removed the container under us: nothing left to record.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    this.hooks.onStatus?.(this.status, underLock);
  }

  private report(news: ShimNews): void {
    if (this.reported) return;
    this.reported = true;
    this.hooks.news(news);
  }

  async main(): Promise<void> {
    // The stop marker of an earlier run was cleared by the start's claim (start-claim.ts): one
    // here was left by a `stop` since, which the restart policy must see.
    this.save({});
    try {
      // Whether the splice relay can run: known from our starter, or asked now, while the start goes on.
      if (this.config.ports.length > 0 && this.config.splice === undefined) void checkSpliceRelay();
      const early = claimEarlyPorts(this.hooks.earlyPorts, this.config.ports);
      const listeners = early?.listeners ?? (await bindHostPorts(this.config.ports));
      this.forwarder = new PortForwarder(listeners, { label: this.dir, splice: this.config.splice, held: early?.held });
      this.save({ ports: listeners.map((l) => l.binding) });
      timing('shim: ports bound');
      // A first start launched by our starter runs in its plumbed namespace already: the
      // forwarder goes in now, while runc starts the container.
      const netns = this.config.spec.netns;
      if (this.launched && this.preparedStart && netns) {
        this.launchedForwarding = this.forwarder.attach(netns);
        this.launchedForwarding.catch(() => undefined);
      }
      await this.hub.listen(this.dir, ATTACH_SOCKET);
      if (this.config.waitAttach) {
        const attached = this.hub.waitForClient(ATTACH_WAIT_MS);
        this.hooks.progress?.({ listening: true });
        await attached;
      }
    } catch (err) {
      // A port it could not publish: the start failed, recorded as every start that fails
      // (runOnce) and as Docker's (a port already allocated), with the code and the error.
      this.save({ ...this.failedStartState(), error: (err as Error).message, exitCode: 125, ports: [] });
      await this.abandonLaunched();
      this.report({ ok: false, error: (err as Error).message, exitCode: 125 });
      await this.forwarder?.close();
      return;
    }
    let exitCode = 125;
    try {
      exitCode = await this.superviseLoop();
    } finally {
      await this.forwarder.close();
      this.save({ ports: [] });
      await this.hub.close(exitCode);
      fs.rmSync(path.join(this.dir, ATTACH_SOCKET), { force: true });
      this.log.close();
      // A `restart` (it stopped this run) starts the container again: a --rm one stays for it.
      const restarting = takeRestartRequest(this.dir, process.pid);
      if (this.config.autoRemove && !restarting) await this.hooks.removeContainer(this.config, volumesOf(this.config.mounts, 'anonymous'));
    }
  }

  private async superviseLoop(): Promise<number> {
    for (let backoff = 100; ; ) {
      const started = Date.now();
      const exitCode = await this.runOnce();
      if (this.startFailed) return exitCode;
      const config = { ...this.config, restart: await currentRestartPolicy(this.config) };
      if (!shouldRestart(config, { ...this.status, stoppedByUser: stopRequested(this.dir) }, exitCode, fs.existsSync(this.config.root))) return exitCode;
      // Docker's backoff: doubling from 100 ms, reset after a run of 10 s or more.
      backoff = Date.now() - started >= 10_000 ? 100 : Math.min(backoff * 2, 60_000);
      this.save({ state: 'restarting', restartCount: this.status.restartCount + 1 });
      await new Promise((r) => setTimeout(r, backoff));
      // Stopped meanwhile, or removed (`rm -f` while it was between two runs): no further run,
      // so the container is left exited as its last run ended, not "Restarting". Looked at under
      // the container's lock, and claimed ("starting") in the same step, as a `start` claims it:
      // a removal's last look (start-claim.ts) then sees it live, or came first and took the dir.
      const goOn = await new ContainerStore(this.config.root).locked(this.config.id, () => {
        if (stopRequested(this.dir)) return false;
        this.save({ state: 'starting' });
        return true;
      }).catch(() => false);
      if (!goOn) {
        this.save({ state: 'exited', restartCount: this.status.restartCount - 1 });
        return exitCode;
      }
      try {
        this.config.spec = await restartSpec(this.config);
      } catch (err) {
        this.save({ state: 'exited', error: (err as Error).message });
        return exitCode;
      }
      try {
        await this.forwarder?.rebind();
      } catch (err) {
        this.save({ state: 'exited', error: (err as Error).message });
        return exitCode;
      }
    }
  }

  /**
   * Ends a run our starter launched that will not be ours (the start failed before it): killed
   * until its runc has exited, then deleted. Runs that were not launched are left alone.
   */
  private async abandonLaunched(): Promise<void> {
    const fds = this.launched;
    this.launched = undefined;
    if (!fds) return;
    const child = launchedChild(fds);
    child.stdout!.resume();
    child.stderr!.resume();
    const runner = new RuncRunner({ runcRoot: this.config.runcRoot });
    const kill = () => runner.kill(this.config.id, 'KILL');
    const killer = setInterval(kill, 100);
    kill();
    await new Promise((resolve) => child.once('close', resolve).once('error', resolve));
    clearInterval(killer);
    runner.forceDelete(this.config.id);
  }

  /** One run of the container; resolves with its exit code (125/126/127 when it could not start). */
  private async runOnce(): Promise<number> {
    const { config } = this;
    // A tty needs a stdin that stays open (script ends the session at EOF), even without -i.
    const stdin = this.hub.newStdin(config.interactive || !!config.spec.terminal, config.interactive && config.stdinOnce);
    const stdout = this.tee('stdout');
    const stderr = this.tee('stderr');
    let network: RunNetwork | undefined;
    // The first start's bundle and namespace were made by our starter (detached.ts).
    const prepared = this.preparedStart;
    this.preparedStart = false;
    // Its runc may have been launched by the starter already (runc-launcher.ts): adopted below.
    if (!prepared) await this.abandonLaunched();
    try {
      if (!prepared) populateVolumes(config.root, config.mounts, config.spec.rootfs.lowerDirs);
      this.save({ state: 'starting', error: undefined });
      timing('shim: starting');
      // The record says which networks it is on now (`network connect` while it was stopped).
      const containers = new ContainerStore(config.root);
      network = prepared
        ? preparedNetwork(config, config.id, config.spec)
        : await networkForRun({ root: config.root, containers, runcRoot: config.runcRoot }, await containers.get(config.id));
      // Into a namespace of its own the forwarder goes once it is plumbed (before that, the path
      // names the host's) and runc is spawned, while runc starts the container: the relay is
      // there by the time the container runs, and its spawn (a fork of this process) does not
      // hold runc's back.
      const { netns } = network.spec;
      let onSpawned: () => void = () => undefined;
      const spawned = new Promise<void>((resolve) => (onSpawned = resolve));
      const early = this.launched ? this.launchedForwarding : undefined;
      this.launchedForwarding = undefined;
      const forwarding = early ?? (netns && this.forwarder ? Promise.all([network.ready, spawned]).then(() => this.forwarder?.attach(netns)) : undefined);
      forwarding?.catch(() => undefined);
      const spec: RunSpec = { ...config.spec, ...network.spec, mounts: toMountSpecs(config.root, config.mounts), stdin: stdin ?? 'null', stdout, stderr };
      // With -t, runc runs under a pty of its own (shim/pty.ts).
      const runcBinary = config.spec.terminal ? ptyRuncWrapper(this.dir) : 'runc';
      if (this.ptySize) Object.assign(process.env, { STRATA_PTY_ROWS: String(this.ptySize.rows), STRATA_PTY_COLS: String(this.ptySize.cols) });
      const runner = new RuncRunner({ runcRoot: config.runcRoot, runc: runcBinary });
      // runc reports the init pid through its --pid-file once the container exists.
      let onPid: (pid: number | undefined) => void = () => undefined;
      const started = new Promise<number | undefined>((resolve) => (onPid = resolve));
      const onSpawn = (runcPid: number): void => {
        this.runtimePid = runcPid;
        onSpawned();
      };
      const launched = this.launched;
      this.launched = undefined;
      const run = runner
        .run(spec, { onSpawn, onStarted: (pid) => onPid(pid), beforeStart: network.ready, prepared, adopted: launched && launchedChild(launched) })
        .finally(() => onPid(undefined));
      run.catch(() => undefined);
      const pid = await started;
      if (pid !== undefined) {
        // A size that came while runc was starting, after its pty was made.
        if (this.ptySize && this.runtimePid) resizeRuncPty(this.runtimePid, this.ptySize.rows, this.ptySize.cols);
        timing('shim: container started');
        // Until the forwarder takes them, connections wait in the listening sockets' backlog.
        await (forwarding ?? this.forwarder?.attach(pid));
        // The relay has entered the namespace: its holder can go.
        network.started?.();
        timing('shim: forwarder attached');
        // In the locked record write that says it runs: limits an `update` wrote to the record
        // after this run's spec was made (live-limits.ts), applied before the run is reported.
        const startedWith = config.spec;
        this.save({ state: 'running', pid, startedAt: new Date().toISOString(), exitCode: undefined, finishedAt: undefined }, (record) => {
          try {
            applyRecordLimits(config.runcRoot, record, startedWith);
          } catch (err) {
            process.stderr.write(`shim: applying updated limits: ${(err as Error).message}\n`);
          }
        });
        this.report({ ok: true });
        if (config.health) {
          this.healthMonitor = new HealthMonitor(config.health, { runcRoot: config.runcRoot, id: config.id, dir: this.dir, onHealth: (health) => this.save({ health }) });
        }
      }
      const { exitCode } = await run;
      this.healthMonitor?.stop();
      this.healthMonitor = undefined;
      // Not left to start after the container is gone (finish() stops what it started).
      await forwarding;
      if (pid === undefined) {
        // Ran and exited before we saw it running: it did start.
        this.save({ startedAt: new Date().toISOString() });
        this.report({ ok: true });
      }
      await this.finish(exitCode);
      return exitCode;
    } catch (err) {
      // Failed before it could adopt its launched runc: that run is not left running.
      await this.abandonLaunched();
      const exitCode = err instanceof StrataError ? err.exitCode : 125;
      const message = (err as Error).message;
      this.report({ ok: false, error: message, exitCode });
      this.startFailed = true;
      // A `stop` that came while a (re)start was under way killed it: the container is stopped
      // by the user, Exited with its last run's code, not a container that could not start.
      if (stopRequested(this.dir)) {
        await this.finish(this.status.exitCode ?? 137);
        return exitCode;
      }
      this.log.write('stderr', `${message}\n`);
      this.save({ error: message });
      // As Docker: a container that could not start stays "Created" (with the code and the
      // error), or "Exited" with its last run's times if it ran before; no restart policy
      // applies to it.
      await this.finish(exitCode, this.failedStartState());
      return exitCode;
    } finally {
      await network?.release();
      stdin?.end();
      stdout.end();
      stderr.end();
    }
  }

  /** failedStartState of the last run: a restart of this shim's, or the run before this start. */
  private failedStartState(): Pick<ShimStatus, 'state' | 'startedAt' | 'finishedAt'> {
    return failedStartState(this.status.startedAt ? this.status : this.lastRun);
  }

  /** Records the end of a run (exited now), or of a failed start (ENDED: failedStartState()). */
  private async finish(exitCode: number, ended?: Pick<ShimStatus, 'state' | 'startedAt' | 'finishedAt'>): Promise<void> {
    await this.forwarder?.detach();
    this.log.flush('stdout');
    this.log.flush('stderr');
    this.save({ state: 'exited', finishedAt: new Date().toISOString(), ...ended, exitCode, pid: undefined });
  }

  /** One of the container's streams: to the log and to attached clients. */
  private tee(name: 'stdout' | 'stderr'): PassThrough {
    const pass = new PassThrough();
    const toClients = this.hub.output(name === 'stdout' ? FRAME.stdout : FRAME.stderr);
    pass.on('data', (chunk: Buffer) => {
      this.log.write(name, chunk);
      toClients.write(chunk);
    });
    return pass;
  }
}

/** Runs the shim for the container in DIR until the container is gone for good. */
export async function runShim(dir: string, hooks: ShimHooks): Promise<void> {
  const config = readShimConfig(dir);
  if (!config) {
    hooks.news({ ok: false, error: `container "${dir}" has no shim configuration`, exitCode: 125 });
    return;
  }
  await new Shim(dir, config, hooks).main();
}
