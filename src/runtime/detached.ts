// Starting a container under its own shim (`run -d`, `start`, and attached runs that need the
// shim's port forwarder): the shim is spawned first, and while its Node process starts, this
// process does the first start's preparation — the container's network namespace plumbed (and
// held until the container runs), its runc bundle written — then writes the shim's
// configuration beside the record and tells the shim to go; the shim runs the container from
// then on (restarts prepare their own).
import fs from 'node:fs';
import path from 'node:path';
import { healthPlan } from './health.js';
import { runcRunArgs } from './runc.js';
import { sharedNamespaces } from './shared-namespaces.js';
import { logLimits, type LogConfig } from './log-config.js';
import type { ContainerRecord } from '../store/index.js';
import { prepareBundle } from './bundle.js';
import { lowerDirsOf, runSpecOf } from './container.js';
import { mountRequestsOf, portRequestsOf, type ContainerContext } from './foreground.js';
import { networkForRun } from './net-run.js';
import { populateVolumes, toMountSpecs } from './shim/mounts.js';
import { writeShimConfig, type ShimConfig } from './shim/state.js';
import { restartPolicyOf } from './restart-policy.js';
import { timing } from '../timing.js';
import { failpoint } from '../failpoint.js';
import { StrataError } from '../errors.js';
import { claimStart } from './start-claim.js';
import type { EarlyShim } from './shim/client.js';

export type { EarlyShim } from './shim/client.js';

export interface DetachedStartOptions {
  /** Called once the shim waits for an attach before starting the container (see shim/client.ts). */
  attach?: () => void;
  /** Called once the shim is told to start the container (from then on this process only waits). */
  onGo?: () => void;
  /** A shim spawned before the container was created (spawnEarlyShim), to use instead of a new one. */
  shim?: EarlyShim;
}

/**
 * Spawns the shim of a container of the state root ROOT that is yet to be created (`run -d`),
 * so its Node process starts while the container is created and prepared (see shim/client.ts).
 * PUBLISH, the `-p` values, it binds meanwhile (shim/early-ports.ts); LAUNCH: with a launcher
 * that starts the first start's runc before the shim has loaded (shim/runc-launcher.ts).
 */
export async function spawnEarlyShim(root: string, publish: string[] = [], options: { launch?: boolean } = {}): Promise<EarlyShim> {
  return (await import('./shim/client.js')).spawnEarlyShim(root, publish, options);
}

/** Starts the container under a detached shim; resolves once it runs. */
export async function startDetached(ctx: ContainerContext, record: ContainerRecord, options: DetachedStartOptions = {}): Promise<void> {
  const paths = ctx.containers.paths(record.Id);
  // Loaded here (the run bundle has it; other bundles keep it outside).
  const { startShim } = await import('./shim/client.js');
  await startShim(paths.dir, {
    attach: options.attach,
    onGo: options.onGo,
    // An attached start (`start -a`) of a running container is refused; a plain one leaves it running.
    claim: async (shimPid) => {
      const claim = await claimStart(ctx, record.Id, shimPid);
      if (claim.running && options.attach) throw new StrataError(`container "${record.Name.slice(1)}" is already running`);
      return claim.running ? false : claim;
    },
    prepare: async () => {
      const lowerDirs = await lowerDirsOf(record, ctx.images);
      const { mounts: _mounts, stdin: _i, stdout: _o, stderr: _e, ...spec } = { ...runSpecOf(record, paths, lowerDirs, []), ...(await sharedNamespaces(ctx, record)) };
      const config: ShimConfig = {
        id: record.Id, root: ctx.root, runcRoot: ctx.runcRoot, spec, mounts: mountRequestsOf(record),
        ports: await portRequestsOf(record), restart: restartPolicyOf(record),
        autoRemove: record.HostConfig.AutoRemove, interactive: record.Config.OpenStdin, stdinOnce: record.Config.StdinOnce,
        waitAttach: options.attach ? true : undefined, health: healthPlan(record.Config.Healthcheck),
        log: logLimits(record.HostConfig.LogConfig as LogConfig | undefined) ?? null,
      };
      failpoint('start.spec-made');
      // Asked meanwhile when no answer is kept (a python3 start), so the shim need not (ports-relay-check.ts).
      const splice = config.ports.length > 0 ? import('./ports-relay.js').then((r) => r.checkSpliceRelay()) : undefined;
      // An attached start may wait for its client long after this: the shim prepares it then.
      const prepared = options.attach ? undefined : await prepareFirstStart(ctx, record, config).catch(() => undefined);
      config.splice = await splice;
      writeShimConfig(paths.dir, { ...(prepared?.config ?? config), splice: config.splice });
      timing('shim config written');
      // What a launcher can start for the shim: a run that reads no stdin of the shim's and has no terminal.
      const launchable = prepared && !config.interactive && !config.spec.terminal;
      return { letGo: prepared?.letGo, runtimeArgs: launchable ? launchArgs(ctx, record.Id) : undefined };
    },
  }, options.shim);
}

/**
 * The prepared first start's `runc run`, as the shim's RuncRunner would run it, for a launcher
 * (shim/runc-launcher.ts); what an earlier run left in the bundle is removed first (its pid file would
 * be taken for this run's, its log's error for this run's).
 */
function launchArgs(ctx: ContainerContext, id: string): string[] {
  const bundle = ctx.containers.paths(id).bundle;
  for (const f of ['init.pid', 'runc.log']) fs.rmSync(path.join(bundle, f), { force: true });
  return ['runc', ...runcRunArgs(ctx.runcRoot, bundle, id, true)];
}

/**
 * The first start's namespace (plumbed, held by its holder until LETGO) and bundle, for the
 * shim's CONFIG. Whatever fails here is undone, and the shim does it again and reports it
 * (a missing command's 127, say, recorded as Docker records it).
 */
async function prepareFirstStart(ctx: ContainerContext, record: ContainerRecord, config: ShimConfig): Promise<{ config: ShimConfig; letGo: () => void }> {
  populateVolumes(ctx.root, config.mounts, config.spec.rootfs.lowerDirs);
  const network = await networkForRun(ctx, record);
  timing('first start: network requested');
  try {
    const spec = { ...config.spec, ...network.spec };
    await prepareBundle({ ...spec, mounts: toMountSpecs(ctx.root, config.mounts) }, record.Id, ctx.containers.paths(record.Id).bundle);
    timing('first start: bundle written');
    await network.ready;
    timing('first start: network ready');
    return { config: { ...config, spec, prepared: true }, letGo: () => network.started?.() };
  } catch (err) {
    await network.release();
    throw err;
  }
}
