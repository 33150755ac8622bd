// What an `inspect --format` template sees of an inspected image, container, volume or network:
// Docker's Go structs. A field left out of the JSON (omitempty) still exists
// ({{.Config.StopSignal}} is "", not an error), a nil slice prints "[]", a nil map "map[]", a nil
// pointer "<nil>" (JSON's null alone would print "<no value>"), and {{json .X}} still prints null
// for them. The objects that are structs are marked so (goStruct): a struct prints as Go's fmt
// does ({{.HostConfig.LogConfig}} is "{json-file map[]}") and {{json .State}} keeps its field
// order; every other object is a map ("map[k:v]" and JSON, keys sorted).
import { formatDuration } from '../duration.js';
import { goStringer, goStruct, goTyped } from './format/template.js';

type Kind = 'nil-slice' | 'nil-map' | 'nil-pointer';

/** One Go struct: its fields that are slices, maps or pointers, and its omitempty fields with their zero values. */
interface StructShape {
  typed?: Record<string, Kind>;
  omitted?: Record<string, unknown>;
  /** Fields that are structs (or maps or slices of them) with their own shape. */
  nested?: Record<string, { shape: StructShape; each?: 'map' | 'slice' }>;
  /** Fields that are a nat.PortMap: a port nobody published maps to a nil []PortBinding. */
  portMaps?: string[];
  /** Every field in declaration order, where the view must print the whole struct as Go does (its omitted ones included). */
  order?: string[];
}

const slices = (keys: string[]): Record<string, Kind> => Object.fromEntries(keys.map((k) => [k, 'nil-slice' as const]));
const maps = (keys: string[]): Record<string, Kind> => Object.fromEntries(keys.map((k) => [k, 'nil-map' as const]));
const pointers = (keys: string[]): Record<string, Kind> => Object.fromEntries(keys.map((k) => [k, 'nil-pointer' as const]));

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A nat.PortMap: a port nobody published maps to a nil []PortBinding; a binding is a struct. */
function portMapView(ports: Record<string, unknown>): Record<string, unknown> {
  const binding = (b: unknown) => (isObject(b) ? goStruct({ ...b }) : b);
  return Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, v === null ? goTyped('nil-slice') : Array.isArray(v) ? v.map(binding) : v]));
}

/**
 * `obj`, a struct of SHAPE, with Go's typed values for its null and missing fields (missing
 * ones not enumerable: a spread or JSON drops them), marked as a struct.
 */
function structView(obj: unknown, shape: StructShape): unknown {
  if (!isObject(obj) || Object.isFrozen(obj)) return obj;
  const view: Record<string, unknown> = { ...obj };
  for (const key of shape.portMaps ?? []) {
    const ports = view[key];
    if (isObject(ports) && !Object.isFrozen(ports)) view[key] = portMapView(ports);
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
    if (!Object.getOwnPropertyDescriptor(view, key)?.writable) continue; // a typed nil put there above
    if (each === 'map' && isObject(v) && !Object.isFrozen(v)) view[key] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structView(x, inner)]));
    else if (each === 'slice' && Array.isArray(v) && !Object.isFrozen(v)) view[key] = v.map((x) => structView(x, inner));
    else if (!each) view[key] = structView(v, inner);
  }
  return goStruct(shape.order ? inOrder(view, shape.order) : view);
}

/** VIEW's own properties (the not enumerable ones too) with ORDER's first, in that order. */
function inOrder(view: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const names = [...order.filter((k) => Object.hasOwn(view, k)), ...Object.getOwnPropertyNames(view).filter((k) => !order.includes(k))];
  for (const k of names) Object.defineProperty(out, k, Object.getOwnPropertyDescriptor(view, k)!);
  return out;
}

/** A struct whose fields need nothing of their own. */
const PLAIN: StructShape = {};

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
  nested: {
    LogConfig: { shape: { typed: maps(['Config']) } }, RestartPolicy: { shape: PLAIN },
    Devices: { shape: PLAIN, each: 'slice' }, Ulimits: { shape: PLAIN, each: 'slice' }, Mounts: { shape: PLAIN, each: 'slice' },
  },
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

/** storage.DriverData: GraphDriver's Data is a map. */
const GRAPH_DRIVER: StructShape = { typed: maps(['Data']) };

/** A container's top level (ContainerJSON): Node and the sizes are nil pointers unless set, ExecIDs a nil slice. */
const CONTAINER: StructShape = {
  typed: { ...pointers(['Node', 'SizeRw', 'SizeRootFs']), ...slices(['ExecIDs', 'Mounts']) },
  nested: {
    State: { shape: { typed: pointers(['Health']), nested: { Health: { shape: { nested: { Log: { shape: PLAIN, each: 'slice' } } } } } } },
    HostConfig: { shape: HOST_CONFIG },
    NetworkSettings: { shape: NETWORK_SETTINGS },
    Mounts: { shape: { omitted: { Name: '', Driver: '' } }, each: 'slice' },
    GraphDriver: { shape: GRAPH_DRIVER },
  },
};

/** image.InspectResponse: RootFS, GraphDriver and Metadata are structs. */
const IMAGE: StructShape = {
  nested: { GraphDriver: { shape: GRAPH_DRIVER }, RootFS: { shape: PLAIN }, Metadata: { shape: PLAIN } },
};

/** What a template sees of an inspected image or container. */
export function templateView(obj: Record<string, unknown>): Record<string, unknown> {
  const config = obj.Config;
  const view = isObject(config) ? { ...obj, Config: configView(config) } : obj;
  // Last: its fields that are not in the JSON are not enumerable (a spread would drop them).
  return structView(view, 'State' in obj ? CONTAINER : IMAGE) as Record<string, unknown>;
}

/** container.Config's fields that are not plain strings or bools: slices, maps, pointers. */
const CONFIG_TYPED: Record<string, Kind> = {
  Env: 'nil-slice', Cmd: 'nil-slice', Entrypoint: 'nil-slice', OnBuild: 'nil-slice', Shell: 'nil-slice',
  Volumes: 'nil-map', Labels: 'nil-map', ExposedPorts: 'nil-map', Healthcheck: 'nil-pointer', StopTimeout: 'nil-pointer',
};
/** Its `omitempty` fields with their zero values: in the template, never in its JSON. */
const CONFIG_OMITTED: Record<string, unknown> = { ArgsEscaped: false, NetworkDisabled: false, MacAddress: '', StopSignal: '' };
const OMITEMPTY = new Set(['ExposedPorts', 'Shell', 'Healthcheck', 'StopTimeout']);
/** container.Config's declaration order, which {{.Config}} prints. */
const CONFIG_ORDER = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd',
  'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'NetworkDisabled', 'MacAddress', 'OnBuild', 'Labels', 'StopSignal',
  'StopTimeout', 'Shell',
];

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
  const health = view.Healthcheck;
  if (isObject(health) && !Object.isFrozen(health)) view.Healthcheck = healthView(health);
  return goStruct(inOrder(view, CONFIG_ORDER));
}

/** container.HealthConfig's fields in their order; every one omitempty. */
const HEALTH_ORDER = ['Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'];
const HEALTH_DURATIONS = new Set(['Interval', 'Timeout', 'StartPeriod', 'StartInterval']);

/**
 * Config.Healthcheck as a template sees it: all six fields, a missing one at its zero value, the
 * durations as time.Duration ({{.Config.Healthcheck}} is "{[CMD-SHELL true] 2s 0s 0s 0s 0}",
 * Go's fmt of the struct the pointer leads to); its JSON leaves the zero ones out.
 */
function healthView(health: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const key of HEALTH_ORDER) {
    const v = health[key];
    if (HEALTH_DURATIONS.has(key)) view[key] = goStringer(Number(v ?? 0), formatDuration(Number(v ?? 0)));
    else view[key] = v ?? (key === 'Test' ? goTyped('nil-slice') : 0);
  }
  return goStruct(view, Object.fromEntries(HEALTH_ORDER.map((k) => [k, ',omitempty'])));
}

/**
 * moby's api/types/volume Volume: Labels and Options are maps (nil prints "map[]"); the
 * omitempty ClusterVolume, Status and UsageData are fields all the same ({{.}} prints them).
 */
const VOLUME: StructShape = {
  typed: { ...maps(['Labels', 'Options', 'Status']), ...pointers(['ClusterVolume', 'UsageData']) },
  order: ['ClusterVolume', 'CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope', 'Status', 'UsageData'],
};

/** What a template sees of an inspected volume. */
export function volumeView(obj: object): Record<string, unknown> {
  return structView(obj, VOLUME) as Record<string, unknown>;
}

/** network.Inspect: IPAM (its Config entries), ConfigFrom and each of Containers are structs. */
const NETWORK: StructShape = {
  typed: maps(['Options', 'Labels', 'Containers']),
  nested: {
    IPAM: { shape: { typed: { ...maps(['Options']), ...slices(['Config']) }, nested: { Config: { shape: PLAIN, each: 'slice' } } } },
    ConfigFrom: { shape: PLAIN },
    Containers: { shape: PLAIN, each: 'map' },
  },
};

/** What a template sees of an inspected network. */
export function networkView(obj: object): Record<string, unknown> {
  return structView(obj, NETWORK) as Record<string, unknown>;
}
