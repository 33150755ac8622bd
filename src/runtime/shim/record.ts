// Mirrors a shim's status (shim.json) into the container's record (Docker's State object,
// NetworkSettings.Ports), so `ps`, `inspect` and `wait` read one place whether the container
// runs attached or under a shim.
import { type ContainerRecord, type ContainerStatus, ZERO_TIME } from '../../store/index.js';
import type { PortBinding } from '../ports.js';
import type { ShimStatus } from './state.js';

export type DockerPortMap = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

/** Docker's NetworkSettings.Ports: bound ports, and exposed ones as null. */
export function dockerPorts(bindings: PortBinding[], exposed: string[] = []): DockerPortMap {
  const out: DockerPortMap = {};
  for (const p of exposed) out[p.includes('/') ? p : `${p}/tcp`] = null;
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    out[key] = [...(out[key] ?? []), { HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) }];
  }
  return out;
}

/** The bindings back from Docker's map (for `port` and ps PORTS). */
export function bindingsOf(ports: DockerPortMap | undefined): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, list] of Object.entries(ports ?? {})) {
    const [port, proto] = key.split('/');
    for (const b of list ?? []) {
      out.push({ hostIp: b.HostIp === '0.0.0.0' ? '' : b.HostIp, hostPort: Number(b.HostPort), containerPort: Number(port), protocol: proto === 'udp' ? 'udp' : 'tcp' });
    }
  }
  return out;
}

function dockerStatus(state: ShimStatus['state']): ContainerStatus {
  if (state === 'starting') return 'running';
  return state;
}

/** Applies a shim status to a record in place. */
export function applyStatus(record: ContainerRecord, status: ShimStatus): void {
  const s = dockerStatus(status.state);
  const live = s === 'running' || s === 'paused' || s === 'restarting';
  record.State = {
    ...record.State,
    Status: s,
    Running: live,
    Paused: s === 'paused',
    Restarting: s === 'restarting',
    Pid: live ? (status.pid ?? 0) : 0,
    ExitCode: status.exitCode ?? (live ? 0 : record.State.ExitCode),
    Error: status.error ?? '',
    StartedAt: status.startedAt ?? record.State.StartedAt ?? ZERO_TIME,
    // Between two runs of a restart policy Docker shows when the last run ended.
    FinishedAt: live && s !== 'restarting' ? ZERO_TIME : (status.finishedAt ?? record.State.FinishedAt),
  };
  if (status.health) record.State.Health = status.health;
  record.RestartCount = status.restartCount;
  record.Strata.monitorPid = live ? status.shimPid : undefined;
  const exposed = Object.keys(record.Config.ExposedPorts ?? {});
  record.NetworkSettings = { ...record.NetworkSettings, Ports: dockerPorts(status.ports, exposed) };
}
