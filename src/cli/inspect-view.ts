// What an `inspect --format` template sees of an inspected image, container or volume: Docker's Go
// structs. A field left out of the JSON (omitempty) still exists ({{.Config.StopSignal}} is "",
// not an error), a nil slice prints "[]", a nil map "map[]", a nil pointer "<nil>" (JSON's null
// alone would print "<no value>"), and {{json .X}} still prints null for them.
import { goTyped } from './format/template.js';

type Kind = 'nil-slice' | 'nil-map' | 'nil-pointer';

/** One Go struct: its fields that are slices, maps or pointers, and its omitempty fields with their zero values. */
interface StructShape {
  typed?: Record<string, Kind>;
  omitted?: Record<string, unknown>;
  /** Fields that are structs (or maps or slices of them) with their own shape. */
  nested?: Record<string, { shape: StructShape; each?: 'map' | 'slice' }>;
  /** Fields that are a nat.PortMap: a port nobody published maps to a nil []PortBinding. */
  portMaps?: string[];
}

const slices = (keys: string[]): Record<string, Kind> => Object.fromEntries(keys.map((k) => [k, 'nil-slice' as const]));
const maps = (keys: string[]): Record<string, Kind> => Object.fromEntries(keys.map((k) => [k, 'nil-map' as const]));
const pointers = (keys: string[]): Record<string, Kind> => Object.fromEntries(keys.map((k) => [k, 'nil-pointer' as const]));

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** `obj` with Go's typed values for its null and missing fields (missing ones not enumerable: a spread or JSON drops them). */
function goStruct(obj: unknown, shape: StructShape): unknown {
  if (!isObject(obj) || Object.isFrozen(obj)) return obj;
  const view: Record<string, unknown> = { ...obj };
  for (const key of shape.portMaps ?? []) {
    const ports = view[key];
    if (isObject(ports) && !Object.isFrozen(ports)) view[key] = Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, v === null ? goTyped('nil-slice') : v]));
  }
  for (const [key, kind] of Object.entries(shape.typed ?? {})) {
    if (view[key] === null) view[key] = goTyped(kind);
    else if (!(key in view)) Object.defineProperty(view, key, { value: goTyped(kind), enumerable: false });
  }
  for (const [key, zero] of Object.entries(shape.omitted ?? {})) {
    if (!(key in view)) Object.defineProperty(view, key, { value: zero, enumerable: false });
  }
  for (const [key, { shape: inner, each }] of Object.entries(shape.nested ?? {})) {
    const v = view[key];
    if (each === 'map' && isObject(v) && !Object.isFrozen(v)) view[key] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, goStruct(x, inner)]));
    else if (each === 'slice' && Array.isArray(v) && !Object.isFrozen(v)) view[key] = v.map((x) => goStruct(x, inner));
    else if (!each) view[key] = goStruct(v, inner);
  }
  return view;
}

/** moby's api/types/container HostConfig (with its embedded Resources). */
const HOST_CONFIG: StructShape = {
  typed: {
    ...slices([
      'Binds', 'VolumesFrom', 'CapAdd', 'CapDrop', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'Links', 'SecurityOpt',
      'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'Devices',
      'DeviceCgroupRules', 'DeviceRequests', 'Ulimits', 'Mounts', 'MaskedPaths', 'ReadonlyPaths',
    ]),
    ...maps(['PortBindings', 'Annotations', 'StorageOpt', 'Tmpfs', 'Sysctls']),
    ...pointers(['MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Init']),
  },
  omitted: { Runtime: '', KernelMemory: 0, KernelMemoryTCP: 0 },
  portMaps: ['PortBindings'],
  nested: { LogConfig: { shape: { typed: maps(['Config']) } } },
};

/** network.EndpointSettings, one entry of NetworkSettings.Networks. */
const ENDPOINT: StructShape = {
  typed: { ...pointers(['IPAMConfig']), ...slices(['Links', 'Aliases', 'DNSNames']), ...maps(['DriverOpts']) },
  nested: { IPAMConfig: { shape: { omitted: { IPv4Address: '', IPv6Address: '', LinkLocalIPs: goTyped('nil-slice') } } } },
};

const NETWORK_SETTINGS: StructShape = {
  typed: { ...slices(['SecondaryIPAddresses', 'SecondaryIPv6Addresses']), ...maps(['Ports', 'Networks']) },
  portMaps: ['Ports'],
  nested: { Networks: { shape: ENDPOINT, each: 'map' } },
};

/** A container's top level (ContainerJSON): Node and the sizes are nil pointers unless set, ExecIDs a nil slice. */
const CONTAINER: StructShape = {
  typed: { ...pointers(['Node', 'SizeRw', 'SizeRootFs']), ...slices(['ExecIDs', 'Mounts']) },
  nested: {
    State: { shape: { typed: pointers(['Health']) } },
    HostConfig: { shape: HOST_CONFIG },
    NetworkSettings: { shape: NETWORK_SETTINGS },
    Mounts: { shape: { omitted: { Name: '', Driver: '' } }, each: 'slice' },
  },
};

/** What a template sees of an inspected image or container. */
export function templateView(obj: Record<string, unknown>): Record<string, unknown> {
  const config = obj.Config;
  const view = isObject(config) ? { ...obj, Config: configView(config) } : obj;
  // Last: its fields that are not in the JSON are not enumerable (a spread would drop them).
  return 'State' in obj ? containerView(view) : view;
}

function containerView(obj: Record<string, unknown>): Record<string, unknown> {
  return goStruct(obj, CONTAINER) as Record<string, unknown>;
}

/** container.Config's fields that are not plain strings or bools: slices, maps, pointers. */
const CONFIG_TYPED: Record<string, Kind> = {
  Env: 'nil-slice', Cmd: 'nil-slice', Entrypoint: 'nil-slice', OnBuild: 'nil-slice', Shell: 'nil-slice',
  Volumes: 'nil-map', Labels: 'nil-map', ExposedPorts: 'nil-map', Healthcheck: 'nil-pointer', StopTimeout: 'nil-pointer',
};
/** Its `omitempty` fields with their zero values: in the template, never in its JSON. */
const CONFIG_OMITTED: Record<string, unknown> = { ArgsEscaped: false, NetworkDisabled: false, MacAddress: '', StopSignal: '' };
const OMITEMPTY = new Set(['ExposedPorts', 'Shell', 'Healthcheck', 'StopTimeout']);

/**
 * The container's or image's Config as a template sees it: a missing field that is not
 * omitempty (an image config without Env) is a nil value in the JSON too, and the struct{}
 * values of ExposedPorts and Volumes print "{}".
 */
function configView(config: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = { ...config };
  for (const [key, kind] of Object.entries(CONFIG_TYPED)) {
    if (view[key] === null || (view[key] === undefined && !OMITEMPTY.has(key))) view[key] = goTyped(kind);
    else if (!(key in view)) Object.defineProperty(view, key, { value: goTyped(kind), enumerable: false });
  }
  for (const [key, zero] of Object.entries(CONFIG_OMITTED)) {
    if (!(key in view)) Object.defineProperty(view, key, { value: zero, enumerable: false });
  }
  for (const key of ['ExposedPorts', 'Volumes']) {
    const set = view[key];
    if (set && typeof set === 'object' && !Object.isFrozen(set)) view[key] = Object.fromEntries(Object.keys(set).map((k) => [k, goTyped('empty-struct')]));
  }
  return view;
}

/** moby's api/types/volume Volume: Labels and Options are maps (nil prints "map[]"). */
const VOLUME: StructShape = { typed: maps(['Labels', 'Options']) };

/** What a template sees of an inspected volume. */
export function volumeView(obj: object): Record<string, unknown> {
  return goStruct(obj, VOLUME) as Record<string, unknown>;
}
