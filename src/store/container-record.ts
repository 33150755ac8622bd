// A container's record as Docker's inspect shows it (config.json in the container's dir), and
// the values a new one starts from.
import type { ContainerConfig, Digest } from './types.js';
import { randomBytes } from '../random.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** Docker's State object. Times are RFC 3339; "0001-01-01T00:00:00Z" means never. */
export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Docker's health of a container with a health check (the runtime's probes write it). */
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
}

/** A bind or tmpfs mount as recorded (sources already resolved to absolute host paths). */
export interface ContainerMount {
  Type: 'bind' | 'tmpfs' | 'volume';
  Source: string;
  Destination: string;
  RW: boolean;
  Name?: string;
}

/** The container's configuration, Docker's Config object (the image config plus the user's flags). */
export interface ContainerRunConfig extends Omit<ContainerConfig, 'Volumes'> {
  Hostname: string;
  Domainname?: string;
  Volumes?: Record<string, object> | null;
  Image: string;
  Tty: boolean;
  OpenStdin: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  StdinOnce: boolean;
  /** `--stop-timeout`: seconds `stop` waits before SIGKILL. */
  StopTimeout?: number;
}

export interface HostConfig {
  Binds: string[];
  Memory: number;
  NetworkMode: string;
  AutoRemove: boolean;
  ReadonlyRootfs: boolean;
  GroupAdd: string[];
  /** Later issues add port bindings, restart policy, volumes...; unknown keys are kept. */
  [key: string]: unknown;
}

/** A container as `inspect` shows it (Docker's shape), plus strata's own bookkeeping. */
export interface ContainerRecord {
  Id: string;
  /** With Docker's leading slash: "/name". */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** The image ID. */
  Image: Digest;
  Config: ContainerRunConfig;
  HostConfig: HostConfig;
  Mounts: ContainerMount[];
  RestartCount: number;
  /** STORAGE_DRIVER for records made since; "overlay" in older ones (inspect shows STORAGE_DRIVER for all). */
  Driver: string;
  Platform: 'linux';
  /** Docker's: the networks it is connected to (NetworkSettings.Networks, addresses filled in while it runs) and its published ports. */
  NetworkSettings?: { Networks?: Record<string, EndpointSettings>; Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null>; [key: string]: unknown };
  /** strata's own: the image's layers (bottom → top) and the process watching the container. */
  Strata: { layers: Digest[]; monitorPid?: number; [key: string]: unknown };
}

/** Docker's EndpointSettings: one network of a container (what it asked for; addresses while it runs). */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address: string } | null;
  Links: null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The storage driver strata's layers and container roots are, by Docker's name: layer snapshots
 * stacked as overlayfs lower dirs under a container's upper and work dirs, as Docker's overlay2
 * (inspect's Driver and GraphDriver.Name, info's Storage Driver).
 */
export const STORAGE_DRIVER = 'overlay2';

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function initialState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}
