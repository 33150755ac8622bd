// A container's HostConfig and Mounts as `docker inspect` writes them (moby's
// api/types/container HostConfig and MountPoint): every field, in the struct's order, with the
// value strata really uses where it decides one (runtime, cgroup namespace, masked and read-only
// paths) and the zero value Docker's JSON shows where strata has no such setting.
import path from 'node:path';
import { volumesDir, type ContainerMount, type ContainerRecord } from '../store/index.js';
import { isUnified } from './cgroups.js';
import { securityOptions } from './host-config.js';
import { parseMountFlag, type MountRequest } from './shim/mounts.js';
import { MASKED_PATHS, READONLY_PATHS } from './spec.js';

/**
 * HostConfig's fields in moby's order (the embedded Resources after Isolation), each with what a
 * container created by `docker run` shows when the field is not set; `omit` marks the
 * `omitempty` ones, left out of the JSON when unset.
 */
const FIELDS: Array<[key: string, zero: unknown, omit?: 'omit']> = [
  ['Binds', null], ['ContainerIDFile', ''], ['LogConfig', { Type: 'json-file', Config: {} }], ['NetworkMode', 'default'],
  ['PortBindings', {}], ['RestartPolicy', { Name: 'no', MaximumRetryCount: 0 }], ['AutoRemove', false], ['VolumeDriver', ''],
  ['VolumesFrom', null], ['ConsoleSize', [0, 0]], ['Annotations', null, 'omit'], ['CapAdd', null], ['CapDrop', null],
  ['CgroupnsMode', ''], ['Dns', []], ['DnsOptions', []], ['DnsSearch', []], ['ExtraHosts', null], ['GroupAdd', null],
  ['IpcMode', 'private'], ['Cgroup', ''], ['Links', null], ['OomScoreAdj', 0], ['PidMode', ''], ['Privileged', false],
  ['PublishAllPorts', false], ['ReadonlyRootfs', false], ['SecurityOpt', null], ['StorageOpt', null, 'omit'],
  ['Tmpfs', null, 'omit'], ['UTSMode', ''], ['UsernsMode', ''], ['ShmSize', 67108864], ['Sysctls', null, 'omit'],
  ['Runtime', 'runc'], ['Isolation', ''],
  // Resources
  ['CpuShares', 0], ['Memory', 0], ['NanoCpus', 0], ['CgroupParent', ''], ['BlkioWeight', 0], ['BlkioWeightDevice', []],
  ['BlkioDeviceReadBps', []], ['BlkioDeviceWriteBps', []], ['BlkioDeviceReadIOps', []], ['BlkioDeviceWriteIOps', []],
  ['CpuPeriod', 0], ['CpuQuota', 0], ['CpuRealtimePeriod', 0], ['CpuRealtimeRuntime', 0], ['CpusetCpus', ''], ['CpusetMems', ''],
  ['Devices', []], ['DeviceCgroupRules', null], ['DeviceRequests', null], ['KernelMemory', 0, 'omit'], ['KernelMemoryTCP', 0, 'omit'],
  ['MemoryReservation', 0], ['MemorySwap', 0], ['MemorySwappiness', null], ['OomKillDisable', null], ['PidsLimit', null],
  ['Ulimits', null], ['CpuCount', 0], ['CpuPercent', 0], ['IOMaximumIOps', 0], ['IOMaximumBandwidth', 0],
  // End of Resources
  ['Mounts', null, 'omit'], ['MaskedPaths', null], ['ReadonlyPaths', null], ['Init', null, 'omit'],
];

const isZero = (v: unknown): boolean => v === null || v === undefined || v === 0 || v === '' || v === false
  || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v).length === 0);

/** The values strata decides for a container that its record does not keep. */
function decided(record: ContainerRecord): Record<string, unknown> {
  const h = record.HostConfig;
  const opts = securityOptions(Array.isArray(h.SecurityOpt) ? (h.SecurityOpt as string[]) : []);
  // As Docker: a privileged container has none (null); systempaths=unconfined empties them ([]).
  const systemPaths = (list: string[]) => (h.Privileged ? null : opts.unmaskPaths ? [] : list);
  return {
    Runtime: 'runc',
    // The spec's cgroup namespace (bundle.ts): its own on a cgroup v2 host, as Docker's default.
    CgroupnsMode: isUnified() ? 'private' : 'host',
    PublishAllPorts: record.Strata.publishAll === true,
    MaskedPaths: systemPaths(MASKED_PATHS),
    ReadonlyPaths: systemPaths(READONLY_PATHS),
  };
}

/** Docker's HostConfig of a container: the record's values over the decided ones and the zero values. */
export function dockerHostConfig(record: ContainerRecord): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...record.HostConfig, Binds: record.HostConfig.Binds?.length ? record.HostConfig.Binds : null };
  const fallback = decided(record);
  const out: Record<string, unknown> = {};
  for (const [key, zero, omit] of FIELDS) {
    const value = key in kept && kept[key] !== undefined ? kept[key] : key in fallback ? fallback[key] : zero;
    if (omit && isZero(value)) continue;
    out[key] = value;
  }
  // Whatever else a record keeps (none today), after Docker's fields.
  for (const [key, value] of Object.entries(kept)) if (!(key in out) && !FIELDS.some(([k]) => k === key)) out[key] = value;
  return out;
}

/**
 * Docker's MountPoints: a volume's Source is its data dir and its Driver "local"; Mode is the
 * options of its -v (a named volume's default "z", none for --mount or an anonymous one); a bind
 * propagates "rprivate".
 */
export function dockerMounts(root: string, record: ContainerRecord): Array<Record<string, unknown>> {
  const modes = new Map<string, string>();
  for (const bind of record.HostConfig.Binds ?? []) {
    // A bare `-v /path` is no bind for Docker (its CLI makes it a Config.Volumes entry): no mode.
    const [, dest, options] = bind.split(':');
    if (dest) modes.set(path.posix.normalize(dest), options ?? '');
  }
  return record.Mounts.map((m: ContainerMount) => {
    const mode = modes.get(m.Destination);
    return {
      Type: m.Type,
      ...(m.Type === 'volume' ? { Name: m.Name ?? '' } : {}),
      Source: m.Type === 'volume' && m.Name ? path.join(volumesDir(root), m.Name, '_data') : m.Source,
      Destination: m.Destination,
      ...(m.Type === 'volume' ? { Driver: 'local' } : {}),
      Mode: mode === undefined ? '' : m.Type === 'volume' && mode === '' ? 'z' : mode,
      RW: m.RW,
      Propagation: m.Type === 'bind' ? 'rprivate' : '',
    };
  });
}

/**
 * HostConfig.Mounts: each --mount as docker/cli sends it (moby's api/types/mount Mount, its
 * omitempty fields left out): Type, Source (none for an anonymous volume), Target, ReadOnly,
 * and the volume's or tmpfs's options. CWD resolves a relative bind source, as the CLI does.
 */
export function dockerMountSpecs(specs: string[], cwd: string): Array<Record<string, unknown>> {
  return specs.map((spec) => mountSpec(parseMountFlag(spec, cwd)));
}

function mountSpec(m: MountRequest): Record<string, unknown> {
  const common = (source: string | undefined, readonly: boolean) => ({
    Type: m.type, ...(source ? { Source: source } : {}), Target: m.destination, ...(readonly ? { ReadOnly: true } : {}),
  });
  if (m.type === 'bind') return common(m.source, m.readonly);
  if (m.type === 'volume') {
    const volume = {
      ...(m.copy ? {} : { NoCopy: true }),
      ...(m.labels ? { Labels: m.labels } : {}),
      ...(m.driverOptions ? { DriverConfig: { Options: m.driverOptions } } : {}),
    };
    return { ...common(m.name, m.readonly), ...(Object.keys(volume).length ? { VolumeOptions: volume } : {}) };
  }
  const option = (name: string) => m.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);
  const size = option('size');
  const mode = option('mode');
  const tmpfs = { ...(size ? { SizeBytes: Number(size) } : {}), ...(mode ? { Mode: parseInt(mode, 8) } : {}) };
  return { ...common(undefined, m.options.includes('ro')), ...(Object.keys(tmpfs).length ? { TmpfsOptions: tmpfs } : {}) };
}
