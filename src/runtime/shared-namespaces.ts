// `--pid container:NAME` and `--ipc container:NAME`: another container's PID or IPC namespace,
// joined by path at each start (that container must be running then, as Docker requires).
// Unlike Docker's, the IPC namespace comes without the other's /dev/shm: strata mounts each
// container's /dev/shm inside its own mount namespace, which a bind mount cannot reach from
// another; System V IPC and POSIX message queues are shared, POSIX shared memory files not.
import { StrataError } from '../errors.js';
import type { ContainerRecord, ContainerStore } from '../store/index.js';
import { readRuntimeStatus } from './shim/state.js';
import type { RunSpec } from './types.js';

const KIND = { pid: 'PID', ipc: 'IPC' } as const;

/** The namespaces RECORD joins (undefined: none of another container's). */
export function joinedNamespaces(ctx: { containers: Pick<ContainerStore, 'paths'>; runcRoot: string }, record: ContainerRecord): RunSpec['joinNamespaces'] {
  const modes = { pid: record.HostConfig.PidMode as string | undefined, ipc: record.HostConfig.IpcMode as string | undefined };
  const out: NonNullable<RunSpec['joinNamespaces']> = {};
  for (const ns of ['pid', 'ipc'] as const) {
    const mode = modes[ns] ?? '';
    if (!mode.startsWith('container:')) continue;
    const id = mode.slice('container:'.length);
    const status = readRuntimeStatus(ctx.containers.paths(id).dir, ctx.runcRoot, id);
    const live = status?.pid && (status.state === 'running' || status.state === 'paused');
    if (!live) throw new StrataError(`cannot join ${KIND[ns]} of a non running container: ${id}`);
    out[ns] = `/proc/${status.pid}/ns/${ns}`;
  }
  return Object.keys(out).length ? out : undefined;
}
