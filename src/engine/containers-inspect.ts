// `container inspect`: Docker's JSON for a container, its state reconciled with the runtime,
// its files and dirs where strata keeps them.
import path from 'node:path';
import { containerNetworkSettings, currentState, dockerHostConfig, dockerMounts, dockerRestartPolicy, logPath, lowerDirsOf, portBindingsOf, readShimStatus, restartPolicyOf, type ContainerContext } from '../runtime/index.js';
import { STORAGE_DRIVER, type ContainerRecord } from '../store/index.js';

/** Docker's keys, in Docker's order. */
export async function inspectContainer(ctx: ContainerContext, record: ContainerRecord): Promise<Record<string, unknown>> {
  const { Strata: _strata, State: _stored, NetworkSettings: _net, HostConfig: _host, Mounts: _mounts, Id, Created, Path, Args, Image, Name, RestartCount, Driver: _driver, Platform, Config, ...rest } = record;
  const state = currentState(ctx, record);
  const paths = ctx.containers.paths(record.Id);
  const lowers = await lowerDirsOf(record, ctx.images).catch(() => [] as string[]);
  const bindings = state.Running ? readShimStatus(paths.dir)?.ports ?? [] : [];
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const p of Object.keys(record.Config.ExposedPorts ?? {})) ports[p] = null;
  for (const b of bindings) (ports[`${b.containerPort}/${b.protocol}`] ??= [])!.push({ HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) });
  return {
    Id, Created, Path, Args, State: state, Image,
    ResolvConfPath: path.join(paths.bundle, 'resolv.conf'), HostnamePath: path.join(paths.bundle, 'hostname'), HostsPath: path.join(paths.bundle, 'hosts'),
    LogPath: logPath(paths.dir, record.Id), Name, RestartCount, Driver: STORAGE_DRIVER, Platform,
    MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null, ...rest,
    HostConfig: dockerHostConfig({ ...record, HostConfig: { ...record.HostConfig, ...(await legacyHostConfig(record)) } }),
    GraphDriver: {
      Data: {
        LowerDir: [path.join(paths.bundle, 'init'), ...lowers.reverse()].join(':'), MergedDir: path.join(paths.bundle, 'rootfs'), UpperDir: paths.upper, WorkDir: paths.work,
      },
      Name: STORAGE_DRIVER,
    },
    Mounts: dockerMounts(ctx.root, record), Config,
    NetworkSettings: containerNetworkSettings(ctx.root, record, state.Running ? { pid: state.Pid } : undefined, ports),
  };
}

/**
 * HostConfig.RestartPolicy and PortBindings for records made before they were kept (from the
 * --restart and -p texts kept with them); newer records carry their own.
 */
async function legacyHostConfig(record: ContainerRecord): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (!record.HostConfig.RestartPolicy) out.RestartPolicy = dockerRestartPolicy(restartPolicyOf(record));
  if (!record.HostConfig.PortBindings) out.PortBindings = await portBindingsOf((record.Strata.publish as string[] | undefined) ?? []).catch(() => ({}));
  return out;
}
