// The seam between the container commands and the shim. At create time, lifecycleOptions()
// turns -p/-P/-v/--mount/--volumes-from/--restart into what the record keeps (HostConfig in
// Docker's shape plus plain-data requests under Strata); at start time, launchDetached()
// writes the shim's configuration from the record and starts the shim.
import path from 'node:path';
import { StrataError } from '../errors.js';
import type { ContainerMount, ContainerRecord, ContainerStore } from '../store/containers.js';
import type { Image, ImageStore } from '../store/types.js';
import { lowerDirsOf, runSpecOf } from './container.js';
import { exposedPortRequests, mergeRequests, parsePortSpec, type PortRequest } from './ports.js';
import { startShim } from './shim-client.js';
import { inheritMounts, resolveContainerMounts, type MountRequest } from './shim-mounts.js';
import { writeShimConfig, type RestartPolicy, type ShimConfig } from './shim-state.js';

export interface LifecycleFlags {
  publish?: string[];
  publishAll?: boolean;
  volumes?: string[];
  mounts?: string[];
  volumesFrom?: string[];
  restart?: string;
}

/** What a new container's record carries for the shim. */
export interface LifecycleRecordParts {
  /** Merge into HostConfig. */
  hostConfig: { PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>; PublishAllPorts: boolean; RestartPolicy: { Name: string; MaximumRetryCount: number }; VolumesFrom: string[] };
  /** Pass as CreateOptions.extra (kept under record.Strata). */
  extra: { mountRequests: MountRequest[]; portRequests: PortRequest[] };
  /** Pass as CreateOptions.mounts (Docker's Mounts for inspect). */
  mounts: ContainerMount[];
}

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestartPolicy(text = 'no'): RestartPolicy {
  const [name, count] = text.split(':');
  if (name === 'no' || name === 'always' || name === 'unless-stopped') {
    if (count !== undefined) throw new StrataError(`invalid restart policy "${text}": maximum retry count cannot be used with restart policy "${name}"`);
    return { name, maximumRetryCount: 0 };
  }
  if (name === 'on-failure') {
    const n = count === undefined ? 0 : Number(count);
    if (!Number.isInteger(n) || n < 0) throw new StrataError(`invalid restart policy "${text}": maximum retry count must be a non-negative integer`);
    return { name, maximumRetryCount: n };
  }
  throw new StrataError(`invalid restart policy "${text}": expected no, always, unless-stopped or on-failure[:N]`);
}

function dockerMount(m: MountRequest, root: string): ContainerMount {
  if (m.type === 'bind') return { Type: 'bind', Source: m.source, Destination: m.destination, RW: !m.readonly };
  if (m.type === 'tmpfs') return { Type: 'tmpfs', Source: '', Destination: m.destination, RW: !m.options.includes('ro') };
  return { Type: 'volume', Name: m.name, Source: path.join(root, 'volumes', m.name, '_data'), Destination: m.destination, RW: !m.readonly };
}

/**
 * Parses and resolves the lifecycle flags of a new container: ports are checked now (bound
 * only when it starts), bind sources resolved once, named and anonymous volumes created.
 */
export async function lifecycleOptions(input: { root: string; cwd: string; image: Image; containers: ContainerStore; flags: LifecycleFlags; network: string }): Promise<LifecycleRecordParts> {
  const { flags } = input;
  const explicit = (flags.publish ?? []).flatMap(parsePortSpec);
  const portRequests = mergeRequests(explicit, flags.publishAll ? exposedPortRequests(input.image.config.config.ExposedPorts) : []);
  if (portRequests.length && (input.network === 'host' || input.network === 'none')) {
    throw new StrataError(`published ports are discarded when using "${input.network}" network mode`);
  }
  const restart = parseRestartPolicy(flags.restart);
  const inherited: MountRequest[] = [];
  for (const spec of flags.volumesFrom ?? []) {
    const ref = spec.includes(':') ? spec.slice(0, spec.lastIndexOf(':')) : spec;
    const other = await input.containers.get(ref);
    inherited.push(...inheritMounts(spec, (other.Strata.mountRequests as MountRequest[] | undefined) ?? []));
  }
  const mountRequests = resolveContainerMounts({
    root: input.root,
    cwd: input.cwd,
    volumes: flags.volumes,
    mounts: flags.mounts,
    inherited,
    imageVolumes: Object.keys(input.image.config.config.Volumes ?? {}),
  });
  const PortBindings: LifecycleRecordParts['hostConfig']['PortBindings'] = {};
  for (const r of explicit) {
    const key = `${r.containerPort}/${r.protocol}`;
    const hostPort = r.hostPort === 0 ? '' : r.hostPortEnd > r.hostPort ? `${r.hostPort}-${r.hostPortEnd}` : String(r.hostPort);
    (PortBindings[key] ??= []).push({ HostIp: r.hostIp, HostPort: hostPort });
  }
  return {
    hostConfig: { PortBindings, PublishAllPorts: !!flags.publishAll, RestartPolicy: { Name: restart.name, MaximumRetryCount: restart.maximumRetryCount }, VolumesFrom: flags.volumesFrom ?? [] },
    extra: { mountRequests, portRequests },
    mounts: mountRequests.map((m) => dockerMount(m, input.root)),
  };
}

/** The shim configuration for starting RECORD now. */
export async function shimConfigOf(record: ContainerRecord, ctx: { root: string; runcRoot: string; containers: ContainerStore; images: ImageStore; attachStdin?: boolean }): Promise<ShimConfig> {
  const paths = ctx.containers.paths(record.Id);
  const lowerDirs = await lowerDirsOf(record, ctx.images);
  const { stdin: _stdin, stdout: _stdout, stderr: _stderr, mounts: _mounts, ...spec } = runSpecOf(record, paths, lowerDirs, []);
  const policy = record.HostConfig.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined;
  return {
    id: record.Id,
    root: ctx.root,
    runcRoot: ctx.runcRoot,
    spec,
    mounts: (record.Strata.mountRequests as MountRequest[] | undefined) ?? [],
    ports: (record.Strata.portRequests as PortRequest[] | undefined) ?? [],
    restart: parseRestartPolicy(policy?.Name && policy.Name !== '' ? (policy.MaximumRetryCount ? `${policy.Name}:${policy.MaximumRetryCount}` : policy.Name) : 'no'),
    autoRemove: record.HostConfig.AutoRemove,
    interactive: record.Config.OpenStdin,
    stdinOnce: !!ctx.attachStdin && record.Config.StdinOnce,
  };
}

/**
 * Starts RECORD under a new shim and resolves once it runs (or throws why it could not, with
 * the 125/126/127 exit code). The caller has checked the container is not running.
 */
export async function launchDetached(record: ContainerRecord, ctx: { root: string; runcRoot: string; containers: ContainerStore; images: ImageStore; attachStdin?: boolean }): Promise<void> {
  if (record.Config.Tty) throw new StrataError('a terminal (-t) for a detached container is not supported yet: use -i without -t');
  const dir = ctx.containers.paths(record.Id).dir;
  writeShimConfig(dir, await shimConfigOf(record, ctx));
  await startShim(dir);
}
