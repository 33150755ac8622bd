// Starting a container under its own shim (`run -d`, `start`, and attached runs that need the
// shim's port forwarder): the shim's configuration is worked out here from the container's
// record, written beside it, and the shim started; it runs the container from then on.
import { StrataError } from '../errors.js';
import type { ContainerRecord } from '../store/index.js';
import { lowerDirsOf, runSpecOf } from './container.js';
import { mountRequestsOf, portRequestsOf, type ContainerContext } from './foreground.js';
import { timing } from '../timing.js';
import { writeShimConfig, type RestartPolicy } from './shim/state.js';

export interface DetachedStartOptions {
  /** Called once the shim waits for an attach before starting the container (see shim/client.ts). */
  attach?: () => void;
}

/** Starts the container under a detached shim; resolves once it runs. */
export async function startDetached(ctx: ContainerContext, record: ContainerRecord, options: DetachedStartOptions = {}): Promise<void> {
  const paths = ctx.containers.paths(record.Id);
  const lowerDirs = await lowerDirsOf(record, ctx.images);
  const { mounts: _mounts, stdin: _i, stdout: _o, stderr: _e, ...spec } = runSpecOf(record, paths, lowerDirs, []);
  writeShimConfig(paths.dir, {
    id: record.Id, root: ctx.root, runcRoot: ctx.runcRoot, spec, mounts: mountRequestsOf(record),
    ports: await portRequestsOf(record), restart: parseRestart(String(record.Strata.restart ?? 'no')),
    autoRemove: record.HostConfig.AutoRemove, interactive: record.Config.OpenStdin, stdinOnce: record.Config.StdinOnce,
  });
  timing('shim config written');
  // Loaded here, not bundled: it locates the shim's entry beside itself (scripts/bundle-cli.mjs).
  const { startShim } = await import('./shim/client.js');
  await startShim(paths.dir, options);
}

/** `--restart no|always|unless-stopped|on-failure[:N]` as the shim's policy. */
export function parseRestart(text: string): RestartPolicy {
  const [name = 'no', count = '0'] = text.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name) || !/^\d+$/.test(count)) throw new StrataError(`invalid restart policy "${text}"`);
  if (name !== 'on-failure' && count !== '0') throw new StrataError(`maximum retry count cannot be used with restart policy "${name}"`);
  return { name: name as RestartPolicy['name'], maximumRetryCount: Number(count) };
}
