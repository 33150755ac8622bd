// What a restart by the policy takes from the record anew instead of from the shim's first start
// (Docker's restarts read the container's configuration each time): the limits `update` may have
// changed while it ran, and the namespaces it joins (--pid/--ipc container:NAME) with their /dev/shm, whose paths name
// the other container's process of the first start: that process may be gone since, and its pid
// another process's (the host's namespaces, perhaps).
import { ContainerStore } from '../../store/index.js';
import { limitsOf } from '../container.js';
import { sharedNamespaces } from '../shared-namespaces.js';
import type { ShimConfig } from './state.js';

/** The spec of the next run; throws (StrataError) when a container it joins is not running. */
export async function restartSpec(config: ShimConfig): Promise<ShimConfig['spec']> {
  const containers = new ContainerStore(config.root);
  const record = await containers.get(config.id);
  return { ...config.spec, ...limitsOf(record), joinNamespaces: undefined, shmSource: undefined, ...(await sharedNamespaces({ containers, runcRoot: config.runcRoot }, record)) };
}
